"""Rights requests of data subjects (access, erasure): who asked, when, and their deadlines.

Each completed request is proved by a ``request`` entry in the ``subjects`` chain
(:func:`prove_request`), which names the subject only by their keyed pseudonym, so that
``ethica ledger verify`` finds an edited, inserted or deleted request row.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ethica.errors import InputError
from ethica.ledger import canonical_json
from ethica.service.auth import Principal
from ethica.service.db import new_id, utcnow
from ethica.service.ledger.entries import moment
from ethica.service.ledger.writer import Batch
from ethica.service.subjects.schemas import RequestKind, RightsRequestRead
from ethica.service.subjects.tables import RightsRequest

RESPONSE_DAYS = 30
"""GDPR Art. 12(3): "without undue delay and in any event within one month"; kept as 30 days."""


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
    check_subject(subject_id)
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
    batch: Batch, *, subject_id: str, requested_by: str, now: datetime | None = None
) -> RightsRequest:
    """Record an access request answered at once (a writer job; the export follows it)."""
    row = open_request(
        batch.session, kind="access", subject_id=subject_id, requested_by=requested_by, now=now
    )
    complete_request(row, now=now)
    prove_request(batch, row)
    return row


REQUEST_CHAIN = "subjects"
"""The chain of the entries that prove rights requests (and erasures)."""


def prove_request(batch: Batch, row: RightsRequest) -> None:
    """Append the completed request's ``request`` entry and point the row at it."""
    entry = batch.ledger.append("request", chain=REQUEST_CHAIN, public=request_fields(batch, row))
    row.ledger_chain, row.ledger_sequence, row.ledger_hash = entry.chain, entry.sequence, entry.hash
    batch.session.flush()


def request_fields(batch: Batch, row: RightsRequest) -> dict[str, Any]:
    """What a request's entry proves: its fields, its result's digest, its subject's pseudonym."""
    keyring = batch.ledger.keyring
    named = row.subject_id  # an erasure's own request is renamed before it is proved
    ref = named if named.startswith("erased:") or keyring is None else keyring.pseudonym(named)
    return {
        "request_id": row.id,
        "kind": row.kind,
        "status": row.status,
        "requested_by": row.requested_by,
        "received_at": iso_moment(row.received_at),
        "due_at": iso_moment(row.due_at),
        "completed_at": iso_moment(row.completed_at),
        "result_sha256": json_digest(row.result),
        "subject_ref": None if keyring is None else ref,
    }


def iso_moment(value: Any) -> str | None:
    """A stored time as RFC 3339 text in UTC, the same however the database returned it."""
    at = moment(value)
    return None if at is None else at.isoformat()


def json_digest(value: Any) -> str | None:
    """The SHA-256 of a JSON value (text from SQLite, parsed from PostgreSQL) in canonical form."""
    if isinstance(value, str):
        value = json.loads(value)
    return None if value is None else hashlib.sha256(canonical_json(value)).hexdigest()


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


def check_subject(subject_id: str) -> None:
    """Refuse a subject id that is empty or longer than 100 characters."""
    if not subject_id or len(subject_id) > 100:
        raise InputError("a subject id has 1 to 100 characters")
