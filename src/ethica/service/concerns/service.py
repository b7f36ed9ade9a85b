"""Use cases of concerns: a customer reports one about their decision, an officer resolves it.

Reporting and resolving append to the decision's ledger chain, so they run as jobs on the
ledger writer. The words (the customer's text, the officer's response) are sealed in those
entries with the key of the decision's subject, system and month, like the decision's inputs:
erasing the subject, or the decision's retention running out, shreds them too.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ethica.errors import InputError
from ethica.ledger import KeyRing
from ethica.service.concerns.schemas import ConcernRead, ConcernStatus
from ethica.service.concerns.tables import Concern
from ethica.service.db import new_id, utcnow
from ethica.service.decisions.service import get_decision
from ethica.service.errors import ConflictError, NotFoundError
from ethica.service.ledger.naming import sealing_subject
from ethica.service.ledger.store import SqlKeyStore, row_entry
from ethica.service.ledger.tables import LedgerEntry
from ethica.service.ledger.writer import Batch
from ethica.service.notifications.service import notify

OPEN = "open"
RESOLVED = "resolved"


def report(batch: Batch, *, decision_id: str, subject_id: str, text: str) -> ConcernRead:
    """Record a customer's concern about their own decision (NotFoundError for another's)."""
    text = _words(text, what="a concern")
    decision = get_decision(batch.session, decision_id=decision_id, subject_id=subject_id)
    concern_id = new_id()
    entry = batch.ledger.append(
        "concern",
        chain=decision.ledger_chain,
        subject=sealing_subject(
            batch.ledger.keyring, subject_id, decision.system_id, decision.created_at
        ),
        public={
            "concern_id": concern_id,
            "decision_id": decision.id,
            "decision_sequence": decision.ledger_sequence,
        },
        personal={"text": text},
    )
    row = Concern(
        id=concern_id,
        decision_id=decision.id,
        system_id=decision.system_id,
        subject_id=subject_id,
        status=OPEN,
        created_at=utcnow(),
        ledger_chain=entry.chain,
        ledger_sequence=entry.sequence,
        resolved_at=None,
        resolved_by=None,
        resolution_sequence=None,
    )
    batch.session.add(row)
    batch.session.flush()
    return _read(row, text=text, response=None)


def resolve(batch: Batch, *, concern_id: str, response: str, by: str) -> ConcernRead:
    """Resolve an open concern with a response the customer will read (a writer job)."""
    response = _words(response, what="a response")
    session = batch.session
    row = session.get(Concern, concern_id)
    if row is None:
        raise NotFoundError(f"no concern {concern_id!r}")
    if row.status != OPEN:
        raise ConflictError(f"concern {concern_id!r} is already resolved")
    decision = get_decision(session, decision_id=row.decision_id)
    entry = batch.ledger.append(
        "concern_resolution",
        chain=row.ledger_chain,
        subject=sealing_subject(
            batch.ledger.keyring, row.subject_id, row.system_id, decision.created_at
        ),
        public={
            "concern_id": row.id,
            "decision_id": row.decision_id,
            "concern_sequence": row.ledger_sequence,
            "by": by,
        },
        personal={"response": response},
    )
    row.status = RESOLVED
    row.resolved_at = utcnow()
    row.resolved_by = by
    row.resolution_sequence = entry.sequence
    notify(session, decision=decision, kind="concern_answered")
    session.flush()
    keyring = batch.ledger.keyring
    text = (
        None
        if keyring is None
        else _opened(session, keyring, row.ledger_chain, row.ledger_sequence, "text")
    )
    return _read(row, text=text, response=response)


def list_concerns(
    session: Session,
    *,
    master_key: bytes,
    status: ConcernStatus | None = None,
    subject_id: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[ConcernRead], int]:
    """Concerns matching the filters, oldest first, with their words opened; and the total.

    ``master_key`` is the ledger's master key, which unwraps the subjects' keys.
    """
    query = select(Concern)
    if status is not None:
        query = query.where(Concern.status == status)
    if subject_id is not None:
        query = query.where(Concern.subject_id == subject_id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(Concern.created_at, Concern.id).limit(limit).offset(offset)
    ).all()
    keyring = KeyRing(master_key, store=SqlKeyStore(session))
    items = [
        _read(
            row,
            text=_opened(session, keyring, row.ledger_chain, row.ledger_sequence, "text"),
            response=None
            if row.resolution_sequence is None
            else _opened(session, keyring, row.ledger_chain, row.resolution_sequence, "response"),
        )
        for row in rows
    ]
    return items, int(total)


def _opened(
    session: Session, keyring: KeyRing, chain: str, sequence: int, field: str
) -> str | None:
    """A sealed field of a ledger entry; None once its key was destroyed (retention)."""
    stored = session.get(LedgerEntry, (chain, sequence))
    if stored is None:
        raise NotFoundError(f"ledger entry {chain}#{sequence} is missing")
    opened = keyring.open_or_none(row_entry(stored))
    return None if opened is None else str(opened[field])


def _words(value: str, *, what: str) -> str:
    value = value.strip()
    if not value:
        raise InputError(f"{what} needs some words: the text is empty")
    return value


def _read(row: Concern, *, text: str | None, response: str | None) -> ConcernRead:
    return ConcernRead.model_validate(
        {
            "id": row.id,
            "decision_id": row.decision_id,
            "system_id": row.system_id,
            "subject_id": row.subject_id,
            "status": row.status,
            "text": text,
            "created_at": row.created_at,
            "response": response,
            "resolved_at": row.resolved_at,
            "resolved_by": row.resolved_by,
        }
    )
