"""Routes of human review: the queue, claiming a case, deciding it, approving an override.

Reviewers see what the model saw and said, never protected attributes. Deciding and approving
append to the ledger, so they run on the ledger writer; claims are plain rows.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from ethica.service.auth import Principal, requires
from ethica.service.decisions.schemas import LedgerRef
from ethica.service.deps import SessionDep, run_job
from ethica.service.ledger.writer import Batch
from ethica.service.reviews import service
from ethica.service.reviews.schemas import (
    ApprovalCreate,
    ClaimRead,
    ReviewDecisionCreate,
    ReviewQueue,
    ReviewRead,
)
from ethica.service.reviews.tables import Review

router = APIRouter(tags=["reviews"])
Reviewer = Annotated[Principal, requires("reviews:decide")]


def review_read(row: Review, chain: str) -> ReviewRead:
    """The API's view of a review step."""
    return ReviewRead(
        id=row.id,
        decision_id=row.decision_id,
        reviewer_id=row.reviewer_id,
        action=row.action,
        review_status=row.status_after,
        original_outcome=row.original_outcome,
        outcome=row.outcome,
        final=row.status_after in service.FINAL_STATUSES,
        reason_code=row.reason_code,
        comment=row.comment,
        created_at=row.created_at,
        ledger=LedgerRef(chain=chain, sequence=row.ledger_sequence, hash=row.ledger_hash),
    )


@router.get(
    "/v1/reviews",
    operation_id="list_review_queue",
    response_model=ReviewQueue,
    dependencies=[requires("reviews:read")],
)
def review_queue(
    session: SessionDep, system_id: Annotated[str | None, Query(max_length=100)] = None
) -> ReviewQueue:
    """Decisions awaiting a reviewer: high-risk systems first, then oldest first."""
    cases = service.queue(session, system_id=system_id)
    return ReviewQueue(items=cases, total=len(cases))


@router.post(
    "/v1/reviews/{decision_id}/claim", operation_id="claim_review", response_model=ClaimRead
)
def claim_review(decision_id: str, session: SessionDep, reviewer: Reviewer) -> ClaimRead:
    """Hold a case so no other reviewer works on it (409 if another reviewer holds it)."""
    row = service.claim(session, decision_id=decision_id, reviewer_id=reviewer.id)
    return ClaimRead(decision_id=decision_id, claimed_by=row.reviewer_id, claimed_at=row.claimed_at)


@router.post(
    "/v1/reviews/{decision_id}/release", operation_id="release_review", response_model=ClaimRead
)
def release_review(decision_id: str, session: SessionDep, reviewer: Reviewer) -> ClaimRead:
    """Let go of a case you hold."""
    service.release(session, decision_id=decision_id, reviewer_id=reviewer.id)
    return ClaimRead(decision_id=decision_id, claimed_by=None, claimed_at=None)


@router.post(
    "/v1/reviews/{decision_id}/decision",
    operation_id="decide_review",
    response_model=ReviewRead,
    status_code=201,
)
async def decide_review(
    decision_id: str, body: ReviewDecisionCreate, request: Request, reviewer: Reviewer
) -> ReviewRead:
    """Confirm or override a held decision (an override needs a reason code).

    Overriding an adverse decision of a high-risk system waits for a second reviewer's approval.
    """

    def job(batch: Batch) -> ReviewRead:
        row = service.decide(batch, decision_id=decision_id, reviewer_id=reviewer.id, body=body)
        return review_read(row, service.chain_of(batch.session, decision_id))

    return await run_job(request, job)


@router.post(
    "/v1/reviews/{decision_id}/approval",
    operation_id="approve_review",
    response_model=ReviewRead,
    status_code=201,
)
async def approve_review(
    decision_id: str, body: ApprovalCreate, request: Request, reviewer: Reviewer
) -> ReviewRead:
    """A second reviewer approves a proposed override, which makes it final (four eyes)."""

    def job(batch: Batch) -> ReviewRead:
        row = service.approve(
            batch, decision_id=decision_id, reviewer_id=reviewer.id, comment=body.comment
        )
        return review_read(row, service.chain_of(batch.session, decision_id))

    return await run_job(request, job)
