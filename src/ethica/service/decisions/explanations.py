"""A decision's explanation: sealed with its customer's key, opened for whoever reads it.

An explanation quotes the customer's own values ("your income of 2,100 ..."). For a decision
about a customer the ``decisions`` row keeps only :data:`SEALED` and the explanation itself
lives sealed with the subject's key in the decision's ledger entry, so erasing the subject
(destroying the key) makes every copy unreadable: the row's old versions in the write-ahead
log, in dead tuples and in dumps never held it in clear. Portal, console, API, notices and
exports read it through :class:`Explanations`, which says when it was erased.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from ethica.ledger import ErasedError, KeyRing, LedgerError, MasterKeyError
from ethica.service.decisions.schemas import ExplanationStatus
from ethica.service.decisions.tables import Decision
from ethica.service.ledger.store import SqlKeyStore, row_entry
from ethica.service.ledger.tables import LedgerEntry
from ethica.service.ledger.writer import Batch

SEALED: dict[str, Any] = {"sealed": "ledger"}
"""What a decision row keeps of an explanation sealed in its ledger entry."""


def stored_explanation(
    explanation: dict[str, Any] | None, *, sealed: bool
) -> dict[str, Any] | None:
    """What the decision row keeps: :data:`SEALED` when the ledger seals it, else itself."""
    if explanation is None:
        return None
    return dict(SEALED) if sealed else explanation


def is_sealed(stored: dict[str, Any] | None) -> bool:
    """Whether a row's explanation is sealed in its ledger entry (not kept in the row)."""
    return isinstance(stored, dict) and stored.get("sealed") == SEALED["sealed"]


def erased_marker(on: date) -> dict[str, Any]:
    """What an erasure leaves in a decision row's explanation: sealed, and erased on ``on``.

    Only the day: readers can say when the customer had it erased, while the row is not
    tied to one erasure request by its time.
    """
    return {**SEALED, "erased_on": on.isoformat()}


def erased_on(stored: dict[str, Any] | None) -> date | None:
    """The day an erasure destroyed the explanation of a row, when it says so."""
    day = stored.get("erased_on") if isinstance(stored, dict) else None
    try:
        return date.fromisoformat(day) if isinstance(day, str) else None
    except ValueError:
        return None


@dataclass(frozen=True)
class Opened:
    """A decision's explanation as a reader gets it, and what became of it."""

    explanation: dict[str, Any] | None
    status: ExplanationStatus
    erased_on: date | None = None  # the day of the erasure, when the row recorded it

    @classmethod
    def plain(cls, explanation: dict[str, Any] | None) -> Opened:
        """An explanation at hand (just computed, or kept in the row)."""
        return cls(explanation, "none" if not explanation else "given")


class Explanations:
    """Opens the sealed explanations of decisions, a page of rows at a time.

    Parameters
    ----------
    session : Session
        Reads the rows' ledger entries and their subjects' keys.
    keyring : KeyRing
        The key ring of ``session``'s database (see :meth:`of_session`).
    """

    def __init__(self, session: Session, keyring: KeyRing) -> None:
        self._session = session
        self._keyring = keyring
        self._opened: dict[str, Opened] = {}

    @classmethod
    def of_session(cls, session: Session, master_key: bytes) -> Explanations:
        """The explanations readable through ``session`` with the ledger's master key."""
        return cls(session, KeyRing(master_key, store=SqlKeyStore(session)))

    @classmethod
    def of_batch(cls, batch: Batch) -> Explanations:
        """The explanations readable in a ledger writer's job (with the writer's key ring)."""
        keyring = batch.ledger.keyring
        if keyring is None:
            raise MasterKeyError("the ledger writer has no key ring to open explanations with")
        return cls(batch.session, keyring)

    def of(self, row: Decision) -> Opened:
        """The explanation of one decision (opened from its entry when sealed)."""
        if row.id not in self._opened:
            self.load([row])
        return self._opened[row.id]

    def explanation(self, row: Decision) -> dict[str, Any] | None:
        """The explanation of one decision, ``None`` when it has none or it was erased."""
        return self.of(row).explanation

    def load(self, rows: Iterable[Decision]) -> None:
        """Open the explanations of ``rows`` (their ledger entries read in one query)."""
        sealed = [r for r in rows if r.id not in self._opened]
        for row in sealed:
            if not is_sealed(row.explanation):
                self._opened[row.id] = Opened.plain(row.explanation)
        sealed = [r for r in sealed if r.id not in self._opened]
        if not sealed:
            return
        places = {(r.ledger_chain, r.ledger_sequence): r.id for r in sealed}
        entries = self._session.scalars(
            select(LedgerEntry).where(
                tuple_(LedgerEntry.chain, LedgerEntry.sequence).in_(list(places))
            )
        )
        days = {r.id: erased_on(r.explanation) for r in sealed}
        for stored in entries:
            decision_id = places.pop((stored.chain, stored.sequence))
            self._opened[decision_id] = self._open(stored, days[decision_id])
        for decision_id in places.values():  # the entry is gone: verification names it
            self._opened[decision_id] = Opened(None, "unreadable")

    def _open(self, stored: LedgerEntry, day: date | None) -> Opened:
        try:
            personal = self._keyring.open(row_entry(stored))
        except ErasedError:
            return Opened(None, "erased", day)
        except LedgerError:
            return Opened(None, "unreadable")
        explanation = personal.get("explanation")
        if not isinstance(explanation, dict):
            return Opened(None, "erased", day) if not personal else Opened(None, "none")
        return Opened(explanation, "given")
