"""Human review through the service: the queue, claims, confirmations, overrides, four eyes."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from service_testing import PASSWORD, Service, bearer, sign_in
from sqlalchemy import select

from ethica.service.app import state_of
from ethica.service.ledger.tables import LedgerEntry
from ethica.service.reviews.clocks import sla_deadline
from ethica.service.reviews.tables import Review

SEX = "Qwzx-protected-value"
INCOME = 4321.987


def _second_reviewer(running: Service) -> dict[str, str]:
    body = {
        "email": "second@bank.example",
        "name": "Second",
        "role": "reviewer",
        "password": PASSWORD,
    }
    response = running.client.post("/v1/users", json=body, headers=running.headers["admin"])
    assert response.status_code == 201, response.text
    return sign_in(running.client, "second@bank.example")


def _held(running: Service, system: str, *, subject: str = "cust-1", score: float = 0.1) -> Any:
    response = running.decide(
        system,
        {
            "subject_id": subject,
            "features": {"income": INCOME, "housing": "rent"},
            "protected": {"sex": SEX},
            "score": score,
        },
    )
    assert response.status_code == 201, response.text
    made = response.json()
    assert made["review"]["status"] == "pending_review", made
    return made


def _queue(running: Service, **params: Any) -> list[dict[str, Any]]:
    response = running.client.get("/v1/reviews", params=params, headers=running.headers["reviewer"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total"] == len(body["items"])
    return list(body["items"])


def _post(running: Service, path: str, headers: dict[str, str], body: Any = None) -> Any:
    return running.client.post(path, json=body, headers=headers)


def _review_entries(running: Service, chain: str) -> list[dict[str, Any]]:
    with state_of(running.app).sessions() as session:
        rows = session.scalars(
            select(LedgerEntry)
            .where(LedgerEntry.chain == chain, LedgerEntry.kind == "review")
            .order_by(LedgerEntry.sequence)
        )
        return [
            {"public": json.loads(r.public), "sealed": r.sealed_ciphertext, "subject": r.subject}
            for r in rows
        ]


def _ledger_ok(running: Service) -> None:
    response = running.client.get("/v1/ledger/verification", headers=running.headers["officer"])
    assert response.status_code == 200, response.text
    assert response.json()["ok"] is True, response.text


def test_sla_deadline_is_two_business_days_like_numpy() -> None:
    start = datetime(2026, 1, 1, 9, 30, tzinfo=UTC)
    for day in range(30):
        made = start + timedelta(days=day)
        expected = np.busday_offset(np.datetime64(made.date()), 2, roll="forward")
        deadline = sla_deadline(made)
        assert np.datetime64(deadline.date()) == expected, made
        assert deadline.time() == made.time()


def test_queue_puts_high_risk_first_then_oldest_without_protected_values(
    service: Callable[..., Service],
) -> None:
    running = service()
    running.register("credit", oversight={"review_adverse": True})  # high risk
    running.register("leads", risk_tier="limited", oversight={"review_adverse": True})
    made = [
        _held(running, "leads", subject="a"),
        _held(running, "credit", subject="b"),
        _held(running, "leads", subject="c"),
        _held(running, "credit", subject="d"),
    ]
    running.decide("credit", {"score": 0.9})  # automatic: never queued
    items = _queue(running)
    assert [i["decision_id"] for i in items] == [made[i]["id"] for i in (1, 3, 0, 2)]
    assert [i["priority"] for i in items] == ["high", "high", "normal", "normal"]
    first = items[0]
    assert (first["outcome"], first["score"]) == ("declined", 0.1)
    assert first["data"]["used"] == made[1]["data"]["used"]
    assert first["review_reason"] == made[1]["review"]["reason"]
    created = datetime.fromisoformat(first["created_at"])
    assert datetime.fromisoformat(first["sla_deadline"]).date() == np.busday_offset(
        np.datetime64(created.date()), 2, roll="forward"
    ).astype(object)
    assert SEX not in json.dumps(items) and "sex" not in json.dumps(items)
    assert [i["decision_id"] for i in _queue(running, system_id="leads")] == [
        made[0]["id"],
        made[2]["id"],
    ]


def test_one_reviewer_holds_a_case_at_a_time(service: Callable[..., Service]) -> None:
    running = service()
    running.register("leads", risk_tier="limited", oversight={"review_adverse": True})
    decision = _held(running, "leads")["id"]
    first, second = running.headers["reviewer"], _second_reviewer(running)
    claimed = _post(running, f"/v1/reviews/{decision}/claim", first)
    assert claimed.status_code == 200, claimed.text
    assert _queue(running)[0]["claimed_by"] == claimed.json()["claimed_by"]
    assert _post(running, f"/v1/reviews/{decision}/claim", first).status_code == 200
    for path, body in (("claim", None), ("release", None), ("decision", {"action": "confirm"})):
        refused = _post(running, f"/v1/reviews/{decision}/{path}", second, body)
        assert refused.status_code == 409, (path, refused.text)
        assert "held by reviewer" in refused.json()["error"]["message"]
    assert _post(running, f"/v1/reviews/{decision}/release", first).status_code == 200
    assert _queue(running)[0]["claimed_by"] is None
    assert _post(running, f"/v1/reviews/{decision}/claim", second).status_code == 200
    missing = _post(running, "/v1/reviews/no-such-decision/claim", first)
    assert missing.status_code == 404


def test_confirm_makes_the_decision_final_and_appends_to_the_ledger(
    service: Callable[..., Service],
) -> None:
    running = service()
    running.register("leads", risk_tier="limited", oversight={"review_adverse": True})
    made = _held(running, "leads")
    reviewer = running.headers["reviewer"]
    assert _post(running, f"/v1/reviews/{made['id']}/claim", reviewer).status_code == 200
    confirmed = _post(
        running, f"/v1/reviews/{made['id']}/decision", reviewer, {"action": "confirm"}
    )
    assert confirmed.status_code == 201, confirmed.text
    assert (confirmed.json()["review_status"], confirmed.json()["final"]) == ("confirmed", True)
    officer = running.headers["officer"]  # reviewers see decisions only through their cases
    read = running.client.get(f"/v1/decisions/{made['id']}", headers=officer).json()
    assert (read["outcome"], read["final"], read["review"]["status"]) == (
        "declined",
        True,
        "confirmed",
    )
    assert _queue(running) == []
    again = _post(running, f"/v1/reviews/{made['id']}/decision", reviewer, {"action": "confirm"})
    assert again.status_code == 409
    (entry,) = _review_entries(running, made["ledger"]["chain"])
    assert entry["public"]["action"] == "confirm" and entry["sealed"] is None
    assert entry["public"]["seen"]["outcome"] == "declined"
    assert entry["public"]["seen"]["data_used"] == made["data"]["used"]
    assert confirmed.json()["ledger"]["sequence"] > made["ledger"]["sequence"]
    _ledger_ok(running)


def test_override_needs_a_reason_code_and_the_customer_sees_the_new_outcome(
    service: Callable[..., Service],
) -> None:
    running = service()
    running.register("leads", risk_tier="limited", oversight={"review_adverse": True})
    made = _held(running, "leads", subject="cust-9")
    path = f"/v1/reviews/{made['id']}/decision"
    reviewer = running.headers["reviewer"]
    no_reason = _post(running, path, reviewer, {"action": "override", "outcome": "approved"})
    assert no_reason.status_code == 422 and "reason_code" in no_reason.text
    unknown = {"action": "override", "outcome": "approved", "reason_code": "felt_like_it"}
    assert _post(running, path, reviewer, unknown).status_code == 422
    bad_outcome = {"action": "override", "outcome": "maybe", "reason_code": "model_error"}
    assert _post(running, path, reviewer, bad_outcome).status_code == 422
    body = {
        "action": "override",
        "outcome": "approved",
        "reason_code": "new_information",
        "comment": "Payslip received after the decision.",
    }
    overridden = _post(running, path, reviewer, body)
    assert overridden.status_code == 201, overridden.text
    review = overridden.json()
    assert (review["review_status"], review["final"]) == ("overridden", True)
    assert (review["original_outcome"], review["outcome"]) == ("declined", "approved")

    link = running.client.post(
        "/v1/subjects/cust-9/links", json={}, headers=running.headers["admin"]
    )
    customer = bearer(link.json()["token"])
    mine = running.client.get(f"/v1/me/decisions/{made['id']}", headers=customer)
    assert mine.status_code == 200, mine.text
    assert (mine.json()["outcome"], mine.json()["final"]) == ("approved", True)
    with state_of(running.app).sessions() as session:
        kept = session.scalars(select(Review).where(Review.decision_id == made["id"])).one()
        assert (kept.original_outcome, kept.reason_code) == ("declined", "new_information")
    (entry,) = _review_entries(running, made["ledger"]["chain"])
    assert entry["public"]["reason_code"] == "new_information"
    assert body["comment"] not in json.dumps(entry)  # sealed with the customer's key
    assert str(INCOME) not in json.dumps(entry) and SEX not in json.dumps(entry)
    _ledger_ok(running)


def test_overriding_an_adverse_high_risk_decision_needs_a_second_reviewer(
    service: Callable[..., Service],
) -> None:
    running = service()
    running.register("credit", oversight={"review_adverse": True})  # high risk
    made = _held(running, "credit")
    first, second = running.headers["reviewer"], _second_reviewer(running)
    officer = running.headers["officer"]  # reviewers see decisions only through their cases
    body = {
        "action": "override",
        "outcome": "approved",
        "reason_code": "policy_exception",
        "comment": "Long-standing customer.",
    }
    proposed = _post(running, f"/v1/reviews/{made['id']}/decision", first, body)
    assert proposed.status_code == 201, proposed.text
    assert (proposed.json()["review_status"], proposed.json()["final"]) == (
        "awaiting_second_approval",
        False,
    )
    read = running.client.get(f"/v1/decisions/{made['id']}", headers=officer).json()
    assert (read["outcome"], read["final"]) == ("declined", False)
    (case,) = _queue(running)
    assert (case["proposed_outcome"], case["review_status"]) == (
        "approved",
        "awaiting_second_approval",
    )
    again = _post(running, f"/v1/reviews/{made['id']}/decision", second, {"action": "confirm"})
    assert again.status_code == 409 and "approval" in again.text

    same = _post(running, f"/v1/reviews/{made['id']}/approval", first, {})
    assert same.status_code == 409
    assert "different reviewer" in same.json()["error"]["message"]
    approved = _post(running, f"/v1/reviews/{made['id']}/approval", second, {"comment": "ok"})
    assert approved.status_code == 201, approved.text
    assert (approved.json()["review_status"], approved.json()["outcome"]) == (
        "overridden",
        "approved",
    )
    assert approved.json()["reviewer_id"] != proposed.json()["reviewer_id"]
    read = running.client.get(f"/v1/decisions/{made['id']}", headers=officer).json()
    assert (read["outcome"], read["final"]) == ("approved", True)
    assert _post(running, f"/v1/reviews/{made['id']}/approval", second, {}).status_code == 409
    entries = _review_entries(running, made["ledger"]["chain"])
    assert [(e["public"]["action"], e["public"]["status"]) for e in entries] == [
        ("override", "awaiting_second_approval"),
        ("approve", "overridden"),
    ]
    assert {e["public"]["decision_id"] for e in entries} == {made["id"]}
    _ledger_ok(running)


@pytest.mark.parametrize("outcome", ["declined"])
def test_a_favourable_override_of_a_high_risk_system_is_single_review(
    service: Callable[..., Service], outcome: str
) -> None:
    running = service()
    running.register("credit", oversight={"margin": 0.2})  # holds favourable ones too
    made = _held(running, "credit", score=0.6)
    assert made["outcome"] == "approved"
    body = {
        "action": "override",
        "outcome": outcome,
        "reason_code": "data_quality",
        "comment": "The income was mistyped.",
    }
    done = _post(running, f"/v1/reviews/{made['id']}/decision", running.headers["admin"], body)
    assert done.status_code == 201, done.text
    assert done.json()["review_status"] == "overridden"
