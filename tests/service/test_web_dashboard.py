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
        assert f"{count} {outcome}" in credit
    assert "Limited risk" in credit and "badge ok" in credit and "active" in credit
    assert "Finance" in credit and "Approves or declines" in credit  # keys in words
    assert ">finance<" not in credit and "binary" not in credit
    tickets = _row(page.text, "Ticket routing")
    assert "Minimal risk" in tickets and ">0</td>" in tickets
    assert "I earn more than you think" in page.text
    assert "1 open concern " in page.text
    assert "Objection to automated decisions for customer" in page.text and "M-3" in page.text
    assert "overdue" in page.text
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
        said = re.search(
            r"The ledger verifies: ([\d,]+) entr(?:y|ies) in (\d+) (chains?), (\d+) signed "
            r"(checkpoints?)\.",
            fragment.text,
        )
        assert said, fragment.text
        assert (said[2] == "1") == (said[3] == "chain")  # one chain, two chains
        assert (said[4] == "1") == (said[5] == "checkpoint")
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


# --- seeded review cases ----------------------------------------------------------------------


def _with_model(running: Service, model: bytes) -> dict[str, Any]:
    """A high-risk credit system with a LightGBM model, and one real decline held for review."""
    running.register("credit", oversight={"review_adverse": True})
    assert running.upload("credit", model, format="lightgbm").status_code == 201
    real = running.decide(
        "credit", {"subject_id": "cust-1", "features": {"income": 10.0, "housing": "own"}}
    )
    assert real.status_code == 201 and real.json()["review"]["status"] == "pending_review"
    return dict(real.json())


def _seeded_entries(running: Service) -> int:
    with state_of(running.app).sessions() as session:
        entries = session.scalars(select(LedgerEntry).where(LedgerEntry.kind == "seeded_case"))
        return len(list(entries))


def _queue_ids(running: Service) -> set[str]:
    queue = running.client.get("/v1/reviews", headers=running.headers["reviewer"])
    assert queue.status_code == 200, queue.text
    return {item["decision_id"] for item in queue.json()["items"]}


def test_an_officer_adds_a_seeded_case_that_reviewers_cannot_tell_from_a_real_one(
    service: Callable[..., Service], lightgbm_bytes: bytes
) -> None:
    running = service()
    real = _with_model(running, lightgbm_bytes)
    with viewing_as(running.client, _officer(running)) as client:
        page = client.get("/dashboard/systems/credit").text
        # The form follows the spec: a number input, the declared categories, the outcomes.
        assert re.search(r'<label[^>]* for="(seed-\d+)">Income</label>\s*<input[^>]* id="\1" '
                         r'name="feature.income" type="number"', page)  # fmt: skip
        housing = re.search(r'name="feature.housing" required>(.*?)</select>', page, re.S)
        assert housing is not None
        assert re.findall(r'<option value="(\w+)"', housing.group(1)) == ["own", "rent"]
        known = re.search(r'name="known_outcome" required>(.*?)</select>', page, re.S)
        assert known is not None
        assert re.findall(r'<option value="(\w+)"', known.group(1)) == ["approved", "declined"]
        assert "No seeded cases yet." in page
        form = {"csrf": csrf_of(page), "feature.income": "12", "feature.housing": "own"}
        added = client.post(
            "/dashboard/systems/credit/seeded-cases",
            data={**form, "known_outcome": "approved"},
            follow_redirects=False,
        )
        assert added.status_code == 303, added.text
        case_id = added.headers["location"].split("seeded=")[1].split("#")[0]
        after = client.get(added.headers["location"]).text
    assert f"Seeded case <strong>{case_id}</strong> is in the review queue" in after
    assert "1 seeded case; 0 decided by reviewers." in after

    # In the console it is one more case held for review, worded as the real one is.
    assert _queue_ids(running) == {real["id"], case_id}
    with viewing_as(running.client, token_of(running.headers["reviewer"])) as client:
        queue = client.get("/console").text
        real_page = client.get(f"/console/cases/{real['id']}").text
        seeded_page = client.get(f"/console/cases/{case_id}").text
        assert f'href="/console/cases/{case_id}"' in queue
        assert "seeded" not in queue.lower() and "seeded" not in seeded_page.lower()
        for text in ("adverse outcome of a high-risk system", "Declined", "Confirm"):
            assert (text in real_page) == (text in seeded_page), text
        decided = client.post(
            f"/console/cases/{case_id}/decision",
            data={"csrf": csrf_of(seeded_page), "action": "confirm"},
            follow_redirects=False,
        )
        assert decided.status_code == 303, decided.text
    # Never a decision about a customer.
    listed = running.client.get("/v1/decisions", headers=running.headers["officer"]).json()
    assert {d["id"] for d in listed["items"]} == {real["id"]}
    with viewing_as(running.client, _officer(running)) as client:
        tally = client.get("/dashboard/systems/credit").text
    # The reviewer confirmed the model's decline; the known answer was "approved".
    assert "1 seeded case; 1 decided by reviewers, 0 of them with the known outcome (0%)." in tally
    assert _seeded_entries(running) == 1


