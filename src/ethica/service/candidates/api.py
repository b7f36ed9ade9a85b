"""Routes of candidate mitigations: register in shadow, compare, promote, roll back, withdraw."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, TypeVar

from fastapi import APIRouter, Query, Request

from ethica.service.answers import ERROR_ANSWERS
from ethica.service.auth import Principal
from ethica.service.candidates import service
from ethica.service.candidates.schemas import (
    CandidateCreate,
    CandidatePage,
    CandidateRead,
    ComparisonRead,
    PromotionCreate,
    PromotionRead,
)
from ethica.service.deps import SessionDep, SettingsDep, requires, run_job
from ethica.service.ledger.writer import Batch
from ethica.service.state import state_of

T = TypeVar("T")
router = APIRouter(prefix="/v1/systems", tags=["candidates"], responses=ERROR_ANSWERS)


@router.get(
    "/{system_id}/candidates",
    operation_id="list_candidates",
    response_model=CandidatePage,
    dependencies=[requires("audit:run")],
)
def list_candidates(system_id: str, session: SessionDep) -> CandidatePage:
    """A system's candidate mitigations, newest first."""
    items = service.list_candidates(session, system_id=system_id)
    return CandidatePage(items=items, total=len(items))


@router.post(
    "/{system_id}/candidates",
    operation_id="add_candidate",
    response_model=CandidateRead,
    status_code=201,
)
async def add_candidate(
    system_id: str,
    body: CandidateCreate,
    request: Request,
    settings: SettingsDep,
    writer: Annotated[Principal, requires("candidates:write")],
) -> CandidateRead:
    """Run a mitigation in shadow: every decision is also decided by it, stored, never shown.

    Group thresholds are chosen for ``criterion`` from the decisions with recorded outcomes,
    or given as ``rules``; a model candidate names a version uploaded with ``serve=false``.
    """
    policy = await _policy(request, settings, system_id, body)

    def job(batch: Batch) -> CandidateRead:
        return service.add_candidate(
            batch, system_id=system_id, create=body, policy=policy, by=actor(writer)
        )

    return await _then_reload(request, system_id, job)


@router.get(
    "/{system_id}/candidates/{candidate_id}/comparison",
    operation_id="compare_candidate",
    response_model=ComparisonRead,
    dependencies=[requires("audit:run")],
)
def compare_candidate(
    system_id: str,
    candidate_id: str,
    session: SessionDep,
    settings: SettingsDep,
    as_of: Annotated[datetime | None, Query(description="Decisions before this moment.")] = None,
) -> ComparisonRead:
    """The candidate's shadow decisions against the served ones, by group, with intervals."""
    return service.comparison(
        session,
        system_id=system_id,
        candidate_id=candidate_id,
        master_key=settings.ledger.master_key_bytes,
        as_of=as_of,
    )


@router.post(
    "/{system_id}/candidates/{candidate_id}/promotion",
    operation_id="promote_candidate",
    response_model=PromotionRead,
    status_code=201,
)
async def promote_candidate(
    system_id: str,
    candidate_id: str,
    body: PromotionCreate,
    request: Request,
    officer: Annotated[Principal, requires("candidates:promote")],
) -> PromotionRead:
    """Serve the candidate, citing the comparison reviewed (its digest and as_of).

    A ledger entry names the officer, the reason and the evidence. 409 when the comparison
    as of that moment differs from the one cited, or another candidate is served.
    """
    return await promote(request, system_id, candidate_id, body, by=actor(officer))


@router.post(
    "/{system_id}/candidates/{candidate_id}/rollback",
    operation_id="roll_back_candidate",
    response_model=PromotionRead,
    status_code=201,
)
async def roll_back_candidate(
    system_id: str,
    candidate_id: str,
    body: PromotionCreate,
    request: Request,
    officer: Annotated[Principal, requires("candidates:promote")],
) -> PromotionRead:
    """Stop serving a promoted candidate: the system decides as it did before (a ledger entry)."""
    return await roll_back(request, system_id, candidate_id, body, by=actor(officer))


