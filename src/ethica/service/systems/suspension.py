"""The kill switch: an officer suspends an AI system, and later resumes it.

While a system is suspended its model decides nothing: each decision is held for a person, with
the system's declared fallback as its provisional outcome when it has one. Both acts append an
entry (who, why) to the system's own ledger chain and change ``status`` on its row, as one job
on the ledger writer, so the check of the current status and the change cannot interleave.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from ethica.errors import InputError
from ethica.service.db import utcnow
from ethica.service.decisions.schemas import LedgerRef
from ethica.service.errors import ConflictError
from ethica.service.ledger.writer import Batch
from ethica.service.systems.service import get_system
from ethica.service.text import RequestSchema

ACTIVE = "active"
SUSPENDED = "suspended"

SUSPENDED_FALLBACK_TEXT = (
    "This system is suspended while it is being checked, so its model did not decide: a person "
    "will decide, and you will see the decision here."
)
"""Why a customer of a suspended system got the system's fallback decision."""

Act = Literal["suspension", "resumption"]


class StatusChangeCreate(RequestSchema):
    """Why a system is suspended or resumed (recorded in the ledger)."""

    reason: str = Field(min_length=1, max_length=2000)


class StatusChangeRead(BaseModel):
    """A suspension or resumption, and where the ledger holds it."""

    system_id: str
    act: Act
    status: str
    reason: str
    by: str
    at: datetime
    ledger: LedgerRef


@dataclass(frozen=True)
class _Change:
    act: Act
    before: str
    after: str


_CHANGES = {
    "suspension": _Change("suspension", ACTIVE, SUSPENDED),
    "resumption": _Change("resumption", SUSPENDED, ACTIVE),
}


def suspend(batch: Batch, *, system_id: str, reason: str, by: str) -> StatusChangeRead:
    """Suspend an active system (ConflictError when it is not active); a writer job."""
    return _change(batch, _CHANGES["suspension"], system_id=system_id, reason=reason, by=by)


def resume(batch: Batch, *, system_id: str, reason: str, by: str) -> StatusChangeRead:
    """Resume a suspended system (ConflictError when it is not suspended); a writer job."""
    return _change(batch, _CHANGES["resumption"], system_id=system_id, reason=reason, by=by)


def last_change(session: Session, *, system_id: str) -> StatusChangeRead | None:
    """The system's latest suspension or resumption, as its ledger entry records it."""
    from ethica.service.ledger.store import row_entry
    from ethica.service.ledger.tables import LedgerEntry

    row = session.scalar(
        select(LedgerEntry)
        .where(LedgerEntry.chain == system_id, LedgerEntry.kind.in_(tuple(_CHANGES)))
        .order_by(LedgerEntry.sequence.desc())
        .limit(1)
    )
    if row is None:
        return None
    entry = row_entry(row)
    return StatusChangeRead(
        system_id=system_id,
        act=_CHANGES[entry.kind].act,
        status=str(entry.public["status"]),
        reason=str(entry.public["reason"]),
        by=str(entry.public["by"]),
        at=entry.recorded_at,
        ledger=LedgerRef(chain=entry.chain, sequence=entry.sequence, hash=entry.hash),
    )


def _change(
    batch: Batch, change: _Change, *, system_id: str, reason: str, by: str
) -> StatusChangeRead:
    reason = reason.strip()
    if not reason:
        raise InputError(f"say why: a {change.act} needs a reason")
    system = get_system(batch.session, system_id=system_id)
    if system.status == change.after:
        raise ConflictError(f"system {system_id!r} is already {change.after}")
    if system.status != change.before:
        raise ConflictError(
            f"system {system_id!r} is {system.status}: only a {change.before} system can be "
            f"given a {change.act}"
        )
    now = utcnow()
    entry = batch.ledger.append(
        change.act,
        chain=system_id,
        public={
            "system_id": system_id,
            "status_before": change.before,
            "status": change.after,
            "reason": reason,
            "by": by,
        },
    )
    system.status = change.after
    system.updated_at = now
    batch.session.flush()
    return StatusChangeRead(
        system_id=system_id,
        act=change.act,
        status=change.after,
        reason=reason,
        by=by,
        at=now,
        ledger=LedgerRef(chain=entry.chain, sequence=entry.sequence, hash=entry.hash),
    )
