"""Escalation: a held decision past its review deadline is recorded as escalated, once.

The queue and the case view compute ``escalated`` on read; :func:`escalate_overdue` makes it a
fact in the ledger (one entry per case and deadline passed) so a late review is visible to
auditors. It is idempotent, and runs on a schedule in the service (:func:`start_schedule`).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from sqlalchemy import select

from ethica.governance import parse_spec
from ethica.service.db import utcnow
from ethica.service.decisions.tables import Decision
from ethica.service.ledger.writer import Batch
from ethica.service.reviews.cases import OPEN_STATUSES, held_since, latest_appeals
from ethica.service.reviews.clocks import review_deadline
from ethica.service.reviews.tables import ReviewEscalation
from ethica.service.scheduled import JobWriter, start_every
from ethica.service.systems.tables import System

log = logging.getLogger("ethica.service.reviews")

ESCALATION_INTERVAL_MINUTES = 15.0
"""How often the service looks for newly overdue cases: a quarter of an hour late at most,
against deadlines of hours or days."""


def escalate_overdue(batch: Batch, *, now: datetime | None = None) -> list[ReviewEscalation]:
    """Record every open case whose deadline passed and is not yet escalated (a writer job).

    One ledger entry (kind ``escalation``) in the decision's chain and one row per case and
    deadline; running it again records nothing new. Returns the new escalations.
    """
    session = batch.session
    moment = now or utcnow()
    decisions = list(
        session.scalars(select(Decision).where(Decision.review_status.in_(OPEN_STATUSES)))
    )
    if not decisions:
        return []
    ids = [d.id for d in decisions]
    specs = {
        s.id: parse_spec(s.spec)
        for s in session.scalars(
            select(System).where(System.id.in_({d.system_id for d in decisions}))
        )
    }
    appeals = latest_appeals(session, ids)
    done = {
        (decision_id, deadline)
        for decision_id, deadline in session.execute(
            select(ReviewEscalation.decision_id, ReviewEscalation.deadline).where(
                ReviewEscalation.decision_id.in_(ids)
            )
        )
    }
    escalated = []
    for decision in sorted(decisions, key=lambda d: (d.created_at, d.id)):
        since = held_since(decision, appeals.get(decision.id))
        deadline = review_deadline(specs[decision.system_id], since)
        if moment <= deadline or (decision.id, deadline) in done:
            continue
        entry = batch.ledger.append(
            "escalation",
            chain=decision.ledger_chain,
            public={
                "decision_id": decision.id,
                "decision_sequence": decision.ledger_sequence,
                "review_status": decision.review_status,
                "held_since": since.isoformat(),
                "deadline": deadline.isoformat(),
            },
        )
        row = ReviewEscalation(
            decision_id=decision.id,
            deadline=deadline,
            escalated_at=moment,
            ledger_sequence=entry.sequence,
            ledger_hash=entry.hash,
        )
        session.add(row)
        escalated.append(row)
    session.flush()
    return escalated


def start_schedule(
    writer: JobWriter, *, minutes: float = ESCALATION_INTERVAL_MINUTES
) -> asyncio.Task[None] | None:
    """Run :func:`escalate_overdue` every ``minutes`` on the running loop; ``None`` when 0."""
    return start_every(
        writer, escalate_overdue, seconds=minutes * 60.0, name="escalation", report=_log_overdue
    )


def _log_overdue(rows: list[ReviewEscalation]) -> None:
    for row in rows:
        log.warning("review of decision %s is overdue since %s", row.decision_id, row.deadline)
