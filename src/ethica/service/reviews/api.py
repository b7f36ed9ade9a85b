"""Routes of human review: the queue, a case, claims, judgements, decisions, approvals, appeals,
seeded cases and reviewers' statistics.

Reviewers see what the model saw and said, never protected attributes. Deciding, approving,
appealing and seeding append to the ledger, so they run on the ledger writer; claims and
blind-first judgements are plain rows.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Query, Request

from ethica.service.answers import ERROR_ANSWERS
from ethica.service.auth import Principal
from ethica.service.decisions.explanations import Explanations
from ethica.service.decisions.schemas import LedgerRef
from ethica.service.deps import SessionDep, SettingsDep, StateDep, requires, run_job
from ethica.service.ledger.writer import Batch
from ethica.service.reviews import appeals, cases, judgements, seeded, service, stats
from ethica.service.reviews.schemas import (
    AppealCreate,
    AppealRead,
    ApprovalCreate,
    ClaimRead,
    JudgementCreate,
    JudgementRead,
    RejectionCreate,
    ReviewCaseRead,
    ReviewDecisionCreate,
    ReviewerStatsPage,
    ReviewQueue,
    ReviewRead,
    SeededCaseCreate,
    SeededCaseRead,
)
from ethica.service.reviews.tables import Review

router = APIRouter(tags=["reviews"], responses=ERROR_ANSWERS)
Reviewer = Annotated[Principal, requires("reviews:decide")]


def review_read(row: Review, chain: str, *, comment: str | None) -> ReviewRead:
    """The API's view of a review step (``comment`` as the reviewer wrote it: it is sealed)."""
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
        comment=comment,
        created_at=row.created_at,
        ledger=LedgerRef(chain=chain, sequence=row.ledger_sequence, hash=row.ledger_hash),
    )


@router.get("/v1/reviews", operation_id="list_review_queue", response_model=ReviewQueue)
def review_queue(
    session: SessionDep,
    settings: SettingsDep,
    reader: Annotated[Principal, requires("reviews:read")],
    system_id: Annotated[str | None, Query(max_length=100)] = None,
) -> ReviewQueue:
    """Decisions awaiting a reviewer: by priority, then by deadline (escalated ones are late)."""
    explanations = Explanations.of_session(session, settings.ledger.master_key_bytes)
    items = cases.queue(
        session, system_id=system_id, reviewer_id=reader.id, explanations=explanations
    )
    return ReviewQueue(items=items, total=len(items))


@router.get(
    "/v1/reviews/stats", operation_id="get_reviewer_stats", response_model=ReviewerStatsPage
)
def reviewer_stats(
    session: SessionDep, reader: Annotated[Principal, requires("reviews:stats")]
) -> ReviewerStatsPage:
    """Per-reviewer statistics: everyone's for officers and admins, a reviewer's own otherwise."""
    everyone = reader.can("reviews:oversee")
    return stats.reviewer_stats(session, reviewer_id=None if everyone else reader.id)


@router.post(
    "/v1/reviews/seeded",
    operation_id="create_seeded_case",
    response_model=SeededCaseRead,
    status_code=201,
)
async def create_seeded_case(
    body: SeededCaseCreate,
    request: Request,
    state: StateDep,
    officer: Annotated[Principal, requires("reviews:seed")],
) -> SeededCaseRead:
    """Put a case with a known correct outcome in the queue, to measure reviewers.

    The system's model scores it; reviewers cannot tell it from a real case; it never counts
    as a decision (lists, customer views and audits leave it out).
    """
    sessions = state.sessions

    def prepare() -> seeded.PreparedSeededCase:
        with sessions() as session:
            return seeded.prepare_seeded_case(session, body=body)

    prepared = await asyncio.to_thread(prepare)
    return await run_job(
        request, lambda batch: seeded.record_seeded_case(batch, prepared, created_by=officer.id)
    )


