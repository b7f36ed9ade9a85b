"""The officer dashboard: systems, volumes, reviews, fairness, concerns, ledger, kill switch,
seeded review cases.

Pages read through the same service functions as the JSON API; the kill switch, answers to
concerns and seeded cases append to the ledger, so they run on the ledger writer exactly as their
API routes do, and answer 303 back to the page they came from (POST/redirect/GET).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from ethica.errors import InputError
from ethica.governance import RankingDecision, parse_spec
from ethica.service.concerns import service as concerns
from ethica.service.concerns.schemas import ConcernRead
from ethica.service.db import utcnow
from ethica.service.deps import SessionDep, run_job
from ethica.service.ledger.service import verify_ledger
from ethica.service.ledger.writer import Batch
from ethica.service.reviews import seeded
from ethica.service.reviews.seeded import seeded_tally
from ethica.service.settings import Settings
from ethica.service.state import state_of
from ethica.service.systems import suspension
from ethica.service.systems.service import get_system
from ethica.service.web.dashboard.fairness import PERIODS, live_snapshot, ranking_items
from ethica.service.web.dashboard.overview import overview, staff_names
from ethica.service.web.dashboard.seeded import seeded_form, seeded_request
from ethica.service.web.dashboard.words import REQUEST_WORDS, kind_words, tier_words
from ethica.service.web.portal.views import purpose_words
from ethica.service.web.rendering import is_htmx, render
from ethica.service.web.session import Viewer, page_requires

router = APIRouter(prefix="/dashboard", tags=["web"], include_in_schema=False)

Officer = Annotated[Viewer, page_requires("audit:run")]
Act = Literal["suspension", "resumption"]


def _settings(request: Request) -> Settings:
    return state_of(request.app).settings


def _actor(viewer: Viewer) -> str:
    return f"{viewer.principal.kind}:{viewer.principal.id}"


@router.get("")
def dashboard(request: Request, session: SessionDep, viewer: Officer) -> Response:
    """The landing page: inventory, volumes, reviews, concerns, rights requests, ledger."""
    gathered = overview(session, settings=_settings(request), viewer=viewer, now=utcnow())
    context = {
        "overview": gathered,
        "system_names": {line.system.id: line.system.name for line in gathered.systems},
        "request_words": REQUEST_WORDS,
    }
    return render(request, "dashboard/index.html", context, viewer=viewer)


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
    seeded_case: Annotated[str | None, Query(alias="seeded", max_length=100)] = None,
) -> Response:
    """A system: its facts, the kill switch, seeded cases, a fairness snapshot of its decisions."""
    if days not in PERIODS:
        raise InputError(f"choose a period of {', '.join(map(str, PERIODS))} days, not {days}")
    return _system_response(
        request, session, viewer, system_id, days=days, item=item, done=done, new_case=seeded_case
    )


@router.post("/systems/{system_id}/seeded-cases")
async def add_seeded_case(
    system_id: str,
    request: Request,
    viewer: Annotated[Viewer, page_requires("reviews:seed")],
) -> Response:
    """Put a case with a known correct outcome in the review queue, as the API's route does.

    Scoring and explaining run off the ledger writer's thread with their own session; a
    refusal shows the system page again with the message and what was entered (422).
    """
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    sessions = state_of(request.app).sessions

    def prepare() -> seeded.PreparedSeededCase:
        with sessions() as session:
            spec = parse_spec(get_system(session, system_id=system_id).spec)
            body = seeded_request(spec, form)
            return seeded.prepare_seeded_case(session, body=body)

    def refused(message: str) -> Response:
        with sessions() as session:
            return _system_response(
                request, session, viewer, system_id, entered=form, error=message, status=422
            )

    try:
        prepared = await asyncio.to_thread(prepare)
    except (InputError, ValidationError) as error:
        message = _first_error(error) if isinstance(error, ValidationError) else str(error)
        return await asyncio.to_thread(refused, message)
    case = await run_job(
        request,
        lambda batch: seeded.record_seeded_case(batch, prepared, created_by=viewer.principal.id),
    )
    return RedirectResponse(
        f"/dashboard/systems/{system_id}?seeded={case.decision_id}#seeded-cases", status_code=303
    )


def _item_words(spec: dict[str, Any], items: list[str]) -> dict[str, str]:
    """A ranking's items by the names its spec gives them."""
    decision = parse_spec(spec).decision
    if not isinstance(decision, RankingDecision):
        return {}
    return {i: decision.label(i) for i in items}


def _system_response(
    request: Request,
    session: Session,
    viewer: Viewer,
    system_id: str,
    *,
    days: int = 30,
    item: str | None = None,
    done: Act | None = None,
    new_case: str | None = None,
    entered: dict[str, str] | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
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
    except InputError as failure:
        problem = str(failure)
    change = suspension.last_change(session, system_id=system_id)
    context = {
        "system": system,
        "purpose": purpose_words(system.purpose),
        "kind": kind_words(system.kind),
        "tier": tier_words(system.risk_tier),
        "days": days,
        "periods": PERIODS,
        "items": items,
        "item_words": _item_words(system.spec, items),
        "item": item,
        "snapshot": snapshot,
        "problem": problem,
        "change": change,
        "names": _actor_names(session, [change.by] if change else []),
        "done": done,
        "tally": seeded_tally(session, system_id=system_id),
        "seeded_form": seeded_form(parse_spec(system.spec), entered),
        "seeded_case": new_case,
        "seeded_error": error,
    }
    return render(request, "dashboard/system.html", context, viewer=viewer, status=status)


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
    master_key = _settings(request).ledger.master_key_bytes
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


def _first_error(error: ValidationError) -> str:
    problem = error.errors()[0]
    where = ".".join(str(part) for part in problem["loc"])
    return f"{where}: {problem['msg']}" if where else str(problem["msg"])
