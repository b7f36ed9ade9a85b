"""Routes of the decision path and the decision log."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import HTMLResponse, PlainTextResponse
from pydantic import AwareDatetime

from ethica.service.answers import ERROR_ANSWERS
from ethica.service.decisions import service
from ethica.service.decisions.explanations import Explanations
from ethica.service.decisions.record import decision_read
from ethica.service.decisions.route import DecisionRoute
from ethica.service.decisions.schemas import (
    DecisionCreate,
    DecisionPage,
    DecisionRead,
    OutcomeCreate,
)
from ethica.service.deps import SessionDep, SettingsDep, requires, run_job
from ethica.service.ledger.heads import public_key
from ethica.service.ledger.proofs import prove_decision
from ethica.service.ledger.schemas import InclusionProofRead
from ethica.service.paging import Offset
from ethica.service.state import state_of
from ethica.service.subjects.ids import SubjectQuery

router = APIRouter(tags=["decisions"], responses=ERROR_ANSWERS)


async def create_decision(
    system_id: str,
    body: DecisionCreate,
    request: Request,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> DecisionRead:
    """Run a decision through the governed path; it is recorded before the answer is sent."""
    if idempotency_key and not body.idempotency_key:
        body = body.model_copy(update={"idempotency_key": idempotency_key})
    # The hot path reads the gateway off the app: no dependency to resolve per decision.
    return await state_of(request.app).gateway.decide_async(system_id, body)


router.add_api_route(
    "/v1/systems/{system_id}/decisions",
    create_decision,
    methods=["POST"],
    operation_id="create_decision",
    response_model=DecisionRead,
    status_code=201,
    dependencies=[requires("decisions:write")],
    route_class_override=DecisionRoute,  # its common requests skip dependency solving
)


@router.get(
    "/v1/decisions",
    operation_id="list_decisions",
    response_model=DecisionPage,
    dependencies=[requires("decisions:read")],
)
def list_decisions(
    session: SessionDep,
    settings: SettingsDep,
    system_id: str | None = None,
    subject_id: SubjectQuery = None,
    outcome: str | None = None,
    review_status: str | None = None,
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Offset = 0,
) -> DecisionPage:
    """List decisions, newest first, filtered by system, subject, outcome, review and time."""
    rows, total = service.list_decisions(
        session,
        system_id=system_id,
        subject_id=subject_id,
        outcome=outcome,
        review_status=review_status,
        since=since,
        until=until,
        limit=limit,
        offset=offset,
    )
    explanations = Explanations.of_session(session, settings.ledger.master_key_bytes)
    explanations.load(rows)
    return DecisionPage(
        items=[decision_read(r, explanations) for r in rows],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.get(
    "/v1/decisions/{decision_id}",
    operation_id="get_decision",
    response_model=DecisionRead,
    dependencies=[requires("decisions:read")],
)
def get_decision(decision_id: str, session: SessionDep, settings: SettingsDep) -> DecisionRead:
    """Read one decision."""
    explanations = Explanations.of_session(session, settings.ledger.master_key_bytes)
    return decision_read(service.get_decision(session, decision_id=decision_id), explanations)


@router.get(
    "/v1/decisions/{decision_id}/proof",
    operation_id="prove_decision",
    response_model=InclusionProofRead,
    dependencies=[requires("decisions:read")],
)
def get_proof(decision_id: str, session: SessionDep, settings: SettingsDep) -> InclusionProofRead:
    """Prove the decision's ledger entry against its chain's newest signed head.

    Check it offline with the ledger's public key (``ethica ledger check-proof``); 409 while
    no head covers the entry yet (heads are signed within a minute).
    """
    row = service.get_decision(session, decision_id=decision_id)
    return InclusionProofRead.of(prove_decision(session, row, public_key=public_key(settings)))


@router.post(
    "/v1/decisions/{decision_id}/outcome",
    operation_id="record_outcome",
    response_model=DecisionRead,
    dependencies=[requires("outcomes:write")],
)
async def record_outcome(decision_id: str, body: OutcomeCreate, request: Request) -> DecisionRead:
    """Record the true outcome of a decision (repaid, churned, resolved), once."""
    return await run_job(
        request,
        lambda batch: decision_read(
            service.record_outcome(batch, decision_id=decision_id, outcome=body.outcome),
            Explanations.of_batch(batch),
        ),
    )


@router.get(
    "/v1/decisions/{decision_id}/notice",
    operation_id="get_decision_notice",
    response_class=PlainTextResponse,
    dependencies=[requires("decisions:read")],
)
def get_notice(
    decision_id: str,
    session: SessionDep,
    settings: SettingsDep,
    format: Annotated[Literal["text", "html"], Query()] = "text",
) -> Response:
    """The adverse-action notice of a decision (principal reasons, rights), as text or HTML."""
    text = service.decision_notice(
        session,
        decision_id=decision_id,
        format=format,
        master_key=settings.ledger.master_key_bytes,
    )
    return HTMLResponse(text) if format == "html" else PlainTextResponse(text)
