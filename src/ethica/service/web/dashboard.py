"""The officer dashboard: systems, volumes, reviews, fairness, concerns, ledger, kill switch.

Pages read through the same service functions as the JSON API; the kill switch and answers to
concerns append to the ledger, so they run on the ledger writer exactly as their API routes do,
and answer 303 back to the page they came from (POST/redirect/GET).
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable
from typing import Annotated, Literal

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from ethica.errors import InputError
from ethica.service.concerns import service as concerns
from ethica.service.concerns.schemas import ConcernRead
from ethica.service.db import utcnow
from ethica.service.deps import SessionDep, run_job
from ethica.service.ledger.service import verify_ledger
from ethica.service.ledger.writer import Batch
from ethica.service.settings import Settings
from ethica.service.systems import suspension
from ethica.service.systems.service import get_system
from ethica.service.web.dashboard_fairness import PERIODS, live_snapshot, ranking_items
from ethica.service.web.dashboard_overview import overview, staff_names
from ethica.service.web.rendering import is_htmx, render
from ethica.service.web.session import Viewer, page_requires

router = APIRouter(prefix="/dashboard", tags=["web"], include_in_schema=False)

Officer = Annotated[Viewer, page_requires("audit:run")]
Act = Literal["suspension", "resumption"]


def _settings(request: Request) -> Settings:
    from ethica.service.app import state_of

    return state_of(request.app).settings


def _actor(viewer: Viewer) -> str:
    return f"{viewer.principal.kind}:{viewer.principal.id}"


@router.get("")
def dashboard(request: Request, session: SessionDep, viewer: Officer) -> Response:
    """The landing page: inventory, volumes, reviews, concerns, rights requests, ledger."""
    gathered = overview(session, settings=_settings(request), viewer=viewer, now=utcnow())
    return render(request, "dashboard/index.html", {"overview": gathered}, viewer=viewer)


@router.get("/ledger")
def ledger_status(
    request: Request,
    session: SessionDep,
    viewer: Annotated[Viewer, page_requires("ledger:verify")],
) -> Response:
    """Verify every chain now: OK, or the first broken entry (a fragment for htmx)."""
    report = verify_ledger(session, settings=_settings(request))
    context = {"report": report, "checked_at": utcnow()}
    template = "dashboard/_ledger.html" if is_htmx(request) else "dashboard/ledger.html"
    return render(request, template, context, viewer=viewer)


@router.get("/systems/{system_id}")
def system_page(
    system_id: str,
    request: Request,
    session: SessionDep,
    viewer: Officer,
    days: Annotated[int, Query()] = 30,
    item: Annotated[str | None, Query(max_length=200)] = None,
    done: Annotated[Act | None, Query()] = None,
) -> Response:
    """A system: its facts, a fairness snapshot of its live decisions, the kill switch."""
    if days not in PERIODS:
        raise InputError(f"choose a period of {', '.join(map(str, PERIODS))} days, not {days}")
    system = get_system(session, system_id=system_id)
    items = ranking_items(system)
    if items and item is None:
        item = items[0]
    snapshot, problem = None, None
    try:
        snapshot = live_snapshot(
            session,
            settings=_settings(request),
            system=system,
            days=days,
            now=utcnow(),
            item=item if items else None,
        )
    except InputError as error:
        problem = str(error)
    change = suspension.last_change(session, system_id=system_id)
    context = {
        "system": system,
        "days": days,
        "periods": PERIODS,
        "items": items,
        "item": item,
        "snapshot": snapshot,
        "problem": problem,
        "change": change,
        "names": _actor_names(session, [change.by] if change else []),
        "done": done,
    }
    return render(request, "dashboard/system.html", context, viewer=viewer)


@router.post("/systems/{system_id}/suspension")
async def suspend_system(
    system_id: str,
    request: Request,
    viewer: Annotated[Viewer, page_requires("systems:suspend")],
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """The kill switch: from now on a person decides each of the system's decisions."""

    def job(batch: Batch) -> suspension.StatusChangeRead:
        return suspension.suspend(batch, system_id=system_id, reason=reason, by=_actor(viewer))

    return await _status_change(request, system_id, "suspension", job)


@router.post("/systems/{system_id}/resumption")
async def resume_system(
    system_id: str,
    request: Request,
    viewer: Annotated[Viewer, page_requires("systems:suspend")],
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Let a suspended system's model decide again."""

    def job(batch: Batch) -> suspension.StatusChangeRead:
        return suspension.resume(batch, system_id=system_id, reason=reason, by=_actor(viewer))

    return await _status_change(request, system_id, "resumption", job)


async def _status_change(
    request: Request,
    system_id: str,
    act: Act,
    job: Callable[[Batch], suspension.StatusChangeRead],
) -> Response:
    from ethica.service.app import state_of

    await run_job(request, job)
    state_of(request.app).gateway.forget_system(system_id)  # committed: reload it now
    return RedirectResponse(f"/dashboard/systems/{system_id}?done={act}", status_code=303)


@router.get("/concerns")
def concerns_page(
    request: Request,
    session: SessionDep,
    viewer: Annotated[Viewer, page_requires("concerns:read")],
    status: Annotated[Literal["open", "resolved"], Query()] = "open",
    resolved: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    """Customers' concerns about their decisions: the open ones to answer, or the answered."""
    master_key = base64.b64decode(_settings(request).ledger.master_key.get_secret_value())
    items, total = concerns.list_concerns(session, master_key=master_key, status=status, limit=200)
    context = {
        "concerns": items,
        "total": total,
        "status": status,
        "resolved": resolved,
        "names": _actor_names(session, (c.resolved_by for c in items if c.resolved_by)),
    }
    return render(request, "dashboard/concerns.html", context, viewer=viewer)


@router.post("/concerns/{concern_id}/resolution")
async def resolve_concern(
    concern_id: str,
    request: Request,
    viewer: Annotated[Viewer, page_requires("concerns:write")],
    response: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    """Answer a concern: the response resolves it, and the customer reads it."""

    def job(batch: Batch) -> ConcernRead:
        return concerns.resolve(batch, concern_id=concern_id, response=response, by=_actor(viewer))

    await run_job(request, job)
    return RedirectResponse(f"/dashboard/concerns?resolved={concern_id}", status_code=303)


def _actor_names(session: Session, actors: Iterable[str]) -> dict[str, str]:
    """The name of each actor written ``user:<id>`` (others keep how they are written)."""
    wanted = {a: a.removeprefix("user:") for a in actors}
    names = staff_names(session, [i for a, i in wanted.items() if a.startswith("user:")])
    return {actor: names.get(user_id, actor) for actor, user_id in wanted.items()}
