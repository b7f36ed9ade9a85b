"""Reviewers' comments: personal data about the customer, so sealed with the customer's key.

A comment often quotes the customer ("called Ms X about her income"). On a decision about a
subject it is sealed in the review step's ledger entry with the key of the decision's subject,
system and month, like the decision's inputs, so that erasure and retention shred it with
them; the ``reviews`` row then keeps no text. A decision without a subject keeps the comment in
the row, as before (rows written before comments were sealed are cleared by an erasure).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from ethica.ledger import KeyRing, LedgerError
from ethica.service.decisions.tables import Decision
from ethica.service.ledger.naming import sealing_subject
from ethica.service.ledger.store import row_entry
from ethica.service.ledger.tables import LedgerEntry
from ethica.service.reviews.tables import Review


def comment_key(keyring: KeyRing | None, decision: Decision) -> str | None:
    """The key that seals comments on ``decision``; None when it names no subject."""
    if decision.subject_id is None:
        return None
    return sealing_subject(keyring, decision.subject_id, decision.system_id, decision.created_at)


def review_comment(
    session: Session, keyring: KeyRing | None, review: Review, *, chain: str
) -> str | None:
    """The step's comment: from its row, or opened from its ledger entry (None once erased)."""
    if review.comment is not None or keyring is None:
        return review.comment
    stored = session.get(LedgerEntry, (chain, review.ledger_sequence))
    if stored is None or stored.sealed_ciphertext is None:
        return None
    try:
        opened = keyring.open_or_none(row_entry(stored))
    except LedgerError:  # tampered or a wrong master key: the comment is not shown
        return None
    comment = None if opened is None else opened.get("comment")
    return comment if isinstance(comment, str) else None
