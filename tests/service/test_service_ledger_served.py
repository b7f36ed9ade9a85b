"""Served rows outside the ledger are proved by it: each edit, insertion and deletion is named.

Consent choices, objections, notices, review steps, escalations, appeals, rights requests,
protected values and subject keys, on SQLite and PostgreSQL (the ``service`` fixture runs on both).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from service_testing import Service
from sqlalchemy import delete, insert, select, update

from ethica.service import auth
from ethica.service.consent.tables import ConsentRecord, NoticeVersion, ObjectionRecord
from ethica.service.db import unit_of_work, utcnow
from ethica.service.decisions.tables import ProtectedValue
from ethica.service.ledger.tables import LedgerEntry, SubjectKey
from ethica.service.reviews.escalation import escalate_overdue
from ethica.service.reviews.tables import Appeal, Review, ReviewEscalation
from ethica.service.state import state_of
from ethica.service.subjects.tables import RightsRequest


@dataclass
class Served:
    running: Service
    automatic: dict[str, Any]  # cust-a's decision, made by the model
    reviewed: dict[str, Any]  # cust-b's, held, confirmed by a reviewer, then appealed


def _customer(running: Service, subject: str) -> dict[str, str]:
    secret = running.settings.app.secret_key.get_secret_value()
    return {
        "Authorization": "Bearer "
        + auth.sign_token({"sub": subject, "kind": "customer"}, secret=secret, minutes=5)
    }


def _decided(running: Service, subject: str, score: float) -> dict[str, Any]:
    body = {
        "subject_id": subject,
        "features": {"income": 4000.0, "housing": "rent"},
        "protected": {"sex": "F"},
        "score": score,
    }
    response = running.decide("credit", body)
    assert response.status_code == 201, response.text
    made: dict[str, Any] = response.json()
    return made


def _served(service: Callable[..., Service]) -> Served:
    running = service()
    running.register("credit", risk_tier="limited", oversight={"review_adverse": True})
    officer, reviewer = running.headers["officer"], running.headers["reviewer"]
    automatic = _decided(running, "cust-a", 0.9)
    reviewed = _decided(running, "cust-b", 0.1)
    assert reviewed["review"]["status"] == "pending_review"
    path = f"/v1/reviews/{reviewed['id']}"
    assert running.client.post(f"{path}/claim", headers=reviewer).status_code == 200
    confirmed = running.client.post(
        f"{path}/decision", json={"action": "confirm", "comment": "checked"}, headers=reviewer
    )
    assert confirmed.status_code == 201, confirmed.text
    appealed = running.client.post(
        f"/v1/me/decisions/{reviewed['id']}/appeal",
        json={"statement": "My income changed."},
        headers=_customer(running, "cust-b"),
    )
    assert appealed.status_code == 201, appealed.text
    notice = running.client.put(
        "/v1/notices/finance", json={"kind": "opt_in", "text": "We use your data."}, headers=officer
    )
    assert notice.status_code == 201, notice.text
    for status in ("granted", "withdrawn"):
        choice = running.client.post(
            "/v1/me/consent",
            json={"data_use": "finance", "status": status},
            headers=_customer(running, "cust-a"),
        )
        assert choice.status_code == 201, choice.text
    objected = running.client.post(
        "/v1/subjects/cust-a/objections",
        json={"kind": "profiling"},
        headers=running.api_key("consent:write"),
    )
    assert objected.status_code == 201, objected.text
    assert _problems(running) == []
    return Served(running, automatic, reviewed)


def _problems(running: Service) -> list[str]:
    response = running.client.get("/v1/ledger/verification", headers=running.headers["officer"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["ok"] is (not body["problems"])
    return list(body["problems"])


def _named(problems: list[str], *words: str) -> bool:
    return any(all(word in problem for word in words) for problem in problems)


def test_every_edit_insertion_and_deletion_of_served_rows_is_named(
    service: Callable[..., Service],
) -> None:
    served = _served(service)
    running = served.running
    cust_a = running.key_prefix("cust-a")  # entries and keys name cust-a by pseudonym
    with unit_of_work(state_of(running.app).sessions) as session:
        first, second = session.scalars(select(ConsentRecord).order_by(ConsentRecord.recorded_at))
        consent_id, deleted_consent = first.id, second.id
        session.execute(
            update(ConsentRecord).where(ConsentRecord.id == first.id).values(status="withdrawn")
        )
        session.execute(delete(ConsentRecord).where(ConsentRecord.id == second.id))
        objection = session.scalars(select(ObjectionRecord)).one()
        objection.active = False
        notice = session.scalars(select(NoticeVersion)).one()
        notice.text = "We sell your data."
        review = session.scalars(select(Review)).one()
        review.outcome = "approved"
        appeal = session.scalars(select(Appeal)).one()
        appeal.outcome_appealed = "approved"
        session.execute(
            update(ProtectedValue)
            .where(ProtectedValue.decision_id == served.automatic["id"])
            .values(value=ProtectedValue.value + "x")
        )
        session.execute(
            insert(ProtectedValue).values(
                decision_id=served.reviewed["id"],
                name="age_band",
                system_id="credit",
                subject_id="cust-b",
                value="AAAA",
            )
        )
        session.execute(
            delete(SubjectKey).where(SubjectKey.subject.startswith(cust_a, autoescape=True))
        )
        ids = (objection.id, notice.id, review.id, appeal.id)
    problems = _problems(running)
    objection_id, notice_id, review_id, appeal_id = ids
    assert _named(problems, "consent_records row", consent_id, "status 'withdrawn'"), problems
    assert _named(problems, "consent_records row of consent entry", "is gone"), problems
    assert _named(problems, "objections row", objection_id, "active"), problems
    assert _named(problems, "notices row", notice_id, "text"), problems
    assert _named(problems, "reviews row", review_id, "outcome 'approved'"), problems
    assert _named(problems, "appeals row", appeal_id, "outcome_appealed"), problems
    assert _named(problems, "protected_values", served.automatic["id"]), problems
    assert _named(problems, "protected_values", served.reviewed["id"], "age_band"), problems
    assert _named(problems, "subject_keys row", f"{cust_a}credit#", "is gone"), problems
    assert len(problems) == 9, problems
    assert deleted_consent not in " ".join(problems)  # a deleted row is named by its entry


def test_rows_pointing_at_no_entry_of_their_own_are_named(
    service: Callable[..., Service],
) -> None:
    served = _served(service)
    running = served.running
    with unit_of_work(state_of(running.app).sessions) as session:
        record = session.scalars(select(ConsentRecord)).first()
        assert record is not None
        copy = {c.name: getattr(record, c.name) for c in ConsentRecord.__table__.columns}
        session.execute(insert(ConsentRecord).values({**copy, "id": "forged-consent"}))
        session.execute(
            update(Appeal).values(ledger_sequence=served.automatic["ledger"]["sequence"])
        )
    problems = _problems(running)
    assert _named(problems, "consent_records row forged-consent", "has no consent entry"), problems
    assert _named(problems, "appeals row", "has no appeal entry"), problems
    assert _named(problems, "the appeals row of appeal entry", "is gone"), problems
    assert len(problems) == 3, problems


def test_an_erasure_on_record_explains_what_it_removed_and_nothing_else(
    service: Callable[..., Service],
) -> None:
    served = _served(service)
    running = served.running
    cust_a = running.key_prefix("cust-a")
    erased = running.client.post("/v1/me/erasure", headers=_customer(running, "cust-b"))
    assert erased.status_code in (200, 201, 202), erased.text
    # Keys destroyed, protected values deleted, the decision unlinked: all explained.
    assert _problems(running) == []
    with unit_of_work(state_of(running.app).sessions) as session:
        session.execute(delete(SubjectKey))  # cust-a's key too, without an erasure
    problems = _problems(running)
    assert _named(problems, "subject_keys row", f"{cust_a}credit#"), problems
    assert not _named(problems, "cust-b"), problems


def test_escalations_are_proved_by_their_entries(service: Callable[..., Service]) -> None:
    served = _served(service)
    running = served.running
    state = state_of(running.app)
    late = utcnow() + timedelta(days=30)
    escalated = state.gateway.writer.run(
        lambda batch: [r.decision_id for r in escalate_overdue(batch, now=late)]
    )
    assert escalated == [served.reviewed["id"]]  # the appealed case is open again
    assert _problems(running) == []
    with unit_of_work(state.sessions) as session:
        session.execute(update(ReviewEscalation).values(deadline=late))
        row = session.scalars(select(ReviewEscalation)).one()
        copy = {c.name: getattr(row, c.name) for c in ReviewEscalation.__table__.columns}
        session.execute(
            insert(ReviewEscalation).values({**copy, "decision_id": served.automatic["id"]})
        )
    # Both rows point at the one entry: whichever is read first is compared with it (its
    # deadline differs), the other has no entry of its own.
    problems = _problems(running)
    assert _named(problems, "review_escalations row", "differs", "deadline"), problems
    assert _named(problems, "review_escalations row", "has no escalation entry"), problems
    assert served.automatic["id"] in " ".join(problems), problems
    assert len(problems) == 2, problems

    with unit_of_work(state.sessions) as session:
        session.execute(delete(ReviewEscalation))
    problems = _problems(running)
    assert _named(problems, "review_escalations row of escalation entry", "is gone"), problems
    assert len(problems) == 1, problems


def test_rights_requests_are_proved_by_their_entries(service: Callable[..., Service]) -> None:
    served = _served(service)
    running = served.running
    officer = running.headers["officer"]
    exported = running.client.get("/v1/subjects/cust-a/export", headers=officer)
    assert exported.status_code == 200, exported.text
    erased = running.client.post("/v1/subjects/cust-b/erasure", headers=officer)
    assert erased.status_code == 201, erased.text
    assert _problems(running) == []
    sessions = state_of(running.app).sessions
    with unit_of_work(sessions) as session:
        rows = {r.kind: r for r in session.scalars(select(RightsRequest))}
        assert set(rows) == {"objection", "access", "erasure"}
        assert all(r.ledger_sequence is not None for r in rows.values())
        entries = session.scalars(select(LedgerEntry.public).where(LedgerEntry.kind == "request"))
        assert not any("cust-" in public for public in entries)  # a pseudonym, never the id
        rows["access"].requested_by = "customer"
        rows["objection"].subject_id = "cust-z"
        rows["erasure"].result = {**(rows["erasure"].result or {}), "decisions_unlinked": 0}
        ids = {kind: row.id for kind, row in rows.items()}
    problems = _problems(running)
    assert _named(problems, "rights_requests row", ids["access"], "requested_by"), problems
    assert _named(problems, "rights_requests row", ids["objection"], "subject_id 'cust-z'"), (
        problems
    )
    assert _named(problems, "rights_requests row", ids["erasure"], "result"), problems
    assert len(problems) == 3, problems

    with unit_of_work(sessions) as session:
        session.execute(delete(RightsRequest).where(RightsRequest.kind == "access"))
        session.execute(update(RightsRequest).values(ledger_sequence=None))
    problems = _problems(running)
    assert sum("the rights_requests row of request entry" in p for p in problems) == 3, problems