@router.get(
    "/v1/reviews/{decision_id}", operation_id="get_review_case", response_model=ReviewCaseRead
)
def review_case(
    decision_id: str,
    session: SessionDep,
    settings: SettingsDep,
    reader: Annotated[Principal, requires("reviews:read")],
) -> ReviewCaseRead:
    """One case exactly as you see it: inputs, score, outcome, explanation, appeal, deadlines.

    On a blind-first system the model's outcome, score and explanation are withheld until you
    record your judgement.
    """
    key = settings.ledger.master_key_bytes
    return cases.review_case(
        session,
        decision_id=decision_id,
        reviewer_id=reader.id,
        master_key=key,
    )


@router.post(
    "/v1/reviews/{decision_id}/judgement",
    operation_id="record_review_judgement",
    response_model=JudgementRead,
    status_code=201,
)
def record_judgement(
    decision_id: str, body: JudgementCreate, session: SessionDep, reviewer: Reviewer
) -> JudgementRead:
    """Record your own outcome for a blind-first case, before the model's is shown (once)."""
    row = judgements.record_judgement(
        session, decision_id=decision_id, reviewer_id=reviewer.id, outcome=body.outcome
    )
    return JudgementRead(
        decision_id=row.decision_id,
        reviewer_id=row.reviewer_id,
        outcome=row.outcome,
        created_at=row.created_at,
    )


@router.post(
    "/v1/me/decisions/{decision_id}/appeal",
    operation_id="appeal_my_decision",
    response_model=AppealRead,
    status_code=201,
)
async def appeal_my_decision(
    decision_id: str,
    body: AppealCreate,
    request: Request,
    customer: Annotated[Principal, requires("self:write")],
) -> AppealRead:
    """Appeal a decision about you: a person reviews it again, with your statement.

    409 while the decision is already with a reviewer.
    """

    def job(batch: Batch) -> AppealRead:
        row = appeals.appeal(
            batch,
            decision_id=decision_id,
            subject_id=customer.subject or "",
            statement=body.statement,
        )
        return AppealRead(
            id=row.id,
            decision_id=row.decision_id,
            review_status=cases.PENDING_REVIEW,
            review_reason=appeals.APPEAL_REASON,
            created_at=row.created_at,
            ledger=LedgerRef(
                chain=row.ledger_chain, sequence=row.ledger_sequence, hash=row.ledger_hash
            ),
        )

    return await run_job(request, job)


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
    """Confirm or override a held decision (an override needs a reason code and a comment), or
    decide a case no model decided (action ``decide``).

    A reviewer who reviewed the case before the customer appealed it may not decide the appeal
    (403). Overriding an adverse decision of a high-risk system waits for a second reviewer's
    approval.
    """

    def job(batch: Batch) -> ReviewRead:
        row = service.decide(batch, decision_id=decision_id, reviewer_id=reviewer.id, body=body)
        chain = service.chain_of(batch.session, decision_id)
        return review_read(row, chain, comment=body.comment)

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
        chain = service.chain_of(batch.session, decision_id)
        return review_read(row, chain, comment=body.comment)

    return await run_job(request, job)


@router.post(
    "/v1/reviews/{decision_id}/rejection",
    operation_id="reject_review",
    response_model=ReviewRead,
    status_code=201,
)
async def reject_review(
    decision_id: str, body: RejectionCreate, request: Request, reviewer: Reviewer
) -> ReviewRead:
    """A second reviewer rejects a proposed override, with the reason: the case goes back to
    the queue with the proposal recorded, and the decision keeps its outcome (four eyes)."""

    def job(batch: Batch) -> ReviewRead:
        row = service.reject(
            batch, decision_id=decision_id, reviewer_id=reviewer.id, reason=body.reason
        )
        chain = service.chain_of(batch.session, decision_id)
        return review_read(row, chain, comment=body.reason)  # the reason is the comment

    return await run_job(request, job)
