"""Routes of the registry of AI systems."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Query, Request, Response
from sqlalchemy import event
from sqlalchemy.orm import Session

from ethica.errors import InputError
from ethica.governance import parse_spec
from ethica.service.answers import ERROR_ANSWERS
from ethica.service.auth import Principal
from ethica.service.deps import SessionDep, requires, run_job
from ethica.service.governance.service import register_system
from ethica.service.ledger.writer import Batch
from ethica.service.paging import Offset
from ethica.service.state import state_of
from ethica.service.systems import service, suspension
from ethica.service.systems.schemas import ModelVersionRead, SystemPage, SystemRead
from ethica.service.systems.suspension import StatusChangeCreate, StatusChangeRead
from ethica.service.text import CleanJson

router = APIRouter(prefix="/v1/systems", tags=["systems"], responses=ERROR_ANSWERS)


@router.put(
    "/{system_id}",
    operation_id="apply_system",
    response_model=SystemRead,
)
async def apply_system(
    system_id: str,
    spec: Annotated[CleanJson, Body()],
    request: Request,
    response: Response,
    writer: Annotated[Principal, requires("systems:write")],
) -> SystemRead:
    """Register or update an AI system from its spec (the same fields as the YAML file).

    A spec with AI Act facts (``ai_act``) is classified, and a first or changed classification
    is appended to the system's ledger chain in the same commit as the spec.
    """
    parsed = parse_spec({**spec, "id": spec.get("id", system_id)})
    if parsed.id != system_id:
        raise InputError(f"the spec's id {parsed.id!r} differs from the URL's {system_id!r}")

    def job(batch: Batch) -> tuple[SystemRead, bool]:
        system, created = register_system(batch, spec=parsed, by=writer.actor)
        return SystemRead.model_validate(system), created

    applied, created = await run_job(request, job)
    state_of(request.app).gateway.forget_system(system_id)  # committed: reload it now
    response.status_code = 201 if created else 200
    return applied


@router.get(
    "",
    operation_id="list_systems",
    response_model=SystemPage,
    dependencies=[requires("systems:read")],
)
def list_systems(
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Offset = 0,
) -> SystemPage:
    """List registered systems."""
    rows, total = service.list_systems(session, limit=limit, offset=offset)
    return SystemPage(items=[SystemRead.model_validate(r) for r in rows], total=total)


@router.get(
    "/{system_id}",
    operation_id="get_system",
    response_model=SystemRead,
    dependencies=[requires("systems:read")],
)
def get_system(system_id: str, session: SessionDep) -> SystemRead:
    """Read one system."""
    return SystemRead.model_validate(service.get_system(session, system_id=system_id))


@router.post(
    "/{system_id}/models",
    operation_id="upload_model",
    response_model=ModelVersionRead,
    status_code=201,
    dependencies=[requires("systems:write")],
)
async def upload_model(
    system_id: str,
    request: Request,
    session: SessionDep,
    version: Annotated[str, Query(min_length=1, max_length=64)],
    format: Annotated[Literal["skops", "lightgbm", "xgboost"], Query()],
    serve: Annotated[
        bool, Query(description="Serve it now; false stores a candidate to try in shadow.")
    ] = True,
) -> ModelVersionRead:
    """Upload a model file (skops, LightGBM text or XGBoost JSON) as a new version."""
    content = await request.body()
    model = service.add_model_version(
        session,
        system_id=system_id,
        version=version,
        format=format,
        content=content,
        serve=serve,
    )
    _refresh_gateway_on_commit(session, request, system_id)
    return ModelVersionRead.model_validate(model)


def _refresh_gateway_on_commit(session: Session, request: Request, system_id: str) -> None:
    """Make the gateway reload the system once its change is committed (not before)."""
    gateway = state_of(request.app).gateway
    event.listen(session, "after_commit", lambda _: gateway.forget_system(system_id), once=True)


@router.put(
    "/{system_id}/models/{version}/training-summary",
    operation_id="set_training_summary",
    response_model=ModelVersionRead,
    dependencies=[requires("systems:write")],
)
def set_training_summary(
    system_id: str,
    version: str,
    summary: Annotated[CleanJson, Body()],
    session: SessionDep,
    request: Request,
) -> ModelVersionRead:
    """Store what explanations compare a customer with (``TrainingSummary.to_dict()``)."""
    model = service.set_training_summary(
        session, system_id=system_id, version=version, summary=summary
    )
    _refresh_gateway_on_commit(session, request, system_id)
    return ModelVersionRead.model_validate(model)


@router.post(
    "/{system_id}/suspension",
    operation_id="suspend_system",
    response_model=StatusChangeRead,
    status_code=201,
)
async def suspend_system(
    system_id: str,
    body: StatusChangeCreate,
    request: Request,
    officer: Annotated[Principal, requires("systems:suspend")],
) -> StatusChangeRead:
    """The kill switch: from now on a person decides (the declared fallback stands meanwhile).

    409 when the system is already suspended.
    """

    def job(batch: Batch) -> StatusChangeRead:
        return suspension.suspend(batch, system_id=system_id, reason=body.reason, by=officer.actor)

    return await _status_change(request, system_id, job)


@router.post(
    "/{system_id}/resumption",
    operation_id="resume_system",
    response_model=StatusChangeRead,
    status_code=201,
)
async def resume_system(
    system_id: str,
    body: StatusChangeCreate,
    request: Request,
    officer: Annotated[Principal, requires("systems:suspend")],
) -> StatusChangeRead:
    """Let a suspended system's model decide again (409 when it is not suspended)."""

    def job(batch: Batch) -> StatusChangeRead:
        return suspension.resume(batch, system_id=system_id, reason=body.reason, by=officer.actor)

    return await _status_change(request, system_id, job)


async def _status_change(
    request: Request, system_id: str, job: Callable[[Batch], StatusChangeRead]
) -> StatusChangeRead:
    changed = await run_job(request, job)
    state_of(request.app).gateway.forget_system(system_id)  # committed: reload it now
    return changed
