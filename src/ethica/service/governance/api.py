"""Routes of governance: a system's obligations register and its serious incidents (Art. 73).

Reading needs ``governance:read`` alone (an auditor's key); opening an incident and recording its
steps need ``incidents:write``. Each step is a ledger entry, written on the ledger writer.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request

from ethica.errors import InputError
from ethica.service.answers import ERROR_ANSWERS
from ethica.service.auth import Principal
from ethica.service.db import utcnow
from ethica.service.deps import SessionDep, SettingsDep, requires, run_job
from ethica.service.errors import NotFoundError
from ethica.service.governance import incidents
from ethica.service.governance.schemas import (
    IncidentCreate,
    IncidentPage,
    IncidentRead,
    IncidentStepCreate,
    RegisterRead,
)
from ethica.service.governance.service import register_of
from ethica.service.ledger.writer import Batch
from ethica.service.systems.service import get_system

router = APIRouter(prefix="/v1/systems", tags=["governance"], responses=ERROR_ANSWERS)


@router.get(
    "/{system_id}/obligations",
    operation_id="get_obligations_register",
    response_model=RegisterRead,
    dependencies=[requires("governance:read")],
)
def get_obligations_register(
    system_id: str, session: SessionDep, settings: SettingsDep
) -> RegisterRead:
    """The system's obligations register today: each obligation met by evidence, attested,
    missing or overdue, why, and the ledger entries it rests on.

    404 when the system is unknown or its spec declares no AI Act facts (``ai_act``).
    """
    register = register_of(session, settings=settings, system_id=system_id, now=utcnow())
    if register is None:
        raise NotFoundError(
            f"{system_id} has no obligations register: its spec declares no AI Act facts "
            f"(ai_act); add them with PUT /v1/systems/{system_id}"
        )
    return RegisterRead.of(register)


@router.get(
    "/{system_id}/incidents",
    operation_id="list_incidents",
    response_model=IncidentPage,
    dependencies=[requires("governance:read")],
)
def list_incidents(system_id: str, session: SessionDep) -> IncidentPage:
    """The system's serious incidents with their reporting clocks and histories in the ledger."""
    get_system(session, system_id=system_id)
    now = utcnow()
    found = incidents.incidents_of(session, system_id=system_id)
    return IncidentPage(items=[IncidentRead.of(i, now=now) for i in found], total=len(found))


@router.post(
    "/{system_id}/incidents",
    operation_id="open_incident",
    response_model=IncidentRead,
    status_code=201,
)
async def open_incident(
    system_id: str,
    body: IncidentCreate,
    request: Request,
    officer: Annotated[Principal, requires("incidents:write")],
) -> IncidentRead:
    """Open a serious incident and start its 2, 10 or 15-day reporting clock (Art. 73).

    422 for an unknown harm, an alert or concern not named in ``source_ref``, or an awareness
    in the future.
    """
    now = utcnow().replace(microsecond=0)
    aware = now if body.aware_at is None else body.aware_at
    if aware > now:
        raise InputError(
            f"aware_at {aware.isoformat()} is in the future; give when you learnt of the incident"
        )

    def job(batch: Batch) -> IncidentRead:
        opened = incidents.open_system_incident(
            batch, system_id=system_id, harm=body.harm, source=body.source,
            source_ref=body.source_ref, description=body.description, opened_by=officer.actor,
            aware_at=aware,
        )  # fmt: skip
        return IncidentRead.of(opened, now=now)

    return await run_job(request, job)


@router.post(
    "/{system_id}/incidents/{incident_id}/steps",
    operation_id="record_incident_step",
    response_model=IncidentRead,
    status_code=201,
)
async def record_incident_step(
    system_id: str,
    incident_id: str,
    body: IncidentStepCreate,
    request: Request,
    officer: Annotated[Principal, requires("incidents:write")],
) -> IncidentRead:
    """Record an incident's next step (its initial report, report, closing) in the ledger.

    404 for an unknown system or incident; 422 once the incident is closed.
    """
    now = utcnow().replace(microsecond=0)

    def job(batch: Batch) -> IncidentRead:
        get_system(batch.session, system_id=system_id)
        stepped = incidents.record_step(
            batch, system_id=system_id, incident_id=incident_id, step=body.step,
            by=officer.actor, at=now, note=body.note,
        )  # fmt: skip
        return IncidentRead.of(stepped, now=now)

    return await run_job(request, job)
