"""Use cases of the decision log: read decisions, record their true outcome."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ethica.governance import outcome_is_adverse, parse_spec
from ethica.service.db import utcnow
from ethica.service.decisions.explanations import Explanations
from ethica.service.decisions.record import FINAL_REVIEW_STATUSES
from ethica.service.decisions.tables import Decision
from ethica.service.errors import ConflictError, NotFoundError
from ethica.service.ledger.writer import Batch


def get_decision(session: Session, *, decision_id: str, subject_id: str | None = None) -> Decision:
    """One decision; with ``subject_id``, only if it is about that subject."""
    row = session.get(Decision, decision_id)
    if row is None or (subject_id is not None and (row.subject_id != subject_id or row.seeded)):
        raise NotFoundError(f"no decision {decision_id!r}")
    return row


def list_decisions(
    session: Session,
    *,
    system_id: str | None = None,
    subject_id: str | None = None,
    outcome: str | None = None,
    review_status: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Decision], int]:
    """Decisions matching every given filter, newest first, and how many match in all.

    Seeded review cases (known answers for reviewer quality) are never listed or counted.
    """
    query = select(Decision).where(Decision.seeded.is_(False))
    if system_id is not None:
        query = query.where(Decision.system_id == system_id)
    if subject_id is not None:
        query = query.where(Decision.subject_id == subject_id)
    if outcome is not None:
        query = query.where(Decision.outcome == outcome)
    if review_status is not None:
        query = query.where(Decision.review_status == review_status)
    if since is not None:
        query = query.where(Decision.created_at >= since)
    if until is not None:
        query = query.where(Decision.created_at < until)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(Decision.created_at.desc(), Decision.id).limit(limit).offset(offset)
    ).all()
    return list(rows), int(total)


def decision_counts(
    session: Session, *, since: datetime | None = None
) -> list[tuple[str, str, str, int]]:
    """How many decisions per system, outcome and review status (since a time).

    Returns ``(system_id, outcome, review_status, count)`` rows; seeded review cases are left out.
    """
    query = select(
        Decision.system_id, Decision.outcome, Decision.review_status, func.count()
    ).where(Decision.seeded.is_(False))
    if since is not None:
        query = query.where(Decision.created_at >= since)
    query = query.group_by(Decision.system_id, Decision.outcome, Decision.review_status)
    return [(str(s), str(o), str(r), int(n)) for s, o, r, n in session.execute(query)]


def record_outcome(batch: Batch, *, decision_id: str, outcome: str) -> Decision:
    """Record the true outcome of a decision and append it to the ledger (a writer job)."""
    row = get_decision(batch.session, decision_id=decision_id)
    if row.true_outcome is not None and row.true_outcome != outcome:
        raise ConflictError(
            f"decision {decision_id!r} already has the outcome {row.true_outcome!r}; outcomes are "
            "recorded once"
        )
    if row.true_outcome == outcome:
        return row
    row.true_outcome = outcome
    row.outcome_recorded_at = utcnow()
    batch.ledger.append(
        "outcome",
        chain=row.ledger_chain,
        subject=row.subject_id,
        public={"decision_id": row.id, "true_outcome": outcome},
    )
    batch.session.flush()
    return row


def decision_notice(
    session: Session,
    *,
    decision_id: str,
    format: Literal["text", "html"],
    master_key: bytes,
    subject_id: str | None = None,
) -> str:
    """The adverse-action notice of a decision: its principal reasons and the customer's rights.

    The notice follows the final decision: once a person confirmed it, it says so; once a
    person changed it, the model's reasons for its overruled recommendation are left out.
    Raises NotFoundError for a decision without an explanation (no model was used, or it
    was erased), and ConflictError while a person still has to act on it (the notice of a
    decision that is not final could contradict the final one).
    """
    from ethica.explain import adverse_action_notice
    from ethica.service.reviews.tables import Appeal
    from ethica.service.systems.service import get_system

    row = get_decision(session, decision_id=decision_id, subject_id=subject_id)
    explanation = Explanations.of_session(session, master_key).explanation(row)
    if not explanation or "reasons" not in explanation:
        raise NotFoundError(
            f"decision {decision_id!r} has no explanation to give notice of (no model decided it, "
            "or its explanation was erased)"
        )
    if row.review_status not in FINAL_REVIEW_STATUSES:
        raise ConflictError(
            f"decision {decision_id!r} is with a reviewer: its notice is given once a person "
            "has decided"
        )
    system = get_system(session, system_id=row.system_id)
    spec = parse_spec(system.spec)
    words = spec.outcome_words(row.outcome)
    return adverse_action_notice(
        explanation,
        system=system.name,
        outcome=words[:1].lower() + words[1:],
        format=format,
        decided_by=_DECIDED_BY.get(row.review_status, "system"),
        # Final, with an appeal on record: a person has decided it (appeals are not repeated).
        appeal_decided=session.scalar(
            select(Appeal.id).where(Appeal.decision_id == row.id).limit(1)
        )
        is not None,
        favourable=not outcome_is_adverse(spec, outcome=row.outcome),
    )


#: Who made a decision, for its notice: a person's final review makes it theirs.
_DECIDED_BY: dict[str, Literal["person_confirmed", "person_changed"]] = {
    "confirmed": "person_confirmed",
    "overridden": "person_changed",
    "decided": "person_changed",
}
