"""Human review: the queue of held decisions, claims, confirmations, overrides and four eyes.

Claims are plain rows changed in the request's session (they are not part of the record).
Every review step changes a decision and appends to the ledger, so it runs as a job on the
ledger writer (:func:`decide`, :func:`approve`): one thread, so the status checks and the
update cannot interleave with another reviewer's step.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ethica.errors import InputError
from ethica.governance import BinaryDecision, SystemSpec, parse_spec
from ethica.service.db import new_id, utcnow
from ethica.service.decisions.record import FINAL_REVIEW_STATUSES
from ethica.service.decisions.tables import Decision
from ethica.service.errors import ConflictError, NotFoundError
from ethica.service.ledger.writer import Batch
from ethica.service.reviews.schemas import ReviewCase, ReviewDecisionCreate
from ethica.service.reviews.tables import Review, ReviewClaim
from ethica.service.systems.tables import System

PENDING_REVIEW = "pending_review"
AWAITING_SECOND_APPROVAL = "awaiting_second_approval"
FINAL_STATUSES = FINAL_REVIEW_STATUSES
OPEN_STATUSES = (PENDING_REVIEW, AWAITING_SECOND_APPROVAL)

SLA_BUSINESS_DAYS = 2
"""A held decision should be reviewed within this many business days (Monday to Friday) of
being made. A constant rather than a setting: it is a service level stated to customers, and
changing it is a policy change, not a deployment detail. Public holidays are not counted."""


def sla_deadline(created_at: datetime, *, business_days: int = SLA_BUSINESS_DAYS) -> datetime:
    """``created_at`` plus ``business_days`` weekdays, at the same time of day.

    A decision made on a weekend counts as made on the Monday (numpy's ``busday_offset`` with
    ``roll="forward"``).
    """
    deadline = created_at
    while deadline.weekday() >= 5:
        deadline += timedelta(days=1)
    left = business_days
    while left > 0:
        deadline += timedelta(days=1)
        if deadline.weekday() < 5:
            left -= 1
    return deadline


# --- the queue ---------------------------------------------------------------------------


def queue(session: Session, *, system_id: str | None = None) -> list[ReviewCase]:
    """Open cases: high-risk systems first, then oldest first (ties broken by id)."""
    query = select(Decision).where(Decision.review_status.in_(OPEN_STATUSES))
    if system_id is not None:
        query = query.where(Decision.system_id == system_id)
    decisions = list(session.scalars(query))
    ids = [d.id for d in decisions]
    tiers = {
        s.id: str(s.spec.get("risk_tier", "limited"))
        for s in session.scalars(
            select(System).where(System.id.in_({d.system_id for d in decisions}))
        )
    }
    claims = {
        c.decision_id: c.reviewer_id
        for c in session.scalars(select(ReviewClaim).where(ReviewClaim.decision_id.in_(ids)))
    }
    proposals = {p.decision_id: p for p in _proposals(session, ids)}
    cases = [_case(d, tiers.get(d.system_id, "limited"), claims, proposals) for d in decisions]
    cases.sort(key=lambda c: (c.priority != "high", c.created_at, c.decision_id))
    return cases


def _case(
    decision: Decision, tier: str, claims: dict[str, str], proposals: dict[str, Review]
) -> ReviewCase:
    proposal = proposals.get(decision.id) if decision.review_status != PENDING_REVIEW else None
    return ReviewCase.model_validate(
        {
            "decision_id": decision.id,
            "system_id": decision.system_id,
            "risk_tier": tier,
            "priority": "high" if tier == "high" else "normal",
            "created_at": decision.created_at,
            "sla_deadline": sla_deadline(decision.created_at),
            "review_status": decision.review_status,
            "review_reason": decision.review_reason,
            "outcome": decision.outcome,
            "score": decision.score,
            "model_version": decision.model_version,
            "explanation": decision.explanation,
            "data": decision.data,
            "claimed_by": claims.get(decision.id),
            "proposed_outcome": None if proposal is None else proposal.outcome,
            "proposed_by": None if proposal is None else proposal.reviewer_id,
        }
    )


def _proposals(session: Session, decision_ids: Sequence[str]) -> Iterable[Review]:
    """The latest proposed override of each decision awaiting a second approval."""
    rows = session.scalars(
        select(Review)
        .where(
            Review.decision_id.in_(decision_ids), Review.status_after == AWAITING_SECOND_APPROVAL
        )
        .order_by(Review.created_at)
    )
    return {r.decision_id: r for r in rows}.values()


# --- claims ------------------------------------------------------------------------------


def claim(session: Session, *, decision_id: str, reviewer_id: str) -> ReviewClaim:
    """Hold a case for ``reviewer_id`` (again is fine); ConflictError if another holds it."""
    decision = _open_decision(session, decision_id)
    held = session.get(ReviewClaim, decision.id)
    if held is not None:
        if held.reviewer_id != reviewer_id:
            raise _held_by_another(held)
        return held
    row = ReviewClaim(decision_id=decision.id, reviewer_id=reviewer_id, claimed_at=utcnow())
    try:
        with session.begin_nested():  # two reviewers racing: the primary key picks one
            session.add(row)
    except IntegrityError as error:
        raise ConflictError(
            f"decision {decision_id!r} was just claimed by another reviewer"
        ) from error
    return row


def release(session: Session, *, decision_id: str, reviewer_id: str) -> None:
    """Let go of a case held by ``reviewer_id`` (nothing to do when nobody holds it)."""
    if session.get(Decision, decision_id) is None:
        raise NotFoundError(f"no decision {decision_id!r}")
    held = session.get(ReviewClaim, decision_id)
    if held is None:
        return
    if held.reviewer_id != reviewer_id:
        raise _held_by_another(held)
    session.delete(held)


def _held_by_another(held: ReviewClaim) -> ConflictError:
    return ConflictError(
        f"decision {held.decision_id!r} is held by reviewer {held.reviewer_id!r}; "
        "wait for them to release it"
    )


def _open_decision(session: Session, decision_id: str) -> Decision:
    decision = session.get(Decision, decision_id)
    if decision is None:
        raise NotFoundError(f"no decision {decision_id!r}")
    if decision.review_status not in OPEN_STATUSES:
        raise ConflictError(
            f"decision {decision_id!r} is not awaiting review (status {decision.review_status!r})"
        )
    return decision


# --- review steps (writer jobs) ----------------------------------------------------------


@dataclass(frozen=True)
class _Step:
    decision: Decision
    reviewer_id: str
    action: str
    status_after: str
    original_outcome: str
    outcome: str
    reason_code: str | None
    comment: str | None


def decide(
    batch: Batch, *, decision_id: str, reviewer_id: str, body: ReviewDecisionCreate
) -> Review:
    """Confirm or override a held decision; an adverse high-risk override waits for four eyes."""
    session = batch.session
    decision = _open_decision(session, decision_id)
    if decision.review_status == AWAITING_SECOND_APPROVAL:
        raise ConflictError(
            f"decision {decision_id!r} awaits a second reviewer's approval of an override: "
            f"POST /v1/reviews/{decision_id}/approval"
        )
    _check_claim(session, decision_id, reviewer_id)
    spec = parse_spec(session.get_one(System, decision.system_id).spec)
    if body.action == "confirm":
        if decision.outcome == "pending":
            raise InputError("this decision has no outcome yet: override it with one")
        status, outcome = "confirmed", decision.outcome
    else:
        outcome = _valid_override(spec, decision, body.outcome or "")
        status = AWAITING_SECOND_APPROVAL if _needs_four_eyes(spec, decision) else "overridden"
    return _record(
        batch,
        _Step(
            decision,
            reviewer_id,
            body.action,
            status,
            decision.outcome,
            outcome,
            body.reason_code,
            body.comment,
        ),  # fmt: skip
    )


def approve(batch: Batch, *, decision_id: str, reviewer_id: str, comment: str | None) -> Review:
    """A second reviewer approves a proposed override, which makes it final."""
    session = batch.session
    decision = _open_decision(session, decision_id)
    if decision.review_status != AWAITING_SECOND_APPROVAL:
        raise ConflictError(f"decision {decision_id!r} has no override awaiting approval")
    (proposal,) = _proposals(session, [decision_id])
    if proposal.reviewer_id == reviewer_id:
        raise ConflictError(
            "four eyes: the override must be approved by a different reviewer than the one "
            "who proposed it"
        )
    _check_claim(session, decision_id, reviewer_id)
    return _record(
        batch,
        _Step(
            decision,
            reviewer_id,
            "approve",
            "overridden",
            proposal.original_outcome,
            proposal.outcome,
            proposal.reason_code,
            comment,
        ),  # fmt: skip
    )


def _check_claim(session: Session, decision_id: str, reviewer_id: str) -> None:
    held = session.get(ReviewClaim, decision_id)
    if held is not None and held.reviewer_id != reviewer_id:
        raise _held_by_another(held)


def _valid_override(spec: SystemSpec, decision: Decision, outcome: str) -> str:
    if isinstance(spec.decision, BinaryDecision):
        allowed = (spec.decision.positive, spec.decision.negative)
        if outcome not in allowed:
            raise InputError(f"outcome must be one of {list(allowed)}, not {outcome!r}")
    if outcome == decision.outcome:
        raise InputError(f"the decision's outcome is already {outcome!r}: confirm it instead")
    return outcome


def _needs_four_eyes(spec: SystemSpec, decision: Decision) -> bool:
    """Overriding an adverse decision of a high-risk system needs a second reviewer."""
    return (
        spec.risk_tier == "high"
        and isinstance(spec.decision, BinaryDecision)
        and decision.outcome == spec.decision.adverse_outcome
    )


def _record(batch: Batch, step: _Step) -> Review:
    """Append the step to the decision's chain, update the decision, keep the review row."""
    decision = step.decision
    now = utcnow()
    entry = batch.ledger.append(
        "review",
        chain=decision.ledger_chain,
        public={
            "decision_id": decision.id,
            "decision_sequence": decision.ledger_sequence,
            "reviewer_id": step.reviewer_id,
            "action": step.action,
            "status": step.status_after,
            "original_outcome": step.original_outcome,
            "outcome": step.outcome,
            "reason_code": step.reason_code,
            # The comment stays in the reviews table; its digest here makes it tamper-evident.
            "comment_sha256": None
            if step.comment is None
            else hashlib.sha256(step.comment.encode()).hexdigest(),
            "seen": seen_by_reviewer(decision),
        },
    )
    if step.status_after != AWAITING_SECOND_APPROVAL:
        decision.outcome = step.outcome
    decision.review_status = step.status_after
    review = Review(
        id=new_id(),
        decision_id=decision.id,
        reviewer_id=step.reviewer_id,
        action=step.action,
        status_after=step.status_after,
        original_outcome=step.original_outcome,
        outcome=step.outcome,
        reason_code=step.reason_code,
        comment=step.comment,
        created_at=now,
        ledger_sequence=entry.sequence,
        ledger_hash=entry.hash,
    )
    batch.session.add(review)
    batch.session.execute(delete(ReviewClaim).where(ReviewClaim.decision_id == decision.id))
    batch.session.flush()
    return review


def seen_by_reviewer(decision: Decision) -> dict[str, Any]:
    """What the reviewer saw, without personal values (the inputs are sealed in the decision's
    own entry): the outcome, score, model version, the reasons' feature names, the data used."""
    explanation = decision.explanation or {}
    reasons = explanation.get("reasons") or []
    data = decision.data or {}
    return {
        "outcome": decision.outcome,
        "score": decision.score,
        "model_version": decision.model_version,
        "reasons": [str(r.get("feature")) for r in reasons if isinstance(r, dict)],
        "data_used": list(data.get("used", [])),
        "data_withheld": [str(w.get("feature")) for w in data.get("withheld", [])],
    }


def chain_of(session: Session, decision_id: str) -> str:
    """The ledger chain of a decision (where its review steps are appended)."""
    return session.get_one(Decision, decision_id).ledger_chain
