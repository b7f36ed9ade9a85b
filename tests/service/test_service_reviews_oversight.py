"""Oversight beyond the basic queue: unfamiliar inputs, appeals, deadlines and escalation,
blind-first review, seeded cases and per-reviewer statistics."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pandas as pd
import pytest
from service_testing import PASSWORD, Service, bearer, credit_frame, credit_spec, sign_in
from sqlalchemy import select, update

from ethica.explain import TrainingSummary
from ethica.governance import parse_spec, route, unlike_training
from ethica.service import auth
from ethica.service.app import state_of
from ethica.service.decisions.live_audit import audit_live_decisions
from ethica.service.ledger.tables import LedgerEntry
from ethica.service.reviews import cases, stats
from ethica.service.reviews.escalation import escalate_overdue
from ethica.service.reviews.tables import Review, ReviewEscalation

STATEMENT = "I repaid my previous loan in full: Zq-unique-statement."


def _customer(running: Service, subject: str) -> dict[str, str]:
    secret = running.settings.app.secret_key.get_secret_value()
    return bearer(auth.sign_token({"sub": subject, "kind": "customer"}, secret=secret, minutes=5))


def _decide(running: Service, system: str, score: float, subject: str = "cust-1") -> Any:
    made = running.decide(
        system,
        {"subject_id": subject, "features": {"income": 40.0, "housing": "rent"}, "score": score},
    )
    assert made.status_code == 201, made.text
    return made.json()


def _post(running: Service, path: str, headers: dict[str, str], body: Any = None) -> Any:
    return running.client.post(path, json=body, headers=headers)


def _case(running: Service, decision_id: str, headers: dict[str, str] | None = None) -> Any:
    got = running.client.get(
        f"/v1/reviews/{decision_id}", headers=headers or running.headers["reviewer"]
    )
    assert got.status_code == 200, got.text
    return got.json()


def _entries(running: Service, kind: str) -> list[LedgerEntry]:
    with state_of(running.app).sessions() as session:
        return list(session.scalars(select(LedgerEntry).where(LedgerEntry.kind == kind)))


def _ledger_ok(running: Service) -> None:
    response = running.client.get("/v1/ledger/verification", headers=running.headers["officer"])
    assert response.status_code == 200 and response.json()["ok"] is True, response.text


def _with_model(running: Service, model: bytes, **changes: Any) -> None:
    running.register("credit", **changes)
    assert running.upload("credit", model, format="lightgbm").status_code == 201
    frame, label = credit_frame()
    spec = parse_spec({"id": "credit", **credit_spec(**changes)})
    summary = TrainingSummary.from_training(frame, label, spec=spec).to_dict()
    put = running.client.put(
        "/v1/systems/credit/models/1/training-summary",
        json=summary,
        headers=running.headers["admin"],
    )
    assert put.status_code == 200, put.text


# --- input unlike the training data ---------------------------------------------------------


def test_unlike_training_names_out_of_range_numbers_and_unseen_categories() -> None:
    spec = parse_spec({"id": "credit", **credit_spec(oversight={"review_unfamiliar": True})})
    summary = TrainingSummary(
        ranges={"income": (10.0, 90.0)},
        background=pd.DataFrame({"income": [10.0, 90.0], "housing": ["own", "own"]}),
    )
    assert unlike_training(spec, summary, {"income": 50.0, "housing": "own"}) == []
    assert unlike_training(spec, summary, {"income": 90.5, "housing": "own"}) == ["income"]
    assert unlike_training(spec, summary, {"income": 9.0, "housing": "rent"}) == [
        "income",
        "housing",
    ]
    assert unlike_training(spec, None, {"income": 900.0}) == []
    quiet = parse_spec({"id": "credit", **credit_spec()})
    assert unlike_training(quiet, summary, {"income": 900.0}) == []
    held = route(spec, outcome="approved", score=0.9, rng=random.Random(0), unfamiliar=["income"])
    assert (held.status, held.reason) == (
        "pending_review",
        "input unlike the training data: income",
    )
    assert route(spec, outcome="approved", score=0.9, rng=random.Random(0)).held is False


def test_the_gateway_holds_an_input_outside_the_training_range(
    service: Callable[..., Service], lightgbm_bytes: bytes
) -> None:
    running = service()
    _with_model(running, lightgbm_bytes, oversight={"review_unfamiliar": True})
    usual = running.decide("credit", {"features": {"income": 80.0, "housing": "own"}})
    assert usual.json()["review"]["status"] == "automatic", usual.text
    unusual = running.decide("credit", {"features": {"income": 5000.0, "housing": "own"}})
    assert unusual.status_code == 201, unusual.text
    assert unusual.json()["review"] == {
        "status": "pending_review",
        "reason": "input unlike the training data: income",
    }


# --- appeals ------------------------------------------------------------------------------


def test_a_customer_appeals_their_own_decision_once_with_a_sealed_statement(
    service: Callable[..., Service],
) -> None:
    running = service()
    running.register("leads", risk_tier="limited", oversight={"review_adverse": True})
    made = _decide(running, "leads", 0.9, subject="cust-1")
    assert made["review"]["status"] == "automatic"
    path = f"/v1/me/decisions/{made['id']}/appeal"
    owner, stranger = _customer(running, "cust-1"), _customer(running, "cust-2")

    assert _post(running, path, stranger, {"statement": STATEMENT}).status_code == 404
    assert _post(running, path, owner, {"statement": "   "}).status_code == 422
    too_long = _post(running, path, owner, {"statement": "x" * 4001})
    assert too_long.status_code == 422 and "statement" in too_long.text
    assert _post(running, path, owner, {}).status_code == 422

    appealed = _post(running, path, owner, {"statement": STATEMENT})
    assert appealed.status_code == 201, appealed.text
    assert (appealed.json()["review_status"], appealed.json()["review_reason"]) == (
        "pending_review",
        "customer appeal",
    )
    again = _post(running, path, owner, {"statement": STATEMENT})
    assert again.status_code == 409 and "already with a reviewer" in again.text
    mine = running.client.get(f"/v1/me/decisions/{made['id']}", headers=owner).json()
    assert (mine["review"]["status"], mine["final"]) == ("pending_review", False)

    (entry,) = _entries(running, "appeal")
    assert STATEMENT not in json.dumps(entry.public) and entry.sealed_ciphertext is not None
    assert entry.subject is not None  # sealed with the key of cust-1 (by pseudonym), leads
    assert entry.subject.startswith(f"{running.key_prefix('cust-1')}leads#")
    case = _case(running, made["id"])
    assert case["appealed"] is True and case["review_reason"] == "customer appeal"
    assert case["appeal"]["statement"] == STATEMENT
    assert case["appeal"]["outcome_appealed"] == "approved"
    assert case["held_since"] == case["appeal"]["appealed_at"]

    # The reviewer confirms: the customer had the review by a person they asked for, and the
    # same decision is not appealed twice (they can still report a concern).
    reviewer = running.headers["reviewer"]
    decided = _post(running, f"/v1/reviews/{made['id']}/decision", reviewer, {"action": "confirm"})
    assert decided.status_code == 201, decided.text
    twice = _post(running, path, owner, {"statement": "Still wrong."})
    assert twice.status_code == 409 and "already reviewed by a person on your appeal" in twice.text
    assert len(_entries(running, "appeal")) == 1  # nothing half-written
    _ledger_ok(running)


def test_an_erased_customers_appeal_statement_cannot_be_opened(
    service: Callable[..., Service],
) -> None:
    running = service()
    running.register("leads", risk_tier="limited")
    made = _decide(running, "leads", 0.9, subject="cust-1")
    path = f"/v1/me/decisions/{made['id']}/appeal"
    owner = _customer(running, "cust-1")
    assert _post(running, path, owner, {"statement": STATEMENT}).status_code == 201
    erased = running.client.post("/v1/subjects/cust-1/erasure", headers=running.headers["officer"])
    assert erased.status_code == 201, erased.text
    after = _case(running, made["id"])
    assert after["appeal"]["statement"] is None
    assert after["appeal"]["statement_status"].startswith("cannot be opened")


# --- deadlines, priority, escalation and the notice clock --------------------------------------


def test_queue_orders_by_priority_then_deadline_and_escalates_once(
    service: Callable[..., Service],
) -> None:
    running = service()
    running.register(
        "slow", risk_tier="limited", oversight={"review_adverse": True, "sla_hours": 72}
    )
    running.register(
        "fast", risk_tier="limited", oversight={"review_adverse": True, "sla_hours": 1}
    )
    running.register(
        "vip", risk_tier="minimal", oversight={"review_adverse": True, "priority": "urgent"}
    )
    slow, fast = _decide(running, "slow", 0.1), _decide(running, "fast", 0.1)
    vip = _decide(running, "vip", 0.1)
    items = running.client.get("/v1/reviews", headers=running.headers["reviewer"]).json()["items"]
    assert [i["decision_id"] for i in items] == [vip["id"], fast["id"], slow["id"]]
    assert [i["priority"] for i in items] == ["urgent", "normal", "normal"]
    by_id = {i["decision_id"]: i for i in items}
    made = pd.Timestamp(by_id[fast["id"]]["created_at"])
    assert pd.Timestamp(by_id[fast["id"]]["sla_deadline"]) == made + timedelta(hours=1)
    assert pd.Timestamp(by_id[slow["id"]]["sla_deadline"]) - pd.Timestamp(
        by_id[slow["id"]]["created_at"]
    ) == timedelta(hours=72)
    assert not any(i["escalated"] for i in items)
    # declined is adverse: the ECOA / Reg B notice is due 30 days after the decision
    assert pd.Timestamp(by_id[fast["id"]]["notice_due_at"]) == made + timedelta(days=30)

    state = state_of(running.app)
    later = made.to_pydatetime() + timedelta(hours=2)
    with state.sessions() as session:
        escalated = {c.decision_id for c in cases.queue(session, now=later) if c.escalated}
    assert escalated == {fast["id"]}
    writer = state.gateway.writer
    first = writer.run(lambda batch: [r.decision_id for r in escalate_overdue(batch, now=later)])
    assert first == [fast["id"]]
    assert writer.run(lambda batch: escalate_overdue(batch, now=later)) == []
    much_later = later + timedelta(days=10)
    second = writer.run(lambda b: {r.decision_id for r in escalate_overdue(b, now=much_later)})
    assert second == {slow["id"], vip["id"]}
    entries = _entries(running, "escalation")
    assert sorted(json.loads(e.public)["decision_id"] for e in entries) == sorted(
        [fast["id"], slow["id"], vip["id"]]
    )
    with state.sessions() as session:
        assert len(session.scalars(select(ReviewEscalation)).all()) == 3
    _ledger_ok(running)


def test_the_notice_clock_runs_only_for_adverse_outcomes(service: Callable[..., Service]) -> None:
    running = service()
    running.register("leads", risk_tier="limited", oversight={"margin": 0.3})
    favourable = _decide(running, "leads", 0.6)
    adverse = _decide(running, "leads", 0.4)
    assert (favourable["outcome"], adverse["outcome"]) == ("approved", "declined")
    assert _case(running, favourable["id"])["notice_due_at"] is None
    case = _case(running, adverse["id"])
    assert pd.Timestamp(case["notice_due_at"]) - pd.Timestamp(case["created_at"]) == timedelta(
        days=30
    )


# --- blind-first review ----------------------------------------------------------------------


def test_blind_first_withholds_the_model_until_the_reviewer_judges(
    service: Callable[..., Service],
) -> None:
    running = service()
    running.register(
        "leads", risk_tier="limited", oversight={"review_adverse": True, "blind_first": True}
    )
    made = _decide(running, "leads", 0.1)
    reviewer = running.headers["reviewer"]
    blind = _case(running, made["id"])
    assert blind["blind"] is True
    assert (blind["outcome"], blind["score"], blind["explanation"], blind["review_reason"]) == (
        None,
        None,
        None,
        None,
    )
    assert blind["data"]["used"] == made["data"]["used"]  # the inputs are shown
    (queued,) = running.client.get("/v1/reviews", headers=reviewer).json()["items"]
    assert queued["blind"] is True and queued["outcome"] is None and queued["score"] is None

    decide = f"/v1/reviews/{made['id']}/decision"
    refused = _post(running, decide, reviewer, {"action": "confirm"})
    assert refused.status_code == 409 and "judgement" in refused.text
    judge = f"/v1/reviews/{made['id']}/judgement"
    assert _post(running, judge, reviewer, {"outcome": "maybe"}).status_code == 422
    judged = _post(running, judge, reviewer, {"outcome": "approved"})
    assert judged.status_code == 201, judged.text
    assert _post(running, judge, reviewer, {"outcome": "declined"}).status_code == 409

    seen = _case(running, made["id"])
    assert (seen["blind"], seen["outcome"], seen["score"]) == (False, "declined", 0.1)
    assert seen["your_judgement"] == "approved"
    assert _case(running, made["id"], running.headers["admin"])["blind"] is True  # not theirs

    body = {
        "action": "override",
        "outcome": "approved",
        "reason_code": "model_error",
        "comment": "Wrong.",
    }
    assert _post(running, decide, reviewer, body).status_code == 201
    (entry,) = _entries(running, "review")
    assert json.loads(entry.public)["blind_judgement"] == "approved"

    mine = running.client.get("/v1/reviews/stats", headers=reviewer).json()["items"]
    assert (mine[0]["blind_judgements"], mine[0]["blind_agreement_rate"]) == (1, 0.0)
    open_system = running.register("open", risk_tier="limited", oversight={"review_adverse": True})
    other = _decide(running, open_system["id"], 0.1)
    not_blind = _post(running, f"/v1/reviews/{other['id']}/judgement", reviewer, {"outcome": "x"})
    assert not_blind.status_code == 409 and "blind-first" in not_blind.text


# --- seeded cases ----------------------------------------------------------------------------


def test_seeded_cases_look_real_to_reviewers_and_never_count_as_decisions(
    service: Callable[..., Service], lightgbm_bytes: bytes, database_url: str
) -> None:
    running = service()
    _with_model(running, lightgbm_bytes, oversight={"review_adverse": True})
    real = running.decide(
        "credit",
        {
            "subject_id": "cust-1",
            "features": {"income": 10.0, "housing": "own"},
            "protected": {"sex": "F"},
        },
    ).json()
    assert real["review"]["status"] == "pending_review", real
    approved = running.decide(
        "credit",
        {
            "subject_id": "cust-2",
            "features": {"income": 90.0, "housing": "own"},
            "protected": {"sex": "M"},
        },
    ).json()
    assert approved["review"]["status"] == "automatic", approved
    seed = {"system_id": "credit", "features": {"income": 12.0, "housing": "own"}}
    officer = running.headers["officer"]
    bad = _post(running, "/v1/reviews/seeded", officer, {**seed, "known_outcome": "maybe"})
    assert bad.status_code == 422 and "outcome must be one of" in bad.text
    unknown = {**seed, "system_id": "nope", "known_outcome": "approved"}
    assert _post(running, "/v1/reviews/seeded", officer, unknown).status_code == 404
    created = _post(running, "/v1/reviews/seeded", officer, {**seed, "known_outcome": "approved"})
    assert created.status_code == 201, created.text
    seeded = created.json()
    assert seeded["outcome"] == "declined" and seeded["known_outcome"] == "approved"

    reviewer = running.headers["reviewer"]
    items = running.client.get("/v1/reviews", headers=reviewer).json()["items"]
    assert {i["decision_id"] for i in items} == {real["id"], seeded["decision_id"]}
    real_case, seeded_case = _case(running, real["id"]), _case(running, seeded["decision_id"])
    assert set(real_case) == set(seeded_case)
    assert seeded_case["review_reason"] == real_case["review_reason"]
    assert seeded_case["inputs"] == {"income": 12.0, "housing": "own"}
    assert seeded_case["explanation"]["reasons"] and real_case["explanation"]["reasons"]
    assert seeded_case["model_version"] == real_case["model_version"] == "1"

    listed = running.client.get("/v1/decisions", headers=officer).json()
    assert {d["id"] for d in listed["items"]} == {real["id"], approved["id"]}
    assert listed["total"] == 2
    state = state_of(running.app)
    with state.sessions() as session:
        from base64 import b64decode

        key = b64decode(running.settings.ledger.master_key.get_secret_value())
        live = audit_live_decisions(
            session, database_url=database_url, master_key=key, system_id="credit"
        )
    assert live.by_group("sex")["count"].to_dict() == {"F": 1, "M": 1}  # no "missing" group

    for case_id in (real["id"], seeded["decision_id"]):
        body = {
            "action": "override",
            "outcome": "approved",
            "reason_code": "model_error",
            "comment": "Wrong.",
        }
        done = _post(running, f"/v1/reviews/{case_id}/decision", reviewer, body)
        assert done.status_code == 201, done.text
    with state.sessions() as session:
        matched = dict(session.execute(select(Review.decision_id, Review.matched_known)).all())
    assert matched == {real["id"]: None, seeded["decision_id"]: True}
    (mine,) = running.client.get("/v1/reviews/stats", headers=reviewer).json()["items"]
    assert (mine["seeded_cases"], mine["seeded_accuracy"]) == (1, 1.0)
    assert [json.loads(e.public)["decision_id"] for e in _entries(running, "seeded_case")] == [
        seeded["decision_id"]
    ]
    _ledger_ok(running)


def test_a_seeded_case_needs_a_model(service: Callable[..., Service]) -> None:
    running = service()
    running.register("leads", risk_tier="limited")
    body = {"system_id": "leads", "features": {"income": 1.0}, "known_outcome": "approved"}
    refused = _post(running, "/v1/reviews/seeded", running.headers["admin"], body)
    assert refused.status_code == 422 and "no registered model" in refused.text


# --- per-reviewer statistics ------------------------------------------------------------------


def test_stats_per_reviewer_with_time_per_case_and_who_sees_whom(
    service: Callable[..., Service],
) -> None:
    running = service()
    running.register("leads", risk_tier="limited", oversight={"review_adverse": True})
    new = {"email": "two@bank.example", "name": "Two", "role": "reviewer", "password": PASSWORD}
    assert running.client.post("/v1/users", json=new, headers=running.headers["admin"]).is_success
    first, second = running.headers["reviewer"], sign_in(running.client, "two@bank.example")
    override = {
        "action": "override",
        "outcome": "approved",
        "reason_code": "model_error",
        "comment": "Wrong.",
    }
    plan = [(first, {"action": "confirm"})] * 3 + [
        (first, override),
        (second, {"action": "confirm"}),
    ]
    made = []
    for headers, body in plan:
        decision = _decide(running, "leads", 0.1)["id"]
        assert _post(running, f"/v1/reviews/{decision}/claim", headers).status_code == 200
        assert _post(running, f"/v1/reviews/{decision}/decision", headers, body).status_code == 201
        made.append(decision)
    # Known claim times, so the median is exact: 10, 20, 30 and 40 seconds for the first.
    with state_of(running.app).sessions() as session:
        for seconds, decision in zip((10, 20, 30, 40), made, strict=False):
            step = session.scalars(select(Review).where(Review.decision_id == decision)).one()
            session.execute(
                update(Review)
                .where(Review.id == step.id)
                .values(claimed_at=step.created_at - timedelta(seconds=seconds))
            )
        session.commit()

    everyone = running.client.get("/v1/reviews/stats", headers=running.headers["officer"])
    assert everyone.status_code == 200, everyone.text
    rows = {r["reviewer_id"]: r for r in everyone.json()["items"]}
    assert len(rows) == 2
    mine = running.client.get("/v1/reviews/stats", headers=first).json()["items"]
    assert len(mine) == 1
    own = mine[0]
    assert rows[own["reviewer_id"]] == own
    assert (own["cases_decided"], own["agreement_rate"], own["override_rate"]) == (4, 0.75, 0.25)
    assert own["median_seconds_per_case"] == pytest.approx(25.0)
    assert own["automation_bias_warning"] is False
    other = running.client.get("/v1/reviews/stats", headers=second).json()["items"]
    assert [o["cases_decided"] for o in other] == [1] and other[0]["agreement_rate"] == 1.0
    assert everyone.json()["warning_min_cases"] == stats.WARNING_MIN_CASES


def test_automation_bias_warning_thresholds() -> None:
    warn = stats.automation_bias
    assert warn(decided=20, agreement=0.95, median_seconds=19.9) is True
    assert warn(decided=19, agreement=1.0, median_seconds=1.0) is False
    assert warn(decided=50, agreement=0.94, median_seconds=1.0) is False
    assert warn(decided=50, agreement=1.0, median_seconds=20.0) is False
    assert warn(decided=50, agreement=1.0, median_seconds=None) is False
