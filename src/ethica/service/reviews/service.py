"""Human review: claims, confirmations, overrides and four eyes (the queue is in :mod:`.cases`).

Claims are plain rows changed in the request's session (they are not part of the record).
Every review step changes a decision and appends to the ledger, so it runs as a job on the
ledger writer (:func:`decide`, :func:`approve`): one thread, so the status checks and the
update cannot interleave with another reviewer's step.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ethica.errors import InputError
from ethica.governance import BinaryDecision, SystemSpec, parse_spec
from ethica.service.db import new_id, utcnow
from ethica.service.decisions.explanations import Explanations
from ethica.service.decisions.record import FINAL_REVIEW_STATUSES
from ethica.service.decisions.tables import Decision
from ethica.service.errors import ConflictError, NotFoundError, PermissionDeniedError
from ethica.service.ledger.writer import Batch
from ethica.service.notifications.schemas import NotificationKind
from ethica.service.notifications.service import notify
from ethica.service.reviews.appeals import APPEAL_REASON
from ethica.service.reviews.cases import (
    AWAITING_SECOND_APPROVAL,
    OPEN_STATUSES,
    PENDING_REVIEW,
    earlier_reviewers,
    held_since,
    judgement_of,
    latest_appeals,
    person_decides,
    proposals,
)
from ethica.service.reviews.comments import comment_key
from ethica.service.reviews.judgements import valid_outcome
from ethica.service.reviews.schemas import ReviewDecisionCreate
from ethica.service.reviews.tables import Review, ReviewClaim, ReviewJudgement, SeededCase
from ethica.service.systems.tables import System

FINAL_STATUSES = FINAL_REVIEW_STATUSES
DECIDED = "decided"
"""The review status of a case no model decided, once a person gave its outcome."""


# --- claims ------------------------------------------------------------------------------


def claim(session: Session, *, decision_id: str, reviewer_id: str) -> ReviewClaim:
    """Hold a case for ``reviewer_id`` (again is fine); ConflictError if another holds it."""
    decision = _open_decision(session, decision_id)
    check_fresh_eyes(session, decision_id=decision.id, reviewer_id=reviewer_id)
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
    since = held_since(decision, latest_appeals(session, [decision.id]).get(decision.id))
    notify(session, decision=decision, kind="review_started", once_since=since)
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


def check_fresh_eyes(session: Session, *, decision_id: str, reviewer_id: str) -> None:
    """PermissionDeniedError if ``reviewer_id`` reviewed the case before the customer appealed.

    An appeal is a new look by a different person (GDPR Art. 22(3)): whoever decided the
    original case may neither claim nor decide the appeal.
    """
    appeal = latest_appeals(session, [decision_id]).get(decision_id)
    if reviewer_id in earlier_reviewers(session, decision_id=decision_id, appeal=appeal):
        raise PermissionDeniedError(
            f"you reviewed decision {decision_id!r} before the customer appealed it: a "
            "different reviewer must decide the appeal"
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
    judgement: ReviewJudgement | None  # the reviewer's blind-first judgement, if any


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
    check_fresh_eyes(session, decision_id=decision_id, reviewer_id=reviewer_id)
    _check_claim(session, decision_id, reviewer_id)
    spec = parse_spec(session.get_one(System, decision.system_id).spec)
    if person_decides(decision):
        return _decide_directly(batch, spec, decision, reviewer_id, body)
    if body.action == "decide":
        raise InputError(
            "a model decided this case: confirm its outcome or override it with a reason"
        )
    judgement = None
    if spec.oversight.blind_first:
        since = held_since(decision, latest_appeals(session, [decision_id]).get(decision_id))
        judgement = judgement_of(session, decision=decision, reviewer_id=reviewer_id, since=since)
        if judgement is None:
            raise ConflictError(
                f"system {decision.system_id!r} reviews blind-first: record your own judgement "
                f"first (POST /v1/reviews/{decision_id}/judgement), then decide"
            )
    if body.action == "confirm":
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
            judgement,
        ),  # fmt: skip
    )


def _decide_directly(
    batch: Batch, spec: SystemSpec, decision: Decision, reviewer_id: str, body: ReviewDecisionCreate
) -> Review:
    """A person's own outcome for a case no model decided (objection, suspended system)."""
    if body.action != "decide":
        raise InputError(
            "no model decided this case (the customer objected to automated decisions, or the "
            "system is suspended): decide it yourself with action 'decide' and an outcome"
        )
    outcome = valid_outcome(spec, body.outcome or "")
    return _record(
        batch,
        _Step(
            decision,
            reviewer_id,
            "decide",
            DECIDED,
            decision.outcome,
            outcome,
            body.reason_code,
            body.comment,
            None,
        ),  # fmt: skip
    )


