"""A system's mitigations as lifecycle changes its governance documents cite, each by its entry.

Every candidate put in shadow, promoted, rolled back or withdrawn is a ledger entry on the
system's chain; the documents (Annex IV point 6, the impact assessment's measures) list them in
words with the reference of that entry, so a reader can check each against the ledger.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ethica.governance import Change, LedgerRef
from ethica.service.ledger.store import row_entry
from ethica.service.ledger.tables import LedgerEntry
from ethica.service.users.tables import User

#: The ledger entry kinds of a candidate's life, and how a document says each.
MOVES = {
    "candidate": "put in shadow",
    "promotion": "promoted to decide for customers",
    "rollback": "rolled back",
    "withdrawal": "withdrawn from shadow without being served",
}


def mitigation_changes(session: Session, *, system_id: str) -> list[Change]:
    """Each move of the system's candidate mitigations, oldest first, citing its ledger entry."""
    rows = session.scalars(
        select(LedgerEntry)
        .where(LedgerEntry.chain == system_id, LedgerEntry.kind.in_(tuple(MOVES)))
        .order_by(LedgerEntry.sequence)
    )
    changes = []
    for row in rows:
        entry = row_entry(row)
        by = str(entry.public.get("by", ""))
        user = session.get(User, by.removeprefix("user:")) if by.startswith("user:") else None
        changes.append(
            Change(
                at=entry.recorded_at,
                what=_words(entry.kind, entry.public, by if user is None else user.name),
                ref=LedgerRef.of(entry),
                mitigation=True,
            )
        )
    return changes


def _words(kind: str, public: dict[str, Any], by: str) -> str:
    policy = public.get("policy") or {}
    if public.get("method") == "model":
        how = f"model version {public.get('model_version') or policy.get('model_version')}"
    else:
        criterion = policy.get("criterion")
        how = "group thresholds" + (f" for {criterion.replace('_', ' ')}" if criterion else "")
    said = f"Mitigation '{public.get('name')}' ({how}) {MOVES[kind]} by {by}"
    if public.get("reason"):
        said += f": {public['reason']}"
    if public.get("evidence_sha256"):
        said += f" (shadow comparison SHA-256 {public['evidence_sha256'][:16]}…)"
    return said + "."
