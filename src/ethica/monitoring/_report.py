"""A monitoring report from stored windows: gaps over time, where they changed, what fired.

Reads counts only (never rows). JSON for machines; HTML with one inline SVG chart per grouping
whose text alternative is a table of the same numbers, so nothing is shown only as a picture.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd

from ethica.monitoring._alerts import Alert, AlertRule, Observation, evaluate, most_severe_first
from ethica.monitoring._distribution import Distribution
from ethica.monitoring._drift import TESTS, input_drift
from ethica.monitoring._over_time import fairness_over_time, first_change, gap_series
from ethica.monitoring._windows import WindowCounts, merge_windows

#: The metric of a drift observation: 1 where the feature's drift test says it drifted, else 0.
DRIFTED = "drifted"

METRIC = "selection_rate"


@dataclass(frozen=True)
class GroupTrend:
    """One group's gap in selection rate to the whole population, window by window."""

    grouping: str
    group: str
    points: list[dict[str, Any]]
    changed_at: datetime | None


@dataclass(frozen=True)
class MonitoringReport:
    """What a system's stored windows say over a period."""

    system: str
    windows: int
    decisions: int
    trends: list[GroupTrend] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready form."""
        return {
            "system": self.system,
            "windows": self.windows,
            "decisions": self.decisions,
            "trends": [
                {
                    "grouping": t.grouping,
                    "group": t.group,
                    "changed_at": None if t.changed_at is None else t.changed_at.isoformat(),
                    "points": t.points,
                }
                for t in self.trends
            ],
            "alerts": [
                {
                    "rule": a.rule,
                    "severity": a.severity,
                    "subject": a.subject,
                    "group": a.group,
                    "metric": a.metric,
                    "value": a.value,
                    "threshold": a.threshold,
                    "state": a.state,
                    **(
                        {"score": a.score, "score_threshold": a.score_threshold}
                        if a.score is not None
                        else {}
                    ),
                }
                for a in self.alerts
            ],
        }

    def to_json(self) -> str:
        """Return the report as JSON text."""
        return json.dumps(self.to_dict(), indent=2)

    def to_html(self) -> str:
        """Return a self-contained HTML page: charts with their numbers as tables."""
        parts = [
            "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
            f"<title>Monitoring of {html.escape(self.system)}</title></head><body>",
            f"<h1>Monitoring of {html.escape(self.system)}</h1>",
            f"<p>{self.decisions} decisions in {self.windows} daily windows.</p>",
            "<h2>Alerts</h2>",
            _alert_list(self.alerts),
        ]
        for trend in self.trends:
            parts.append(trend_figure(trend))
        parts.append("</body></html>")
        return "\n".join(parts)


def monitoring_report(
    system: str,
    windows: Mapping[datetime, WindowCounts],
    *,
    sensitive_features: Sequence[str],
    rules: Sequence[AlertRule],
    span_days: int = 7,
    reference: Mapping[str, Distribution] | None = None,
) -> MonitoringReport:
    """Gaps per day for each protected attribute, their change points, and alerts that fire.

    Rules are evaluated on the last ``span_days`` (merged, as one audit); ``reference`` holds
    each input feature's training distribution, against which drift rules test the span.
    """
    decisions = sum(w.rows for w in windows.values())
    if not windows:
        return MonitoringReport(system, 0, 0)
    daily = fairness_over_time(windows, sensitive_features=sensitive_features)
    daily = daily[daily["metric"] == METRIC]
    trends = []
    for (grouping, group), rows in daily.groupby(["grouping", "group"], sort=True):
        series = gap_series(rows, grouping=str(grouping), group=str(group), metric=METRIC)
        if series.empty:
            continue
        trends.append(
            GroupTrend(str(grouping), str(group), points_of(series), first_change(series))
        )
    alerts = span_alerts(
        windows,
        sensitive_features=sensitive_features,
        rules=rules,
        span_days=span_days,
        reference=reference,
    )
    return MonitoringReport(system, len(windows), decisions, trends, alerts)


def span_alerts(
    windows: Mapping[datetime, WindowCounts],
    *,
    sensitive_features: Sequence[str],
    rules: Sequence[AlertRule],
    span_days: int = 7,
    reference: Mapping[str, Distribution] | None = None,
) -> list[Alert]:
    """Return the alerts the rules raise on the last ``span_days`` windows (merged, as one).

    What :func:`monitoring_report` says of alerts, without the daily trends: a monitoring
    pass needs only these. Gaps are observed per group; each feature of ``reference`` (its
    training distribution) is tested for drift over the last ``span_days`` of each drift rule
    (see :func:`drift_observations`).
    """
    if not windows:
        return []
    span = {s: windows[s] for s in sorted(windows)[-span_days:]}
    latest = fairness_over_time(
        span,
        sensitive_features=sensitive_features,
        span_days=span_days,
        last_only=True,
    )
    last = latest[latest["end"] == latest["end"].max()] if not latest.empty else latest
    observations = [
        Observation(
            subject=str(row["grouping"]),
            metric=str(row["metric"]),
            value=float(row["difference"]),
            count=int(row["count"]),
            significant=bool(row["significant"]),
            group=str(row["group"]),
        )
        for row in last.to_dict(orient="records")
    ]
    alerts = evaluate([r for r in rules if r.watch != "drift"], observations)
    # A drift rule reads its own span: a distance needs more rows than a gap to rise above noise.
    drifts = [r for r in rules if r.watch == "drift"]
    for days in sorted({r.span_days for r in drifts}):
        read = merge_windows([windows[s] for s in sorted(windows)[-days:]]).features
        alerts += evaluate(
            [r for r in drifts if r.span_days == days], drift_observations(read, reference or {})
        )
    return most_severe_first(alerts)


def drift_observations(
    current: Mapping[str, Distribution], reference: Mapping[str, Distribution]
) -> list[Observation]:
    """Each input feature's drift over a span: 1 where its test says it drifted, else 0.

    The subject is the feature, the group the test that decided (its statistic), the count
    the decisions whose value was counted; a feature counted in no window is not observed.
    """
    observations = []
    for name, trained in reference.items():
        result = input_drift(name, trained, current.get(name))
        if result is not None:
            observations.append(
                Observation(
                    subject=name,
                    metric=DRIFTED,
                    value=float(result.drifted),
                    count=result.current_rows,
                    group=result.test,
                    score=result.score,
                    score_threshold=result.threshold,
                )
            )
    return observations


def points_of(series: pd.DataFrame) -> list[dict[str, Any]]:
    """Return the points of a gap series as the report and its charts show them."""
    return [
        {
            "day": pd.Timestamp(row["start"]).date().isoformat(),
            "gap": float(row["difference"]),
            "low": float(row["difference_low"]),
            "high": float(row["difference_high"]),
            "decisions": int(row["count"]),
            "material": bool(row["material"]),
            "significant": bool(row["significant"]),
        }
        for row in series.to_dict(orient="records")
    ]


def _alert_list(alerts: Sequence[Alert]) -> str:
    if not alerts:
        return "<p>No rule fires on the last span.</p>"
    items = "".join(
        f"<li><strong>{html.escape(a.severity)}</strong>: {html.escape(a.rule)}, "
        f"{html.escape(alert_figure(a))}</li>"
        for a in alerts
    )
    return f"<ul>{items}</ul>"


def alert_figure(alert: Alert) -> str:
    """Say what an alert measured, in a line: a group's gap, or a feature's drift by its test."""
    if alert.metric == DRIFTED:
        figure = drift_figure(alert.group, alert.score, alert.score_threshold)
        return f"{alert.subject} drifted: {figure}"
    return (
        f"{alert.subject} = {alert.group}, {alert.metric} gap "
        f"{alert.value:+.3f}, threshold {alert.threshold:.2f}"
    )


def drift_figure(test: str, score: float | None, threshold: float | None) -> str:
    """Say a drift test's figure against the training data, and when it means drift.

    ``Jensen-Shannon distance 0.245 from the training data (drift from 0.10)``; for a p-value,
    ``... against the training data (drift below 0.05)``.
    """
    known = TESTS.get(test)
    title = test if known is None else known.title
    if score is None or threshold is None:
        return f"{title}: drifted from the training data"
    if known is not None and known.score == "p_value":
        return f"{title} {score:.3g} against the training data (drift below {threshold:.2f})"
    return f"{title} {score:.3f} from the training data (drift from {threshold:.2f})"


def trend_figure(
    trend: GroupTrend, *, width: int = 640, height: int = 180, unit: str = "day"
) -> str:
    """One group's gap per day (or week) with its 95% band, as inline SVG with a table."""
    points = trend.points
    title = f"Selection-rate gap of {trend.grouping} = {trend.group} to all customers, by {unit}"
    finite = [p for p in points if all(v == v for v in (p["gap"], p["low"], p["high"]))]
    top = max([0.05, *(abs(p["low"]) for p in finite), *(abs(p["high"]) for p in finite)])

    def x(i: int) -> float:
        return 40 + i * (width - 50) / max(len(points) - 1, 1)

    def y(value: float) -> float:
        return float(height / 2 - value / top * (height / 2 - 10))

    band = " ".join(f"{x(i):.1f},{y(p['high']):.1f}" for i, p in enumerate(points) if p in finite)
    band += " " + " ".join(
        f"{x(i):.1f},{y(p['low']):.1f}" for i, p in reversed(list(enumerate(points))) if p in finite
    )
    line = " ".join(f"{x(i):.1f},{y(p['gap']):.1f}" for i, p in enumerate(points) if p in finite)
    changed = (
        f" A change was detected on {trend.changed_at.date().isoformat()}."
        if trend.changed_at
        else " No change was detected."
    )
    rows = "".join(
        f"<tr><td>{p['day']}</td><td>{p['gap']:+.3f}</td><td>{p['low']:+.3f} to "
        f"{p['high']:+.3f}</td><td>{p['decisions']}</td>"
        f"<td>{'yes' if p['material'] and p['significant'] else 'no'}</td></tr>"
        for p in points
    )
    ident = html.escape(f"{trend.grouping}-{trend.group}".replace(" ", ""), quote=True)
    return (
        f"<figure><svg role='img' aria-labelledby='t-{ident} d-{ident}' width='{width}' "
        f"height='{height}' viewBox='0 0 {width} {height}'>"
        f"<title id='t-{ident}'>{html.escape(title)}</title>"
        f"<desc id='d-{ident}'>{len(points)} {unit}s; band is the 95% interval.{changed}</desc>"
        f"<line x1='40' x2='{width - 10}' y1='{y(0):.1f}' y2='{y(0):.1f}' stroke='#888'/>"
        f"<polygon points='{band}' fill='#9ecae1' opacity='0.5'/>"
        f"<polyline points='{line}' fill='none' stroke='#08519c' stroke-width='2'/>"
        f"<text x='2' y='14' font-size='11'>+{top:.2f}</text>"
        f"<text x='2' y='{height - 4}' font-size='11'>-{top:.2f}</text></svg>"
        f"<figcaption>{html.escape(title)}.{changed}</figcaption>"
        f"<details><summary>The numbers</summary><table><thead><tr><th>{unit}</th><th>gap</th>"
        f"<th>95% interval</th><th>decisions</th><th>material and significant</th></tr>"
        f"</thead><tbody>{rows}</tbody></table></details></figure>"
    )
