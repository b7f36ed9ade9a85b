"""Cases no model decided, on SQLite and PostgreSQL (issue 16, items 2 and 5).

A suspended system's fallback and a customer's objection to automated decisions leave a person
to decide: the customer and the reviewer read "pending", the fallback is named as the system's,
a person decides directly (no override reasons that do not fit), and such cases never count in
a reviewer's agreement with a model.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

from review_testing import customer, mine, override, step
from review_testing import reviewer as new_reviewer
from service_testing import Service, credit_spec
from web_testing import token_of, viewing_as

from ethica.governance import parse_spec
from ethica.governance._transparency import MEASURES
from ethica.service.decisions.record import PERSON_DECIDED_STATUSES

APPLICANT = {"subject_id": "cust-1", "features": {"income": 95.0, "housing": "own"}, "score": 0.9}


def _suspend(running: Service) -> None:
    done = running.client.post(
        "/v1/systems/credit/suspension",
        json={"reason": "drift alert"},
        headers=running.headers["officer"],
    )
    assert done.status_code == 201, done.text


def _case(running: Service, decision_id: str) -> dict[str, Any]:
    got = running.client.get(f"/v1/reviews/{decision_id}", headers=running.headers["reviewer"])
    assert got.status_code == 200, got.text
    return dict(got.json())


def _stats(running: Service) -> dict[str, Any]:
    got = running.client.get("/v1/reviews/stats", headers=running.headers["reviewer"])
    assert got.status_code == 200, got.text
    (mine_,) = got.json()["items"]
    return dict(mine_)


def test_a_suspended_systems_fallback_is_pending_until_a_person_decides(
    service: Callable[..., Service],
) -> None:
    running = service()
    running.register("credit", risk_tier="limited", fallback={"outcome": "declined"})
    _suspend(running)
    made = running.decide("credit", APPLICANT)  # a strong applicant
    assert made.status_code == 201, made.text
    decision = made.json()
    assert (decision["outcome"], decision["scored_by"]) == ("declined", "fallback")

    seen = mine(running, "cust-1", decision["id"])
    assert (seen["outcome"], seen["final"], seen["score"]) == ("pending", False, None)
    listed = running.client.get("/v1/me/decisions", headers=customer(running, "cust-1")).json()
    assert [d["outcome"] for d in listed["items"]] == ["pending"]

    case = _case(running, decision["id"])
    assert (case["person_decides"], case["scored_by"], case["blind"]) == (True, "fallback", False)
    with viewing_as(running.client, token_of(running.headers["officer"])) as client:
        officer = html.unescape(client.get(f"/dashboard/decisions/{decision['id']}").text)
    assert "Pending — a person will decide (the system's fallback: Declined)" in officer
    assert "The system's declared fallback (no model decided)" in officer
    reviewer = running.headers["reviewer"]
    confirm = step(running, decision["id"], "decision", reviewer, {"action": "confirm"})
    assert confirm.status_code == 422 and "action 'decide'" in confirm.text
    wrong = step(
        running, decision["id"], "decision", reviewer, {"action": "decide", "outcome": "maybe"}
    )
    assert wrong.status_code == 422
    decided = step(
        running, decision["id"], "decision", reviewer, {"action": "decide", "outcome": "approved"}
    )
    assert decided.status_code == 201, decided.text
    assert (decided.json()["review_status"], decided.json()["final"]) == ("decided", True)
    seen = mine(running, "cust-1", decision["id"])
    assert (seen["outcome"], seen["final"]) == ("approved", True)
    stats = _stats(running)
    assert (stats["cases_decided"], stats["decided_directly"]) == (0, 1)
    assert stats["agreement_rate"] is None


def test_an_objection_case_is_decided_directly_and_never_counts_as_agreement(
    service: Callable[..., Service],
) -> None:
    running = service()
    running.register(
        "credit", risk_tier="limited", oversight={"review_adverse": True, "blind_first": True}
    )
    objected = running.client.post(
        "/v1/me/objections",
        json={"kind": "automated_decision"},
        headers=customer(running, "cust-1"),
    )
    assert objected.status_code in (200, 201), objected.text
    made = running.decide("credit", APPLICANT)
    assert made.status_code == 201, made.text
    decision = made.json()
    assert (decision["outcome"], decision["scored_by"]) == ("pending", "none")

    case = _case(running, decision["id"])
    # No model outcome to hide, to confirm or to agree with.
    assert (case["person_decides"], case["blind"]) == (True, False)
    reviewer = running.headers["reviewer"]
    judged = step(running, decision["id"], "judgement", reviewer, {"outcome": "approved"})
    assert judged.status_code == 409 and "decide the case directly" in judged.text
    confirm = step(running, decision["id"], "decision", reviewer, {"action": "confirm"})
    assert confirm.status_code == 422
    forced = step(running, decision["id"], "decision", reviewer, override())
    assert forced.status_code == 422 and "action 'decide'" in forced.text
    decided = step(
        running,
        decision["id"],
        "decision",
        reviewer,
        {"action": "decide", "outcome": "declined", "comment": "Income too low for the limit."},
    )
    assert decided.status_code == 201, decided.text
    assert decided.json()["review_status"] == "decided"
    assert mine(running, "cust-1", decision["id"])["outcome"] == "declined"
    stats = _stats(running)
    assert (stats["cases_decided"], stats["decided_directly"]) == (0, 1)
    assert (stats["agreement_rate"], stats["blind_judgements"]) == (None, 0)

    # A model decision judged blind-first still counts, and agrees.
    other = running.decide(
        "credit", {"subject_id": "cust-2", "features": {"income": 5.0}, "score": 0.1}
    ).json()
    assert (
        step(running, other["id"], "judgement", reviewer, {"outcome": "declined"}).status_code
        == 201
    )
    assert (
        step(running, other["id"], "decision", reviewer, {"action": "confirm"}).status_code == 201
    )
    stats = _stats(running)
    assert (stats["cases_decided"], stats["agreement_rate"], stats["decided_directly"]) == (
        1,
        1.0,
        1,
    )
    assert stats["blind_agreement_rate"] == 1.0


def test_the_transparency_report_counts_every_review_where_a_person_decided() -> None:

    counted = MEASURES["reviews"].categories(parse_spec({"id": "credit", **credit_spec()}))
    assert set(counted) == PERSON_DECIDED_STATUSES


def test_a_decision_without_a_notice_says_where_to_turn_before_and_after_its_appeal(
    service: Callable[..., Service],
) -> None:
    running = service()
    running.register("credit", risk_tier="limited")
    objected = running.client.post(
        "/v1/me/objections",
        json={"kind": "automated_decision"},
        headers=customer(running, "cust-1"),
    )
    assert objected.status_code in (200, 201), objected.text
    made = running.decide("credit", APPLICANT).json()
    first, second = running.headers["reviewer"], new_reviewer(running, "second")
    decide = {"action": "decide", "outcome": "declined", "comment": "Income too low."}
    assert step(running, made["id"], "decision", first, decide).status_code == 201

    def notice_page() -> str:
        with viewing_as(running.client, token_of(customer(running, "cust-1"))) as client:
            page = client.get(f"/portal/decisions/{made['id']}/notice")
        assert page.status_code == 200, page.text
        return " ".join(html.unescape(page.text).split())

    said = "The decision's page says who decided and what data was used"
    before = notice_page()
    assert "Credit limit: no formal notice" in before
    assert f"{said}; you can still ask for a person to review it there." in before
    appealed = running.client.post(
        f"/v1/me/decisions/{made['id']}/appeal",
        json={"statement": "My income rose last month."},
        headers=customer(running, "cust-1"),
    )
    assert appealed.status_code == 201, appealed.text
    again = {**decide, "comment": "Still too low."}
    assert step(running, made["id"], "decision", second, again).status_code == 201
    after = notice_page()
    assert (
        f"{said}; a person has already decided your appeal, and if you still disagree, you can "
        "report a concern there." in after
    )
    assert "ask for a person" not in after