def approve(batch: Batch, *, decision_id: str, reviewer_id: str, comment: str | None) -> Review:
    """A second reviewer approves a proposed override, which makes it final."""
    return _second_look(batch, decision_id, reviewer_id, approved=True, comment=comment)


def reject(batch: Batch, *, decision_id: str, reviewer_id: str, reason: str) -> Review:
    """A second reviewer rejects a proposed override: the case goes back to the queue.

    The decision keeps its outcome and is open again (any reviewer may propose anew); the
    proposal stays recorded, in the reviews table and the ledger, with the rejection.
    """
    return _second_look(batch, decision_id, reviewer_id, approved=False, comment=reason)


def _second_look(
    batch: Batch, decision_id: str, reviewer_id: str, *, approved: bool, comment: str | None
) -> Review:
    """A second reviewer's approval or rejection of the override awaiting it (four eyes)."""
    session = batch.session
    decision = _open_decision(session, decision_id)
    if decision.review_status != AWAITING_SECOND_APPROVAL:
        raise ConflictError(f"decision {decision_id!r} has no override awaiting approval")
    (proposal,) = proposals(session, [decision_id])
    if proposal.reviewer_id == reviewer_id:
        raise ConflictError(
            "four eyes: a different reviewer than the one who proposed the override must "
            "approve or reject it"
        )
    check_fresh_eyes(session, decision_id=decision_id, reviewer_id=reviewer_id)
    _check_claim(session, decision_id, reviewer_id)
    action, status, outcome = (
        ("approve", "overridden", proposal.outcome)
        if approved
        else ("reject", PENDING_REVIEW, decision.outcome)
    )
    return _record(
        batch,
        _Step(
            decision,
            reviewer_id,
            action,
            status,
            proposal.original_outcome,
            outcome,
            proposal.reason_code,
            comment,
            None,
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
    claim = batch.session.get(ReviewClaim, decision.id)
    seeded = batch.session.get(SeededCase, decision.id) if decision.seeded else None
    matched = None if seeded is None else step.outcome == seeded.known_outcome
    sealed_by = comment_key(batch.ledger.keyring, decision) if step.comment is not None else None
    # What the reviewer saw is read first (the batch's explanations may take a while to open):
    # the row's time is read just before its entry's, within the ledger check's slack of it.
    seen = seen_by_reviewer(decision, Explanations.of_batch(batch).explanation(decision))
    now = utcnow()
    entry = batch.ledger.append(
        "review",
        chain=decision.ledger_chain,
        subject=sealed_by,
        personal=None if sealed_by is None else {"comment": step.comment},
        public={
            "decision_id": decision.id,
            "decision_sequence": decision.ledger_sequence,
            "reviewer_id": step.reviewer_id,
            "action": step.action,
            "status": step.status_after,
            "original_outcome": step.original_outcome,
            "outcome": step.outcome,
            "reason_code": step.reason_code,
            # A comment about a subject is sealed above; one without a subject stays in the
            # reviews table, and its digest here makes it tamper-evident.
            "comment_sha256": None
            if step.comment is None or sealed_by is not None
            else hashlib.sha256(step.comment.encode()).hexdigest(),
            "comment_sealed": sealed_by is not None,
            "seen": seen,
            "blind_judgement": None if step.judgement is None else step.judgement.outcome,
            # A seeded case's steps measure the reviewer; they never decide about a customer.
            "matched_known": matched,
        },
    )
    if step.status_after not in OPEN_STATUSES:
        decision.outcome = step.outcome
        answered = decision.review_reason == APPEAL_REASON and not decision.seeded
        kind: NotificationKind = "appeal_answered" if answered else "decided"
        notify(batch.session, decision=decision, kind=kind, outcome=step.outcome)
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
        comment=None if sealed_by is not None else step.comment,
        created_at=now,
        ledger_sequence=entry.sequence,
        ledger_hash=entry.hash,
        claimed_at=claim.claimed_at if claim is not None else None,
        matched_known=matched,
    )
    batch.session.add(review)
    batch.session.execute(delete(ReviewClaim).where(ReviewClaim.decision_id == decision.id))
    batch.session.flush()
    return review


def seen_by_reviewer(decision: Decision, explanation: dict[str, Any] | None) -> dict[str, Any]:
    """What the reviewer saw, without personal values (the inputs are sealed in the decision's
    own entry): the outcome, score, model version, the reasons' feature names, the data used."""
    reasons = (explanation or {}).get("reasons") or []
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
