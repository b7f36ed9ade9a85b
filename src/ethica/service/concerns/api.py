"""Routes of concerns: customers report and read theirs; officers list and resolve them."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request

from ethica.service.answers import ERROR_ANSWERS
from ethica.service.auth import Principal
from ethica.service.concerns import service
from ethica.service.concerns.schemas import (
    ConcernCreate,
    ConcernPage,
    ConcernRead,
    ConcernStatus,
    ResolutionCreate,
)
from ethica.service.deps import SessionDep, requires, run_job
from ethica.service.ledger.writer import Batch
from ethica.service.paging import Offset
from ethica.service.state import state_of

router = APIRouter(tags=["concerns"], responses=ERROR_ANSWERS)


@router.post(
    "/v1/me/decisions/{decision_id}/concerns",
    operation_id="report_my_concern",
    response_model=ConcernRead,
    status_code=201,
)
async def report_concern(
    decision_id: str,
    body: ConcernCreate,
    request: Request,
    customer: Annotated[Principal, requires("self:write")],
) -> ConcernRead:
    """Report a concern about one of your decisions (another customer's is not found)."""
    subject_id = customer.subject or customer.id

    def job(batch: Batch) -> ConcernRead:
        return service.report(batch, decision_id=decision_id, subject_id=subject_id, text=body.text)

    return await run_job(request, job)


@router.get("/v1/me/concerns", operation_id="list_my_concerns", response_model=ConcernPage)
def my_concerns(
    session: SessionDep,
    request: Request,
    customer: Annotated[Principal, requires("self:read")],
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Offset = 0,
) -> ConcernPage:
    """Your concerns, oldest first, with the responses to those resolved."""
    items, total = service.list_concerns(
        session,
        master_key=_master_key(request),
        subject_id=customer.subject or customer.id,
        limit=limit,
        offset=offset,
    )
    return ConcernPage(items=items, total=total, limit=limit, offset=offset)


@router.get(
    "/v1/concerns",
    operation_id="list_concerns",
    response_model=ConcernPage,
    dependencies=[requires("concerns:read")],
)
def list_concerns(
    session: SessionDep,
    request: Request,
    status: Annotated[
        ConcernStatus | Literal["all"], Query(description="open (the default), resolved or all.")
    ] = "open",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Offset = 0,
) -> ConcernPage:
    """Customers' concerns, oldest first: the open ones unless ``status`` says otherwise."""
    items, total = service.list_concerns(
        session,
        master_key=_master_key(request),
        status=None if status == "all" else status,
        limit=limit,
        offset=offset,
    )
    return ConcernPage(items=items, total=total, limit=limit, offset=offset)


@router.post(
    "/v1/concerns/{concern_id}/resolution",
    operation_id="resolve_concern",
    response_model=ConcernRead,
    status_code=201,
)
async def resolve_concern(
    concern_id: str,
    body: ResolutionCreate,
    request: Request,
    officer: Annotated[Principal, requires("concerns:write")],
) -> ConcernRead:
    """Resolve an open concern with a response the customer reads (409 if already resolved)."""
    by = f"{officer.kind}:{officer.id}"

    def job(batch: Batch) -> ConcernRead:
        return service.resolve(batch, concern_id=concern_id, response=body.response, by=by)

    return await run_job(request, job)


def _master_key(request: Request) -> bytes:
    settings = state_of(request.app).settings
    return settings.ledger.master_key_bytes
