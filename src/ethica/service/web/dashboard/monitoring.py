"""The dashboard's monitoring page of a system: its alerts, and its stored days week by week.

Week by week: estimated vs realised accuracy, a drift heat-map (each cell's value in text, its
colour only repeating it) and each group's selection-rate gap with its band (inline SVG, each
with its numbers as a table). The alerts are read from the system's ledger chain; acknowledging
or resolving one is a ledger entry on the writer, naming who and why.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ethica.errors import InputError
from ethica.governance import parse_spec
from ethica.monitoring._alerts import DRIFT_SPAN_DAYS, default_rules
from ethica.monitoring._drift import DriftResult
from ethica.monitoring._report import DRIFTED, trend_figure
from ethica.monitoring._weekly import (
    WeekPerformance,
    by_week,
    drift_grid,
    gap_trends,
    performance_by_week,
)
from ethica.service.decisions.protected import session_cipher
from ethica.service.decisions.record import PENDING
from ethica.service.decisions.tables import Decision, ProtectedValue
from ethica.service.deps import SessionDep, run_job
from ethica.service.ledger.writer import Batch
from ethica.service.monitoring.alerts import StoredAlert, get_alert, list_alerts, move_alert
from ethica.service.monitoring.features import feature_reference
from ethica.service.monitoring.job import SPAN_DAYS
from ethica.service.monitoring.service import FEATURES, PARTS, load_windows
from ethica.service.monitoring.tables import MonitoringWindow
from ethica.service.state import state_of
from ethica.service.systems.service import get_system
from ethica.service.systems.tables import System
from ethica.service.web.rendering import render
from ethica.service.web.session import Viewer, page_requires

router = APIRouter(prefix="/dashboard/systems", tags=["web"], include_in_schema=False)

Officer = Annotated[Viewer, page_requires("audit:run")]
LISTED = 500
#: The accuracy chart's size (SVG user units).
CHART_WIDTH, CHART_HEIGHT = 640, 200


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
    context = {
        "system": system,
        **_history(session, system_id=system_id, spec=system.spec),
        "drift_level": drift_level,
        "alerts": list_alerts(session, system_id=system_id),
        "error": error,
    }
    return render(request, "dashboard/monitoring.html", context, viewer=viewer, status=status)


#: The panels of the last few histories read: a system's stored windows change only when the
#: monitor counts (a new day, or late outcomes), and reading them costs seconds of audits.
_READ: dict[tuple[str, str, Any, int], dict[str, Any]] = {}
_READ_KEPT = 16


def _history(session: Session, *, system_id: str, spec: dict[str, Any]) -> dict[str, Any]:
    """The weekly panels of the system's stored windows, read again only when they changed."""
    built, count = session.execute(
        select(func.max(MonitoringWindow.built_at), func.count()).where(
            MonitoringWindow.system_id == system_id
        )
    ).one()
    key = (system_id, json.dumps(spec, sort_keys=True), built, int(count))
    if key not in _READ:
        groupings = [p.name for p in parse_spec(spec).protected_attributes]
        parts = (*PARTS, "scores", FEATURES)
        weeks = by_week(load_windows(session, system_id=system_id, parts=parts))
        trained = feature_reference(session, get_system(session, system_id=system_id))
        performance = performance_by_week(weeks)
        if len(_READ) >= _READ_KEPT:
            _READ.pop(next(iter(_READ)))
        _READ[key] = {
            # trend_figure escapes every text it places in the SVG and the table.
            "figures": [
                Markup(trend_figure(trend, unit="week"))  # noqa: S704
                for trend in gap_trends(weeks, sensitive_features=groupings)
            ],
            "weeks": len(weeks),
            "decisions": sum(w.rows for w in weeks.values()),
            "performance": performance,
            "accuracy_chart": _accuracy_chart(performance),
            "trained_sampled": trained is not None and trained.sampled,
            "grid": drift_grid(
                weeks,
                sensitive_features=groupings,
                features=None if trained is None else trained.reference,
                feature_weeks=DRIFT_SPAN_DAYS // 7,
            ),
        }
    return _READ[key]


def drift_level(result: DriftResult | None) -> str:
    """The heat-map's word for a cell: its colour repeats this word, never replaces it."""
    if result is None:
        return "none"
    if result.drifted:
        return "drifted"
    return "watch" if result.score >= result.threshold / 2 else "stable"


def _accuracy_chart(points: list[WeekPerformance]) -> dict[str, str] | None:
    """SVG coordinates of the estimated band and line and the realised line (accuracy 0.5-1)."""
    if not points:
        return None
    step = (CHART_WIDTH - 60) / max(len(points) - 1, 1)

    def x(i: int) -> float:
        return 45 + i * step

    def y(value: float) -> float:
        return CHART_HEIGHT - 20 - (min(max(value, 0.5), 1.0) - 0.5) / 0.5 * (CHART_HEIGHT - 35)

    upper = [f"{x(i):.1f},{y(p.estimated_high):.1f}" for i, p in enumerate(points)]
    lower = [f"{x(i):.1f},{y(p.estimated_low):.1f}" for i, p in enumerate(points)]
    realised = [
        f"{x(i):.1f},{y(p.realised):.1f}" for i, p in enumerate(points) if p.realised is not None
    ]
    return {
        "band": " ".join(upper + lower[::-1]),
        "estimated": " ".join(f"{x(i):.1f},{y(p.estimated):.1f}" for i, p in enumerate(points)),
        "realised": " ".join(realised),
        "top": f"{y(1.0):.1f}",
        "middle": f"{y(0.75):.1f}",
        "bottom": f"{y(0.5):.1f}",
    }


@router.get("/{system_id}/monitoring")
def monitoring_page(
    system_id: str, request: Request, session: SessionDep, viewer: Officer
) -> Response:
    """The system's alerts with their states, and its counted days week by week."""
    return _page(request, session, viewer, system_id)


@router.get("/{system_id}/monitoring/alerts/{sequence}/decisions")
def alert_decisions(
    system_id: str, sequence: int, request: Request, session: SessionDep, viewer: Officer
) -> Response:
    """The decisions behind an alert: its group's decisions in the span its rule read."""
    system = get_system(session, system_id=system_id)
    alert = get_alert(session, system_id=system_id, sequence=sequence)
    end = datetime.fromisoformat(alert.window_end)
    start = end - timedelta(days=_span_of(system, alert))
    cipher = session_cipher(session, state_of(request.app).settings.ledger.master_key_bytes)
    query = select(Decision).where(
        Decision.system_id == system_id,
        Decision.seeded.is_(False),
        Decision.outcome != PENDING,
        Decision.created_at >= start,
        Decision.created_at < end,
    )
    # A grouping of one protected attribute: its sealed value is what the database holds. A
    # feature's drift is of every decision of the span.
    by_group = " × " not in alert.subject and alert.metric != DRIFTED
    if by_group:
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
        "by_group": by_group,
    }
    return render(request, "dashboard/monitoring_decisions.html", context, viewer=viewer)


def _span_of(system: System, alert: StoredAlert) -> int:
    """The days the alert's rule read before its window's end (input drift reads more)."""
    groupings = [p.name for p in parse_spec(system.spec).protected_attributes]
    spans = {r.name: r.span_days for r in default_rules(system.risk_tier, groupings)}
    return spans.get(alert.rule, SPAN_DAYS)


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
