"""Use cases of customers: sign-in links, and their rights (access, erasure) with deadlines.

An erasure is one ledger-writer job, so it is all or nothing: the subject's data key is
destroyed (crypto-shredding their sealed inputs in the ledger), their protected attributes are
deleted, their decisions are unlinked from them (outcome, score and time stay for audits), their
concerns are deleted (the words, sealed in the ledger, are shredded with the key), an
``"erasure"`` entry without personal data is appended to the ``"subjects"`` chain, and the
request is recorded as completed. Every chain still verifies afterwards.

What stays: the pseudonymous subject id in the ``subject`` field of their old ledger entries
(the hashes cover it) and on the request itself (the record that the request was honoured).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from ethica.errors import InputError
from ethica.service.auth import Principal, sign_token
from ethica.service.concerns.tables import Concern
from ethica.service.db import new_id, utcnow
from ethica.service.decisions.tables import Decision, ProtectedValue
from ethica.service.ledger.shredding import destroy_subject_keys
from ethica.service.ledger.writer import Batch
from ethica.service.settings import AppSettings
from ethica.service.subjects.schemas import RequestKind, RightsRequestRead
from ethica.service.subjects.tables import RightsRequest

RESPONSE_DAYS = 30
"""GDPR Art. 12(3): "without undue delay and in any event within one month"; kept as 30 days."""

ERASURE_CHAIN = "subjects"
"""The ledger chain that records erasures (no personal data: counts and the request id)."""


def customer_link(
    *, subject_id: str, settings: AppSettings, minutes: int | None = None
) -> tuple[str, int]:
    """A signed, expiring token for one customer; returns it with its lifetime in minutes."""
    _check_subject(subject_id)
    lifetime = minutes or settings.customer_link_minutes
    token = sign_token(
        {"sub": subject_id, "kind": "customer"},
        secret=settings.secret_key.get_secret_value(),
        minutes=lifetime,
    )
    return token, lifetime


def requester(principal: Principal) -> str:
    """Who made a request, as stored on it: ``"customer"`` or ``"user:<id>"``."""
    return "customer" if principal.kind == "customer" else f"{principal.kind}:{principal.id}"


def open_request(
    session: Session,
    *,
    kind: RequestKind,
    subject_id: str,
    requested_by: str,
    now: datetime | None = None,
) -> RightsRequest:
    """Record a request as received now, due :data:`RESPONSE_DAYS` later."""
    _check_subject(subject_id)
    received = now or utcnow()
    row = RightsRequest(
        id=new_id(),
        kind=kind,
        subject_id=subject_id,
        received_at=received,
        due_at=received + timedelta(days=RESPONSE_DAYS),
        status="open",
        completed_at=None,
        requested_by=requested_by,
        result=None,
    )
    session.add(row)
    session.flush()
    return row


def complete_request(
    row: RightsRequest, *, result: dict[str, Any] | None = None, now: datetime | None = None
) -> RightsRequest:
    """Mark a request as completed, with what was done."""
    row.status = "completed"
    row.completed_at = now or utcnow()
    row.result = result
    return row


def record_access(
    session: Session, *, subject_id: str, requested_by: str, now: datetime | None = None
) -> RightsRequest:
    """Record an access request answered at once (the export is built in the same request)."""
    row = open_request(
        session, kind="access", subject_id=subject_id, requested_by=requested_by, now=now
    )
    return complete_request(row, now=now)


def list_requests(
    session: Session,
    *,
    status: str | None = None,
    kind: str | None = None,
    subject_id: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[RightsRequest], int]:
    """Requests matching every given filter, nearest deadline first, and how many in all."""
    query = select(RightsRequest)
    if status is not None:
        query = query.where(RightsRequest.status == status)
    if kind is not None:
        query = query.where(RightsRequest.kind == kind)
    if subject_id is not None:
        query = query.where(RightsRequest.subject_id == subject_id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(RightsRequest.due_at, RightsRequest.id).limit(limit).offset(offset)
    ).all()
    return list(rows), int(total)


def request_read(row: RightsRequest, *, now: datetime | None = None) -> RightsRequestRead:
    """The API's view of a request, with whether it is overdue at ``now``."""
    now = now or utcnow()
    return RightsRequestRead.model_validate(
        {
            "id": row.id,
            "kind": row.kind,
            "subject_id": row.subject_id,
            "received_at": row.received_at,
            "due_at": row.due_at,
            "status": row.status,
            "completed_at": row.completed_at,
            "overdue": row.status == "open" and now > row.due_at,
            "requested_by": row.requested_by,
            "result": row.result,
        }
    )