@router.post(
    "/{system_id}/candidates/{candidate_id}/withdrawal",
    operation_id="withdraw_candidate",
    response_model=PromotionRead,
    status_code=201,
)
async def withdraw_candidate(
    system_id: str,
    candidate_id: str,
    body: PromotionCreate,
    request: Request,
    officer: Annotated[Principal, requires("candidates:promote")],
) -> PromotionRead:
    """Withdraw a candidate from shadow without serving it: it decides no more (a ledger entry).

    409 unless the candidate is in shadow.
    """
    return await withdraw(request, system_id, candidate_id, body, by=actor(officer))


async def promote(
    request: Request, system_id: str, candidate_id: str, body: PromotionCreate, *, by: str
) -> PromotionRead:
    """Check the cited evidence, then promote on the writer (shared with the dashboard)."""
    state = state_of(request.app)
    with state.sessions() as session:
        evidence = service.check_evidence(
            session,
            system_id=system_id,
            candidate_id=candidate_id,
            master_key=state.settings.ledger.master_key_bytes,
            evidence_sha256=body.evidence_sha256,
            as_of=body.as_of,
        )

    def job(batch: Batch) -> PromotionRead:
        return service.promote(
            batch,
            system_id=system_id,
            candidate_id=candidate_id,
            reason=body.reason,
            by=by,
            evidence=evidence,
        )

    return await _then_reload(request, system_id, job)


async def roll_back(
    request: Request, system_id: str, candidate_id: str, body: PromotionCreate, *, by: str
) -> PromotionRead:
    """Roll a served candidate back on the writer (shared with the dashboard)."""
    return await _stop(request, system_id, candidate_id, body, by, service.rollback)


async def withdraw(
    request: Request, system_id: str, candidate_id: str, body: PromotionCreate, *, by: str
) -> PromotionRead:
    """Withdraw a candidate in shadow on the writer (shared with the dashboard)."""
    return await _stop(request, system_id, candidate_id, body, by, service.withdraw)


async def _stop(
    request: Request,
    system_id: str,
    candidate_id: str,
    body: PromotionCreate,
    by: str,
    move: Callable[..., PromotionRead],
) -> PromotionRead:
    """Stop a candidate deciding (a rollback or a withdrawal): no evidence to check, a reason."""

    def job(batch: Batch) -> PromotionRead:
        reason = body.reason
        return move(batch, system_id=system_id, candidate_id=candidate_id, reason=reason, by=by)

    return await _then_reload(request, system_id, job)


def actor(principal: Principal) -> str:
    """How the ledger names who acted."""
    return f"{principal.kind}:{principal.id}"


async def _policy(
    request: Request, settings: SettingsDep, system_id: str, body: CandidateCreate
) -> dict[str, object]:
    from starlette.concurrency import run_in_threadpool

    from ethica.errors import InputError

    if body.method == "model":
        return {}
    if (body.criterion is None) == (body.rules is None):
        raise InputError("group thresholds take either a criterion (chosen now) or rules")

    def choose() -> dict[str, object]:
        with state_of(request.app).sessions() as session:
            if body.rules is not None:
                return service.given_thresholds(
                    session,
                    system_id=system_id,
                    rules=body.rules,
                    features=body.sensitive_features,
                )
            assert body.criterion is not None
            return service.choose_thresholds(
                session,
                database_url=settings.database.url,
                master_key=settings.ledger.master_key_bytes,
                system_id=system_id,
                criterion=body.criterion,
                sensitive_features=body.sensitive_features,
            )

    return await run_in_threadpool(choose)


async def _then_reload(request: Request, system_id: str, job: Callable[[Batch], T]) -> T:
    done = await run_job(request, job)
    state_of(request.app).gateway.forget_system(system_id)  # committed: reload it now
    return done
