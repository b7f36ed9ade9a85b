"""A case's history as a reviewer reads it: appeals, escalations and every review step, in order.

Read from the rows the review steps keep (:mod:`.tables`); nothing here changes anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from ethica.ledger import KeyRing
from ethica.service.decisions.tables import Decision
from ethica.service.reviews.comments import review_comment
from ethica.service.reviews.tables import Appeal, Review, ReviewEscalation

EventKind = Literal["appeal", "escalation", "confirm", "override", "approve", "reject", "decide"]


@dataclass(frozen=True)
class CaseEvent:
    """One thing that happened to a held decision.

    ``actor`` is the reviewer of a review step (``None`` for appeals and escalations);
    ``outcome`` is the outcome a step stands for, or the outcome an appeal contested.
    """

    at: datetime
    kind: EventKind
    actor: str | None
    outcome: str | None
    status: str | None
    reason_code: str | None
    comment: str | None


def case_history(
    session: Session, *, decision_id: str, keyring: KeyRing | None = None
) -> list[CaseEvent]:
    """Everything that happened to ``decision_id`` under review, oldest first.

    Reviewers' comments are sealed with the customer's key: without a ``keyring`` (or once the
    customer was erased) they are None.
    """
    chain = session.scalar(select(Decision.ledger_chain).where(Decision.id == decision_id)) or ""
    events = [
        CaseEvent(a.created_at, "appeal", None, a.outcome_appealed, None, None, None)
        for a in session.scalars(select(Appeal).where(Appeal.decision_id == decision_id))
    ]
    events += [
        CaseEvent(e.escalated_at, "escalation", None, None, None, None, None)
        for e in session.scalars(
            select(ReviewEscalation).where(ReviewEscalation.decision_id == decision_id)
        )
    ]
    events += [
        CaseEvent(
            r.created_at,
            _step_kind(r.action),
            r.reviewer_id,
            r.outcome,
            r.status_after,
            r.reason_code,
            review_comment(session, keyring, r, chain=chain),
        )
        for r in session.scalars(select(Review).where(Review.decision_id == decision_id))
    ]
    return sorted(events, key=lambda e: e.at)


_STEP_KINDS: dict[str, EventKind] = {
    "confirm": "confirm",
    "override": "override",
    "approve": "approve",
    "reject": "reject",
    "decide": "decide",
}


def _step_kind(action: str) -> EventKind:
    return _STEP_KINDS[action]
