"""Blind-first review: a reviewer's own judgement, recorded before they see the model's.

An automation-bias safeguard (EU AI Act Art. 14(4)(b)): on a system whose oversight policy sets
``blind_first``, the case view withholds the model's outcome, score and explanation until the
reviewer has recorded what they would decide; the judgement cannot be changed afterwards, goes
into the ledger with the review step, and is compared with the model's outcome in the stats.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from ethica.errors import InputError
from ethica.governance import BinaryDecision, MulticlassDecision, SystemSpec, parse_spec
from ethica.service.db import new_id, utcnow
from ethica.service.decisions.tables import Decision
from ethica.service.errors import ConflictError, NotFoundError
from ethica.service.reviews.cases import (
    OPEN_STATUSES,
    held_since,
    judgement_of,
    latest_appeals,
    person_decides,
)
from ethica.service.reviews.tables import ReviewClaim, ReviewJudgement
from ethica.service.systems.tables import System


def record_judgement(
    session: Session, *, decision_id: str, reviewer_id: str, outcome: str
) -> ReviewJudgement:
    """Record ``reviewer_id``'s own outcome for a blind-first case (once per time it is held).

    Raises NotFoundError for a decision not awaiting review, ConflictError when the system
    does not review blind-first, another reviewer holds the case, or this reviewer already
    judged it; InputError for an outcome the system cannot give.
    """
    decision = session.get(Decision, decision_id)
    if decision is None or decision.review_status not in OPEN_STATUSES:
        raise NotFoundError(f"no case {decision_id!r} awaits review")
    spec = parse_spec(session.get_one(System, decision.system_id).spec)
    if person_decides(decision):
        raise ConflictError(
            f"no model decided {decision_id!r}: there is no model outcome to hide, decide the "
            "case directly"
        )
    if not spec.oversight.blind_first:
        raise ConflictError(
            f"system {decision.system_id!r} does not review blind-first: decide the case directly"
        )
    held = session.get(ReviewClaim, decision_id)
    if held is not None and held.reviewer_id != reviewer_id:
        raise ConflictError(f"decision {decision_id!r} is held by reviewer {held.reviewer_id!r}")
    since = held_since(decision, latest_appeals(session, [decision_id]).get(decision_id))
    if judgement_of(session, decision=decision, reviewer_id=reviewer_id, since=since):
        raise ConflictError(
            "you already recorded your judgement of this case; it cannot change once the "
            "model's view is shown"
        )
    row = ReviewJudgement(
        id=new_id(),
        decision_id=decision_id,
        reviewer_id=reviewer_id,
        outcome=valid_outcome(spec, outcome),
        model_outcome=decision.outcome,
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    return row


def valid_outcome(spec: SystemSpec, outcome: str) -> str:
    """``outcome`` if the system's decision rule can give it; InputError otherwise."""
    decision = spec.decision
    allowed: list[str] | None = None
    if isinstance(decision, BinaryDecision):
        allowed = [decision.positive, decision.negative]
    elif isinstance(decision, MulticlassDecision):
        allowed = list(decision.classes)
    if allowed is not None and outcome not in allowed:
        raise InputError(f"outcome must be one of {allowed}, not {outcome!r}")
    return outcome
