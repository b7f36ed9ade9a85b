"""The officer dashboard: inventory and volumes, review statistics, concerns, rights requests,
the ledger check, a system's fairness snapshot, and the kill switch — in pages."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from service_testing import Service
from sqlalchemy import select
from web_testing import csrf_of, customer_token, token_of, viewing_as

from ethica.service.app import state_of
from ethica.service.db import unit_of_work, utcnow
from ethica.service.ledger.tables import LedgerEntry
from ethica.service.subjects.service import open_request

#: Approvals per group out of GROUP_SIZE: a gap the audit must call material and significant.
APPROVED = {"F": 18, "M": 42}
GROUP_SIZE = 60


def _decide(running: Service, subject: str, sex: str, score: float) -> dict[str, Any]:
    body = {
        "subject_id": subject,
        "features": {"income": 50.0, "housing": "own"},
        "protected": {"sex": sex},
        "score": score,
    }
    made = running.decide("credit", body)
    assert made.status_code == 201, made.text
    return dict(made.json())


def _scene(running: Service) -> list[dict[str, Any]]:
    """A limited-risk credit system scored by the caller, with a gap between F and M."""
    running.register("credit", risk_tier="limited")
    made = []
    for sex, approved in APPROVED.items():
        for i in range(GROUP_SIZE):
            score = 0.9 if i < approved else 0.1
            made.append(_decide(running, f"{sex}-{i}", sex, score))
    return made


def _officer(running: Service) -> str:
    return token_of(running.headers["officer"])


def _row(page: str, header: str) -> str:
    """The table row whose row header is ``header`` (first one)."""
    found = re.search(rf'<th scope="row">(?:<a [^>]*>)?{re.escape(header)}.*?</tr>', page, re.S)
    assert found is not None, f"no row {header!r} on the page"
    return found.group(0)


def test_the_landing_page_shows_systems_volumes_reviews_concerns_and_requests(
    service: Callable[..., Service],
) -> None:
    running = service()
    made = _scene(running)
    running.register("tickets", name="Ticket routing", risk_tier="minimal")
    secret = running.settings.app.secret_key.get_secret_value()
    concern = running.client.post(
        f"/v1/me/decisions/{made[0]['id']}/concerns",
        json={"text": "I earn more than you think"},
        headers={"Authorization": f"Bearer {customer_token('F-0', secret=secret)}"},
    )
    assert concern.status_code == 201, concern.text
    with unit_of_work(state_of(running.app).sessions) as session:
        open_request(
            session,
            kind="objection",
            subject_id="M-3",
            requested_by="customer",
            now=utcnow() - timedelta(days=31),
        )

    with viewing_as(running.client, _officer(running)) as client:
        page = client.get("/dashboard")
    assert page.status_code == 200, page.text
    assert page.text.count("<h1>") == 1
    credit = _row(page.text, "Credit limit")
    outcomes = Counter(d["outcome"] for d in made)
    assert f">{len(made)}</td>" in credit
    for outcome, count in outcomes.items():
        assert f"{outcome}: {count}" in credit
    assert "limited" in credit and "badge ok" in credit and "active" in credit
    tickets = _row(page.text, "Ticket routing")
    assert "minimal" in tickets and ">0</td>" in tickets
    assert "I earn more than you think" in page.text
    assert "1 open concern " in page.text
    assert "objection for M-3" in page.text and "overdue" in page.text
    assert "Open cases</dt><dd>0</dd>" in page.text
    assert 'hx-get="/dashboard/ledger"' in page.text


def test_review_statistics_count_held_cases_and_show_each_reviewer(
    service: Callable[..., Service],
) -> None:
    running = service()
    running.register("credit", oversight={"review_adverse": True})  # declines wait for a person
    held = [_decide(running, f"s-{i}", "F", 0.1) for i in range(3)]
    assert {d["review"]["status"] for d in held} == {"pending_review"}
    reviewer = running.headers["reviewer"]
    first = held[0]["id"]
    assert running.client.post(f"/v1/reviews/{first}/claim", headers=reviewer).status_code < 300
    decided = running.client.post(
        f"/v1/reviews/{first}/decision", json={"action": "confirm"}, headers=reviewer
    )
    assert decided.status_code < 300, decided.text

    with viewing_as(running.client, _officer(running)) as client:
        page = client.get("/dashboard").text
    assert "Open cases</dt><dd>2</dd>" in page
    row = _row(page, "Reviewer")
    assert re.search(r'<td class="num">1</td>\s*<td class="num">100%</td>', row), row
    assert "no warning" in row


def test_a_reviewer_or_customer_cannot_open_the_dashboard(service: Callable[..., Service]) -> None:
    running = service()
    with viewing_as(running.client, token_of(running.headers["reviewer"])) as client:
        assert client.get("/dashboard").status_code == 403
    with viewing_as(running.client, None) as client:
        answer = client.get("/dashboard", follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login")


def test_the_fairness_snapshot_shows_each_groups_rate_gap_and_chart(
    service: Callable[..., Service],
) -> None:
    running = service()
    made = _scene(running)
    with viewing_as(running.client, _officer(running)) as client:
        page = client.get("/dashboard/systems/credit")
        week = client.get("/dashboard/systems/credit", params={"days": 7})
        wrong = client.get("/dashboard/systems/credit", params={"days": 5})
        missing = client.get("/dashboard/systems/nope")
    assert page.status_code == 200, page.text
    overall = sum(APPROVED.values()) / len(made)
    assert f"{len(made)} decisions in the last 30 days" in page.text
    for group, approved in APPROVED.items():
        row = _row(page.text, group)
        rate = approved / GROUP_SIZE
        assert f"{100 * rate:.1f}%" in row
        assert f"{100 * (rate - overall):+.1f}" in row  # difference to overall, in points
        assert f"{rate / overall:.2f}" in row
        assert "material and significant" in row
    assert "<svg" in page.text and 'role="img"' in page.text
    assert "lower" in page.text or "higher" in page.text  # the findings, in words
    assert week.status_code == 200 and f"{len(made)} decisions in the last 7 days" in week.text
    assert wrong.status_code == 422 and "7, 30, 90" in wrong.text
    assert missing.status_code == 404 and "no AI system &#39;nope&#39;" in missing.text


def test_a_system_without_decisions_says_there_is_nothing_to_audit(
    service: Callable[..., Service],
) -> None:
    running = service()
    running.register("credit")
    with viewing_as(running.client, _officer(running)) as client:
        page = client.get("/dashboard/systems/credit")
    assert page.status_code == 200, page.text
    assert "No fairness snapshot for the last 30 days" in page.text
    assert "Suspend this system" in page.text


def test_the_kill_switch_suspends_with_a_reason_and_the_next_decision_waits_for_a_person(
    service: Callable[..., Service],
) -> None:
    running = service()
    running.register("credit", risk_tier="limited")
    assert _decide(running, "s-1", "F", 0.9)["review"]["status"] == "automatic"
    with viewing_as(running.client, _officer(running)) as client:
        csrf = csrf_of(client.get("/dashboard/systems/credit").text)
        blank = client.post(
            "/dashboard/systems/credit/suspension", data={"csrf": csrf, "reason": "  "}
        )
        forged = client.post("/dashboard/systems/credit/suspension", data={"reason": "no token"})
        done = client.post(
            "/dashboard/systems/credit/suspension",
            data={"csrf": csrf, "reason": "approval rate drifted"},
            follow_redirects=False,
        )
        page = client.get(done.headers["location"])
        again = client.post(
            "/dashboard/systems/credit/suspension", data={"csrf": csrf, "reason": "twice"}
        )
    assert blank.status_code == 422 and "needs a reason" in blank.text
    assert forged.status_code == 403
    assert done.status_code == 303
    assert done.headers["location"] == "/dashboard/systems/credit?done=suspension"
    assert again.status_code == 409 and "already suspended" in again.text

    with state_of(running.app).sessions() as session:
        entry = session.scalars(
            select(LedgerEntry).where(
                LedgerEntry.chain == "credit", LedgerEntry.kind == "suspension"
            )
        ).one()
    assert 'badge bad">suspended' in page.text
    assert f"credit #{entry.sequence}" in page.text and entry.hash[:16] in page.text
    assert "approval rate drifted" in page.text and "by Officer" in page.text
    assert "Resume this system" in page.text

    held = _decide(running, "s-2", "F", 0.9)
    assert held["review"]["status"] == "pending_review" and held["outcome"] == "pending"

    with viewing_as(running.client, _officer(running)) as client:
        resumed = client.post(
            "/dashboard/systems/credit/resumption",
            data={"csrf": csrf, "reason": "retrained and re-audited"},
        )
    assert resumed.status_code == 200 and "The system is active again" in resumed.text
    assert _decide(running, "s-3", "F", 0.9)["review"]["status"] == "automatic"


def test_the_ledger_check_says_ok_then_names_the_first_broken_entry(
    service: Callable[..., Service],
) -> None:
    running = service()
    made = _scene(running)
    with viewing_as(running.client, _officer(running)) as client:
        fragment = client.get("/dashboard/ledger", headers={"HX-Request": "true"})
        assert fragment.status_code == 200
        assert "<html" not in fragment.text and "The ledger verifies" in fragment.text
        decision = made[5]
        with unit_of_work(state_of(running.app).sessions) as session:
            entry = session.get(
                LedgerEntry, (decision["ledger"]["chain"], decision["ledger"]["sequence"])
            )
            assert entry is not None
            entry.public = entry.public.replace(decision["id"], "x" * len(decision["id"]))
        page = client.get("/dashboard/ledger")
    assert page.status_code == 200 and "<h1>Ledger verification</h1>" in page.text
    assert "does not verify" in page.text
    assert f"{decision['ledger']['chain']}#{decision['ledger']['sequence']} edited" in page.text


def test_an_officer_answers_a_concern_and_it_leaves_the_open_list(
    service: Callable[..., Service],
) -> None:
    running = service()
    made = _scene(running)
    secret = running.settings.app.secret_key.get_secret_value()
    reported = running.client.post(
        f"/v1/me/decisions/{made[1]['id']}/concerns",
        json={"text": "Why was I declined?"},
        headers={"Authorization": f"Bearer {customer_token('F-1', secret=secret)}"},
    )
    assert reported.status_code == 201, reported.text
    concern_id = reported.json()["id"]
    with viewing_as(running.client, _officer(running)) as client:
        listed = client.get("/dashboard/concerns")
        assert "Why was I declined?" in listed.text
        csrf = csrf_of(listed.text)
        path = f"/dashboard/concerns/{concern_id}/resolution"
        empty = client.post(path, data={"csrf": csrf, "response": ""})
        answered = client.post(
            path, data={"csrf": csrf, "response": "Your income was checked again."}
        )
        twice = client.post(path, data={"csrf": csrf, "response": "again"})
        resolved = client.get("/dashboard/concerns", params={"status": "resolved"})
    assert empty.status_code == 422 and "needs some words" in empty.text
    assert answered.status_code == 200 and "Concern resolved" in answered.text
    assert "Why was I declined?" not in answered.text  # no longer open
    assert twice.status_code == 409
    assert "Your income was checked again." in resolved.text and "by Officer" in resolved.text
    mine = running.client.get(
        "/v1/me/concerns",
        headers={"Authorization": f"Bearer {customer_token('F-1', secret=secret)}"},
    )
    assert mine.json()["items"][0]["response"] == "Your income was checked again."
