"""Routes for customers (their own decisions only) and for the links that sign them in."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from ethica.service.auth import Principal, requires
from ethica.service.decisions import service as decisions
from ethica.service.decisions.schemas import DecisionPage, DecisionRead
from ethica.service.deps import SessionDep
from ethica.service.gateway import decision_read
from ethica.service.subjects import service
from ethica.service.subjects.schemas import LinkCreate, LinkRead

router = APIRouter(tags=["subjects"])


@router.post(
    "/v1/subjects/{subject_id}/links",
    operation_id="create_customer_link",
    response_model=LinkRead,
    status_code=201,
)
def create_link(
    subject_id: str,
    body: LinkCreate,
    request: Request,
    _: Annotated[Principal, requires("links:write")],
) -> LinkRead:
    """Sign a link token for a customer your app has authenticated (they see only their data)."""
    from ethica.service.app import state_of

    settings = state_of(request.app).settings.app
    token, minutes = service.customer_link(
        subject_id=subject_id, settings=settings, minutes=body.minutes
    )
    return LinkRead(subject_id=subject_id, token=token, expires_in_minutes=minutes)


@router.get("/v1/me/decisions", operation_id="list_my_decisions", response_model=DecisionPage)
def my_decisions(
    session: SessionDep,
    customer: Annotated[Principal, requires("self:read")],
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> DecisionPage:
    """The decisions about the signed-in customer, newest first."""
    rows, total = decisions.list_decisions(
        session, subject_id=customer.subject or "", limit=limit, offset=offset
    )
    return DecisionPage(
        items=[decision_read(r) for r in rows], total=total, limit=limit, offset=offset
    )


@router.get(
    "/v1/me/decisions/{decision_id}", operation_id="get_my_decision", response_model=DecisionRead
)
def my_decision(
    decision_id: str, session: SessionDep, customer: Annotated[Principal, requires("self:read")]
) -> DecisionRead:
    """One decision about the signed-in customer (another customer's is not found)."""
    row = decisions.get_decision(
        session, decision_id=decision_id, subject_id=customer.subject or ""
    )
    return decision_read(row)
