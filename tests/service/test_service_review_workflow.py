"""The review workflow's state machine, on SQLite and PostgreSQL (issue 16, items 1-5 and 9).

propose -> approve; propose -> reject (with reason) -> back in the queue with the proposal
recorded -> re-propose; appeal -> a different reviewer only; appeals first; the customer never
sees a proposal; the notice follows the final human decision; a case no model decided (an
objection, a suspended system) is decided directly by a person and never counts as agreement.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from review_testing import customer, mine, override, queue, reviewer, step
from service_testing import Service
from sqlalchemy import select

from ethica.service.app import state_of
from ethica.service.ledger.tables import LedgerEntry
from ethica.service.reviews.tables import Review

SYSTEM = "credit"


@pytest.fixture
def bank(service: Callable[..., Service], lightgbm_bytes: bytes) -> Service:
    """A high-risk credit system with its model, holding every adverse decision for review."""
    running = service()
    running.register(SYSTEM, oversight={"review_adverse": True})
    assert running.upload(SYSTEM, lightgbm_bytes, format="lightgbm").status_code == 201
    return running


def _declined(running: Service, subject: str = "cust-1") -> dict[str, Any]:
    made = running.decide(SYSTEM, {"subject_id": subject, "features": {"income": 5.0}})
    assert made.status_code == 201, made.text
    body = dict(made.json())
    assert (body["outcome"], body["review"]["status"]) == ("declined", "pending_review"), body
    assert body["explanation"]["reasons"], body  # the model's reasons for declining
    return body


def _steps(running: Service, decision_id: str) -> list[tuple[str, str, str]]:
    with state_of(running.app).sessions() as session:
        rows = session.scalars(
            select(Review).where(Review.decision_id == decision_id).order_by(Review.created_at)
        )
        return [(r.action, r.status_after, r.outcome) for r in rows]


def _review_entries(running: Service, decision_id: str) -> list[dict[str, Any]]:
    with state_of(running.app).sessions() as session:
        rows = session.scalars(
            select(LedgerEntry).where(LedgerEntry.kind == "review").order_by(LedgerEntry.sequence)
        )
        found = [json.loads(r.public) for r in rows]
    return [e for e in found if e["decision_id"] == decision_id]


#: The rights of a notice before any appeal (an appeal is asking for a person, with one's view).
ASK_FOR_A_PERSON = (
    "You may ask for a person to review this decision and give your point of view, on this "
    "decision's page in the customer portal."
)
SEE_THE_DATA = (
    "You may see the information used about you on this decision's page in the customer portal, "
    "and, if any of it is wrong, ask there for it to be corrected by reporting a concern."
)


def _rights(notice: str) -> list[str]:
    """The rights a text notice lists, its last list."""
    heading, *items = notice.rstrip("\n").rpartition("\n\n")[2].split("\n")
    assert heading == "Your rights:", heading
    return [item.removeprefix("  - ") for item in items]


def _notice(running: Service, subject: str, decision_id: str) -> Any:
    return running.client.get(
        f"/v1/me/decisions/{decision_id}/notice", headers=customer(running, subject)
    )


def test_propose_then_approve_the_notice_says_a_person_decided_without_decline_reasons(
    bank: Service,
) -> None:
    made = _declined(bank)
    first, second = bank.headers["reviewer"], reviewer(bank, "second")
    reasons = [r["text"] for r in made["explanation"]["reasons"]]

    held = _notice(bank, "cust-1", made["id"])
    assert held.status_code == 409 and "once a person has decided" in held.text

    proposed = step(bank, made["id"], "decision", first, override())
    assert proposed.status_code == 201, proposed.text
    assert proposed.json()["review_status"] == "awaiting_second_approval"
    # The customer never sees a proposal: their decision is unchanged and not final.
    seen = mine(bank, "cust-1", made["id"])
    assert (seen["outcome"], seen["final"]) == ("declined", False)
    assert "approved" not in json.dumps(seen)
    assert _notice(bank, "cust-1", made["id"]).status_code == 409

    approved = step(bank, made["id"], "approval", second, {"comment": "Agreed."})
    assert approved.status_code == 201, approved.text
    seen = mine(bank, "cust-1", made["id"])
    assert (seen["outcome"], seen["final"]) == ("approved", True)

    notice = _notice(bank, "cust-1", made["id"])
    assert notice.status_code == 200, notice.text
    text = notice.text
    assert "Decision: approved." in text
    assert "A person reviewed the automated system's recommendation" in text
    assert "made with an automated system" not in text
    assert not any(reason in text for reason in reasons)
    assert "would have" not in text and "principal reasons" not in text
    assert _rights(text) == [ASK_FOR_A_PERSON, SEE_THE_DATA]  # the rights stay


def test_a_confirmed_decline_keeps_its_reasons_and_says_a_person_confirmed_it(
    bank: Service,
) -> None:
    made = _declined(bank)
    confirmed = step(bank, made["id"], "decision", bank.headers["reviewer"], {"action": "confirm"})
    assert confirmed.status_code == 201, confirmed.text
    notice = _notice(bank, "cust-1", made["id"])
    assert notice.status_code == 200, notice.text
    assert "A person reviewed this decision and confirmed it." in notice.text
    assert made["explanation"]["reasons"][0]["text"] in notice.text


def test_after_a_decided_appeal_the_notice_no_longer_offers_a_review_by_a_person(
    bank: Service,
) -> None:
    made = _declined(bank)
    first, second = bank.headers["reviewer"], reviewer(bank, "second")
    assert step(bank, made["id"], "decision", first, {"action": "confirm"}).status_code == 201
    before = _notice(bank, "cust-1", made["id"]).text
    assert _rights(before) == [ASK_FOR_A_PERSON, SEE_THE_DATA]
    appealed = bank.client.post(
        f"/v1/me/decisions/{made['id']}/appeal",
        json={"statement": "My income rose last month."},
        headers=customer(bank, "cust-1"),
    )
    assert appealed.status_code == 201, appealed.text
    during = _notice(bank, "cust-1", made["id"])
    assert during.status_code == 409  # with a person again: no notice that could contradict theirs
    assert "its notice is given once a person has decided" in during.text
    assert step(bank, made["id"], "decision", second, {"action": "confirm"}).status_code == 201

    after = _notice(bank, "cust-1", made["id"]).text
    assert "A person reviewed this decision and confirmed it." in after
    assert _rights(after) == [
        "A person has already reviewed this decision on your appeal. If you still disagree, you "
        "may report a concern about it on this decision's page in the customer portal; you will "
        "see our answer there.",
        SEE_THE_DATA,
    ]
    assert "ask for a person" not in after and "point of view" not in after


def test_propose_reject_with_a_reason_back_in_the_queue_then_propose_again(
    bank: Service,
) -> None:
    made = _declined(bank)
    first, second = bank.headers["reviewer"], reviewer(bank, "second")
    assert step(bank, made["id"], "decision", first, override()).status_code == 201

    own = step(bank, made["id"], "rejection", first, {"reason": "changed my mind"})
    assert own.status_code == 409 and "different reviewer" in own.text
    blank = step(bank, made["id"], "rejection", second, {"reason": "   "})
    assert blank.status_code == 422 and "reason" in blank.text
    assert step(bank, made["id"], "rejection", second, {}).status_code == 422

    rejected = step(bank, made["id"], "rejection", second, {"reason": "The payslip is unsigned."})
    assert rejected.status_code == 201, rejected.text
    body = rejected.json()
    assert (body["action"], body["review_status"], body["final"]) == (
        "reject",
        "pending_review",
        False,
    )
    assert (body["outcome"], body["comment"]) == ("declined", "The payslip is unsigned.")
    # Back in the queue, open to anyone, the decision unchanged; the proposal stays recorded.
    (case,) = queue(bank, first)
    assert (case["review_status"], case["proposed_outcome"]) == ("pending_review", None)
    assert mine(bank, "cust-1", made["id"])["outcome"] == "declined"
    assert _steps(bank, made["id"]) == [
        ("override", "awaiting_second_approval", "approved"),
        ("reject", "pending_review", "declined"),
    ]
    entries = _review_entries(bank, made["id"])
    assert [(e["action"], e["status"]) for e in entries] == [
        ("override", "awaiting_second_approval"),
        ("reject", "pending_review"),
    ]
    assert step(bank, made["id"], "approval", second, {}).status_code == 409  # nothing to approve

    # The second reviewer proposes anew; the first, a different person, approves it.
    again = step(bank, made["id"], "decision", second, override(comment="Signed payslip now."))
    assert again.status_code == 201, again.text
    assert again.json()["review_status"] == "awaiting_second_approval"
    approved = step(bank, made["id"], "approval", first, {})
    assert approved.status_code == 201, approved.text
    assert mine(bank, "cust-1", made["id"])["outcome"] == "approved"
    assert [s[0] for s in _steps(bank, made["id"])] == ["override", "reject", "override", "approve"]
    verified = bank.client.get("/v1/ledger/verification", headers=bank.headers["officer"])
    assert verified.json()["ok"] is True, verified.text


def test_an_override_without_a_comment_is_refused(bank: Service) -> None:
    made = _declined(bank)
    for comment in (None, "", "   "):
        refused = step(
            bank, made["id"], "decision", bank.headers["reviewer"], override(comment=comment)
        )
        assert refused.status_code == 422, (comment, refused.text)
        assert "an override needs a comment" in refused.text
    assert _steps(bank, made["id"]) == []


def test_an_appeal_goes_first_and_only_a_different_reviewer_decides_it(bank: Service) -> None:
    first, second = bank.headers["reviewer"], reviewer(bank, "second")
    made = _declined(bank, "cust-1")
    assert step(bank, made["id"], "claim", first).status_code == 200
    assert step(bank, made["id"], "decision", first, {"action": "confirm"}).status_code == 201
    older = [_declined(bank, f"cust-{n}") for n in range(2, 5)]  # waiting longer than the appeal

    appealed = bank.client.post(
        f"/v1/me/decisions/{made['id']}/appeal",
        json={"statement": "My income rose last month."},
        headers=customer(bank, "cust-1"),
    )
    assert appealed.status_code == 201, appealed.text
    order = [c["decision_id"] for c in queue(bank, second)]
    assert order[0] == made["id"] and set(order[1:]) == {d["id"] for d in older}

    case = bank.client.get(f"/v1/reviews/{made['id']}", headers=first).json()
    assert case["appealed"] is True and len(case["earlier_reviewers"]) == 1
    for what, body in (("claim", None), ("decision", {"action": "confirm"})):
        refused = step(bank, made["id"], what, first, body)
        assert refused.status_code == 403, (what, refused.text)
        assert "a different reviewer must decide the appeal" in refused.text
    assert _steps(bank, made["id"]) == [("confirm", "confirmed", "declined")]

    assert step(bank, made["id"], "claim", second).status_code == 200
    decided = step(bank, made["id"], "decision", second, override(comment="Income evidence."))
    assert decided.status_code == 201, decided.text
    assert decided.json()["reviewer_id"] != case["earlier_reviewers"][0]


def test_an_appealed_proposal_cannot_be_approved_by_the_original_reviewer(bank: Service) -> None:
    first, second, third = (
        bank.headers["reviewer"],
        reviewer(bank, "second"),
        reviewer(bank, "third"),
    )
    made = _declined(bank)
    assert step(bank, made["id"], "decision", first, {"action": "confirm"}).status_code == 201
    appealed = bank.client.post(
        f"/v1/me/decisions/{made['id']}/appeal",
        json={"statement": "Please look again."},
        headers=customer(bank, "cust-1"),
    )
    assert appealed.status_code == 201, appealed.text
    assert step(bank, made["id"], "decision", second, override()).status_code == 201
    refused = step(bank, made["id"], "approval", first, {})
    assert refused.status_code == 403, refused.text
    assert step(bank, made["id"], "rejection", first, {"reason": "no"}).status_code == 403
    assert step(bank, made["id"], "approval", third, {}).status_code == 201
