"""The dashboard's transparency page: each system's privacy budget as its ledger records it, and
a form that releases a period's public report with differential privacy (OpenDP).

A release spends ε from every system's budget (one ledger entry each, on the ledger writer); a
release past any budget is refused with the reason and nothing is spent. The released report is
answered as the page itself: releasing again would spend again, so there is no redirect to repeat.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from ethica.errors import InputError
from ethica.governance import PrivacyBudget, SystemSpec, parse_spec, transparency_document
from ethica.service.db import utcnow
from ethica.service.decisions.protected import session_cipher
from ethica.service.deps import SessionDep, run_job
from ethica.service.governance.transparency import budget_of, release_report
from ethica.service.state import state_of
from ethica.service.systems.service import list_systems
from ethica.service.web.rendering import render
from ethica.service.web.session import Viewer, page_requires

router = APIRouter(
    prefix="/dashboard/governance/transparency", tags=["web"], include_in_schema=False
)

Officer = Annotated[Viewer, page_requires("audit:run")]


def _specs(session: Session) -> list[SystemSpec]:
    systems, _ = list_systems(session, limit=500)
    return [parse_spec(system.spec) for system in systems]


def _budgets(session: Session, specs: list[SystemSpec], total: float) -> list[PrivacyBudget]:
    return [budget_of(session, system_id=spec.id, epsilon=total) for spec in specs]


def _page(
    request: Request,
    session: Session,
    viewer: Viewer,
    *,
    entered: dict[str, str] | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    specs = _specs(session)
    today = utcnow().date()
    total = state_of(request.app).settings.privacy.transparency_budget
    context: dict[str, Any] = {
        "budgets": _budgets(session, specs, total),
        "system_names": {spec.id: spec.name for spec in specs},
        "total": total,
        "entered": entered
        or {
            "period": f"{today:%Y-%m}",
            "start": today.replace(day=1).isoformat(),
            "end": today.isoformat(),
            "epsilon": "1.0",
        },
        "error": error,
    }
    return render(request, "dashboard/transparency.html", context, viewer=viewer, status=status)


@router.get("")
def transparency_page(request: Request, session: SessionDep, viewer: Officer) -> Response:
    """Each system's privacy budget, its spends in the ledger, and the release form."""
    return _page(request, session, viewer)


def _day(text: str, name: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(f"the {name} day is a date such as 2026-03-01, not {text!r}") from None


def _epsilon(text: str, budget: float) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"ε is a positive number such as 1.0, not {text!r}") from None
    if not 0 < value <= budget:
        raise InputError(
            f"ε is more than 0 and at most each system's budget of {budget:g} "
            "(ETHICA__PRIVACY__TRANSPARENCY_BUDGET)"
        )
    return value


@router.post("")
async def release(
    request: Request,
    viewer: Officer,
    period: Annotated[str, Form(max_length=40)] = "",
    start: Annotated[str, Form(max_length=10)] = "",
    end: Annotated[str, Form(max_length=10)] = "",
    epsilon: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Release the period's report (spending ε of every system's budget) and show it."""
    entered = {"period": period, "start": start, "end": end, "epsilon": epsilon}
    state = state_of(request.app)
    sessions = state.sessions
    with sessions() as session:
        cipher = session_cipher(session, state.settings.ledger.master_key_bytes)
    now = utcnow().replace(microsecond=0)
    try:
        if not period.strip():
            raise InputError("name the period, e.g. 2026-Q1")
        first, last = _day(start, "first"), _day(end, "last")
        budget = state.settings.privacy.transparency_budget
        spend = _epsilon(epsilon, budget)
        with sessions() as session:
            specs = _specs(session)
        released = await run_job(
            request,
            lambda batch: release_report(
                batch, specs=specs, period=period.strip(), epsilon=spend, now=now, cipher=cipher,
                budget=budget,
                start=datetime.combine(first, time(), tzinfo=UTC),
                end=datetime.combine(last, time.max, tzinfo=UTC),
            ),
        )  # fmt: skip
    except InputError as error:
        with sessions() as session:
            return _page(request, session, viewer, entered=entered, error=str(error), status=422)
    document = transparency_document(released, specs=specs, generated_at=now)
    return HTMLResponse(document.to_html())
