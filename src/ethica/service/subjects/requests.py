"""Rights requests of data subjects (access, erasure): who asked, when, and their deadlines."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ethica.errors import InputError
from ethica.service.auth import Principal
from ethica.service.db import new_id, utcnow
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


def check_subject(subject_id: str) -> None:
    """Refuse a subject id that is empty or longer than 100 characters."""
    if not subject_id or len(subject_id) > 100:
        raise InputError("a subject id has 1 to 100 characters")
