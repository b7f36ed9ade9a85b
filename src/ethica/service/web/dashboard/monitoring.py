"""The dashboard's monitoring page of a system: gaps over time with their bands, and its alerts.

The charts are the stored windows' last 30 days (inline SVG, each with its numbers as a table);
the alerts are read from the system's ledger chain, and acknowledging or resolving one is a
ledger entry on the writer, naming who and why.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup
from sqlalchemy import func, select

from ethica.errors import InputError
from ethica.monitoring._report import trend_figure
from ethica.service.decisions.protected import session_cipher
from ethica.service.decisions.record import PENDING
from ethica.service.decisions.tables import Decision, ProtectedValue
from ethica.service.deps import SessionDep, run_job
from ethica.service.ledger.writer import Batch
from ethica.service.monitoring.alerts import StoredAlert, get_alert, list_alerts, move_alert
from ethica.service.monitoring.job import SPAN_DAYS
from ethica.service.monitoring.service import system_report
from ethica.service.monitoring.tables import MonitoringWindow
from ethica.service.state import state_of
from ethica.service.systems.service import get_system
from ethica.service.web.rendering import render
from ethica.service.web.session import Viewer, page_requires

router = APIRouter(prefix="/dashboard/systems", tags=["web"], include_in_schema=False)

Officer = Annotated[Viewer, page_requires("audit:run")]
CHART_DAYS = 30
LISTED = 500


def _page(
    request: Request,
    session: SessionDep,
    viewer: Viewer,
    system_id: str,
    *,
    error: str | None = None,
    status: int = 200,
) -> Response:
    system = get_system(session, system_id=system_id)
    last = session.scalar(
        select(func.max(MonitoringWindow.start)).where(MonitoringWindow.system_id == system_id)
    )
    figures: list[Markup] = []
    windows = decisions = 0
    if last is not None:
        report = system_report(
            session, system_id=system_id, since=last - timedelta(days=CHART_DAYS - 1)
        )
        windows, decisions = report.windows, report.decisions
        # trend_figure escapes every text it places in the SVG and the table.
        figures = [Markup(trend_figure(trend)) for trend in report.trends]  # noqa: S704
    context = {
        "system": system,
        "figures": figures,
        "windows": windows,
        "decisions": decisions,
        "alerts": list_alerts(session, system_id=system_id),
        "error": error,
    }
    return render(request, "dashboard/monitoring.html", context, viewer=viewer, status=status)


@router.get("/{system_id}/monitoring")
def monitoring_page(
    system_id: str, request: Request, session: SessionDep, viewer: Officer
) -> Response:
    """The system's gaps over the last 30 counted days, and its alerts with their states."""
    return _page(request, session, viewer, system_id)


@router.get("/{system_id}/monitoring/alerts/{sequence}/decisions")
def alert_decisions(
    system_id: str, sequence: int, request: Request, session: SessionDep, viewer: Officer
) -> Response:
    """The decisions behind an alert: its group's decisions in the span its rule read."""
    system = get_system(session, system_id=system_id)
    alert = get_alert(session, system_id=system_id, sequence=sequence)
    end = datetime.fromisoformat(alert.window_end)
    start = end - timedelta(days=SPAN_DAYS)
    cipher = session_cipher(session, state_of(request.app).settings.ledger.master_key_bytes)
    query = select(Decision).where(
        Decision.system_id == system_id,
        Decision.seeded.is_(False),
        Decision.outcome != PENDING,
        Decision.created_at >= start,
        Decision.created_at < end,
    )
    # A grouping of one protected attribute: its sealed value is what the database holds.
    if " × " not in alert.subject:
        query = query.where(
            Decision.id.in_(
                select(ProtectedValue.decision_id).where(
                    ProtectedValue.system_id == system_id,
                    ProtectedValue.name == alert.subject,
                    ProtectedValue.value == cipher.seal(alert.subject, alert.group),
                )
            )
        )
    shown = list(session.scalars(query.order_by(Decision.created_at).limit(LISTED + 1)))
    context = {
        "system": system,
        "alert": alert,
        "start": start,
        "end": end,
        "decisions": shown[:LISTED],
        "more": len(shown) > LISTED,
        "by_group": " × " not in alert.subject,
    }
    return render(request, "dashboard/monitoring_decisions.html", context, viewer=viewer)


@router.post("/{system_id}/monitoring/alerts/{sequence}")
async def move(
    system_id: str,
    sequence: int,
    request: Request,
    viewer: Officer,
    to: Annotated[Literal["acknowledged", "resolved"], Form()],
    why: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Acknowledge or resolve an alert (a ledger entry naming the officer and the reason)."""
    who = f"{viewer.principal.kind}:{viewer.principal.id}"

    def job(batch: Batch) -> StoredAlert:
        return move_alert(batch, system_id=system_id, sequence=sequence, to=to, who=who, why=why)

    try:
        await run_job(request, job)
    except InputError as error:
        with state_of(request.app).sessions() as session:
            return _page(request, session, viewer, system_id, error=str(error), status=422)
    return RedirectResponse(
        f"/dashboard/systems/{system_id}/monitoring#alert-{sequence}", status_code=303
    )