def erase_subject(
    batch: Batch, *, subject_id: str, requested_by: str, now: datetime | None = None
) -> RightsRequest:
    """Erase a subject (GDPR Art. 17) as one writer job; returns the completed request.

    Run it with ``gateway.writer.submit(lambda batch: erase_subject(batch, ...))``: the key is
    destroyed through the batch's key ring, which also drops the writer's cached copy.
    """
    session = batch.session
    request = open_request(
        session, kind="erasure", subject_id=subject_id, requested_by=requested_by, now=now
    )
    key_destroyed = destroy_subject_keys(batch, subject_id) > 0
    their_decisions = select(Decision.id).where(Decision.subject_id == subject_id)
    deleted = session.execute(
        delete(ProtectedValue).where(
            or_(
                ProtectedValue.subject_id == subject_id,
                ProtectedValue.decision_id.in_(their_decisions),
            )
        )
    )
    # Their concerns' words are sealed with the keys just destroyed; the rows go too.
    concerns = session.execute(delete(Concern).where(Concern.subject_id == subject_id))
    unlinked = session.execute(
        update(Decision)
        .where(Decision.subject_id == subject_id)
        .values(subject_id=None, explanation=None)  # an explanation quotes their values
    )
    # Decisions about the subject earlier in this group are still queued, not inserted: erase
    # them too. Done last, as a job that fails afterwards could not put them back.
    queued_deleted, queued_unlinked = _queued_rows(batch, subject_id)
    counts = {
        "key_destroyed": key_destroyed,
        "protected_values_deleted": _rowcount(deleted) + queued_deleted,
        "decisions_unlinked": _rowcount(unlinked) + queued_unlinked,
        "concerns_deleted": _rowcount(concerns),
    }
    entry = batch.ledger.append(
        "erasure", chain=ERASURE_CHAIN, public={"request_id": request.id, **counts}
    )
    ledger = {"chain": entry.chain, "sequence": entry.sequence, "hash": entry.hash}
    complete_request(request, result={**counts, "ledger": ledger}, now=now)
    session.flush()
    _scrub_queued_rows(batch, subject_id)
    return request


def _queued_rows(batch: Batch, subject_id: str) -> tuple[int, int]:
    """How many queued protected values and decisions of the group are about the subject."""
    protected = batch.rows.get(ProtectedValue, [])
    decisions = batch.rows.get(Decision, [])
    return (
        sum(r.get("subject_id") == subject_id for r in protected),
        sum(r.get("subject_id") == subject_id for r in decisions),
    )


def _scrub_queued_rows(batch: Batch, subject_id: str) -> None:
    """Apply the erasure to decisions of the same group that are not inserted yet."""
    protected = batch.rows.get(ProtectedValue, [])
    protected[:] = [r for r in protected if r.get("subject_id") != subject_id]
    for row in batch.rows.get(Decision, []):
        if row.get("subject_id") == subject_id:
            row["subject_id"] = None
            row["explanation"] = None  # it quotes the customer's own values


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def _check_subject(subject_id: str) -> None:
    if not subject_id or len(subject_id) > 100:
        raise InputError("a subject id has 1 to 100 characters")