def test_a_seeded_case_with_bad_input_shows_the_form_again_and_adds_nothing(
    service: Callable[..., Service], lightgbm_bytes: bytes
) -> None:
    running = service()
    real = _with_model(running, lightgbm_bytes)
    url = "/dashboard/systems/credit/seeded-cases"
    with viewing_as(running.client, _officer(running)) as client:
        csrf = csrf_of(client.get("/dashboard/systems/credit").text)
        good = {"csrf": csrf, "feature.income": "12", "feature.housing": "own"}
        not_a_number = client.post(
            url, data={**good, "feature.income": "lots", "known_outcome": "approved"}
        )
        unknown_category = client.post(
            url, data={**good, "feature.housing": "castle", "known_outcome": "approved"}
        )
        no_outcome = client.post(url, data=good)
        wrong_outcome = client.post(url, data={**good, "known_outcome": "maybe"})
        missing = client.post(url, data={"csrf": csrf, "known_outcome": "approved"})
        no_system = client.post(
            "/dashboard/systems/nope/seeded-cases", data={**good, "known_outcome": "approved"}
        )
    for answer, words in (
        (not_a_number, "must be a number, not &#39;lots&#39;"),
        (unknown_category, "must be one of"),
        (no_outcome, "choose the known correct outcome"),
        (wrong_outcome, "outcome must be one of"),
        (missing, "enter a value for income"),
    ):
        assert answer.status_code == 422, answer.text
        assert "Nothing was added:" in answer.text and words in answer.text, words
    # What the officer entered is there to correct.
    assert 'name="feature.income" type="number" step="any" value="lots"' in not_a_number.text
    assert '<option value="approved" selected>' in unknown_category.text
    assert no_system.status_code == 404
    assert _queue_ids(running) == {real["id"]}
    assert _seeded_entries(running) == 0


def test_only_officers_add_seeded_cases_and_only_to_a_system_with_a_model(
    service: Callable[..., Service],
) -> None:
    running = service()
    running.register("credit")
    body = {"feature.income": "12", "feature.housing": "own", "known_outcome": "approved"}
    with viewing_as(running.client, _officer(running)) as client:
        page = client.get("/dashboard/systems/credit").text
        refused = client.post(
            "/dashboard/systems/credit/seeded-cases", data={**body, "csrf": csrf_of(page)}
        )
    assert "register one first" in page and 'name="known_outcome"' not in page
    assert refused.status_code == 422 and "no registered model" in refused.text
    reviewer = token_of(running.headers["reviewer"])
    with viewing_as(running.client, reviewer) as client:
        csrf = csrf_of(client.get("/console").text)
        forbidden = client.post(
            "/dashboard/systems/credit/seeded-cases", data={**body, "csrf": csrf}
        )
    assert forbidden.status_code == 403
    assert _seeded_entries(running) == 0
