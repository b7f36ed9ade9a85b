"""A system's stored days read week by week: estimated vs realised accuracy, and a drift grid.

Weeks are days merged (counts add). Accuracy is estimated from the scores of every scored
decision (see :mod:`ethica.monitoring._estimated`) and realised from the decisions whose
outcome is known; both stand side by side until outcomes arrive. The drift grid tests, for each
week, the score, the decision and each protected attribute's mix of groups against the first
weeks (the reference), with Evidently's distance tests and thresholds: Wasserstein (normalised)
for the score, Jensen-Shannon for the others.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from ethica.fairness import CountTable
from ethica.monitoring._distribution import Distribution
from ethica.monitoring._drift import DriftResult, drift, input_drift
from ethica.monitoring._estimated import estimated_performance, realised_performance
from ethica.monitoring._over_time import fairness_over_time, first_change, gap_series
from ethica.monitoring._report import METRIC, GroupTrend, points_of
from ethica.monitoring._windows import WindowCounts, merge_windows

WEEK = timedelta(days=7)
#: Weeks whose counts make the drift grid's reference.
REFERENCE_WEEKS = 4
SCORE = "score"
DECISION = "decision"


@dataclass(frozen=True)
class WeekPerformance:
    """One week's accuracy: estimated from scores, and realised where outcomes are known."""

    start: datetime
    decisions: int
    estimated: float
    estimated_low: float
    estimated_high: float
    known: int
    realised: float | None


@dataclass(frozen=True)
class DriftGrid:
    """Drift of each watched quantity (rows) in each week (columns) against the reference."""

    reference: tuple[datetime, datetime]
    weeks: list[datetime]
    rows: dict[str, list[DriftResult | None]]


def by_week(windows: Mapping[datetime, WindowCounts]) -> dict[datetime, WindowCounts]:
    """Merge daily windows into weeks starting on the first day's weekday."""
    if not windows:
        return {}
    first = min(windows)
    grouped: dict[datetime, list[WindowCounts]] = {}
    for start in sorted(windows):
        week = first + WEEK * ((start - first) // WEEK)
        grouped.setdefault(week, []).append(windows[start])
    return {week: _merged(days) for week, days in grouped.items()}


def _merged(days: Sequence[WindowCounts]) -> WindowCounts:
    merged = merge_windows(days)
    scores = [d.scores for d in days if d.scores is not None]
    total = None
    for table in scores:
        total = table if total is None else total.merge(table)
    return WindowCounts(
        merged.start, merged.decisions, merged.outcomes, merged.features, scores=total
    )


def gap_trends(
    weeks: Mapping[datetime, WindowCounts], *, sensitive_features: Sequence[str]
) -> list[GroupTrend]:
    """Return each group's weekly selection-rate gap with its interval.

    A change is looked for after the reference weeks (the CUSUM's baseline).
    """
    trends = []
    # One grouping at a time: the charts show no intersections, and auditing them is most of
    # the work.
    for feature in sensitive_features:
        audited = fairness_over_time(weeks, sensitive_features=[feature])
        for group in sorted(audited.loc[audited["grouping"] == feature, "group"].unique()):
            series = gap_series(audited, grouping=feature, group=str(group), metric=METRIC)
            if series.empty:
                continue
            changed = first_change(series, baseline=REFERENCE_WEEKS)
            trends.append(GroupTrend(feature, str(group), points_of(series), changed))
    return trends


def performance_by_week(
    weeks: Mapping[datetime, WindowCounts], *, confidence: float = 0.95
) -> list[WeekPerformance]:
    """Each week with scores: estimated accuracy with its interval, realised if outcomes exist."""
    points = []
    for start in sorted(weeks):
        week = weeks[start]
        if week.scores is None or week.scores.rows == 0:
            continue
        estimate = estimated_performance(week.scores, confidence=confidence).iloc[0]
        known = 0 if week.outcomes is None else week.outcomes.rows
        realised = (
            None
            if week.outcomes is None or known == 0
            else float(realised_performance(week.outcomes).iloc[0]["accuracy"])
        )
        points.append(
            WeekPerformance(
                start=start,
                decisions=int(estimate["n"]),
                estimated=float(estimate["accuracy"]),
                estimated_low=float(estimate["accuracy_low"]),
                estimated_high=float(estimate["accuracy_high"]),
                known=known,
                realised=realised,
            )
        )
    return points


def drift_grid(
    weeks: Mapping[datetime, WindowCounts],
    *,
    sensitive_features: Sequence[str],
    reference_weeks: int = REFERENCE_WEEKS,
    features: Mapping[str, Distribution] | None = None,
    feature_weeks: int = 1,
) -> DriftGrid | None:
    """Test every later week against the first ``reference_weeks``; ``None`` without them.

    Each input feature in ``features`` (its distribution in the model version's training
    data) is tested against that reference instead, in every week whose days counted it:
    normalised Wasserstein for numbers, Jensen-Shannon for categories. Its cell reads the
    week and the ``feature_weeks - 1`` before it, as the input-drift rule reads its span.
    """
    starts = sorted(weeks)
    if len(starts) <= reference_weeks:
        return None
    reference = _merged([weeks[s] for s in starts[:reference_weeks]])
    later = starts[reference_weeks:]
    names = [SCORE, DECISION, *sensitive_features]
    inputs = {n: d for n, d in (features or {}).items() if n not in names}
    rows: dict[str, list[DriftResult | None]] = {name: [] for name in [*names, *inputs]}
    for index, start in enumerate(starts[reference_weeks:], start=reference_weeks):
        for name in names:
            rows[name].append(_drift_of(name, reference, weeks[start]))
        read = weeks[start].features
        if inputs and feature_weeks > 1:
            span = starts[max(0, index - feature_weeks + 1) : index + 1]
            read = merge_windows([weeks[s] for s in span]).features
        for name, trained in inputs.items():
            rows[name].append(input_drift(name, trained, read.get(name)))
    return DriftGrid((starts[0], starts[reference_weeks]), later, rows)


def _drift_of(name: str, reference: WindowCounts, current: WindowCounts) -> DriftResult | None:
    if name == SCORE:
        before, after = _score_counts(reference.scores), _score_counts(current.scores)
        test = "wasserstein"
    else:
        before = _category_counts(reference.decisions, name)
        after = _category_counts(current.decisions, name)
        test = "jensenshannon"
    if before is None or after is None or before.total == 0 or after.total == 0:
        return None
    return drift(name, before, after, test=test)


def _score_counts(table: CountTable | None) -> Distribution | None:
    if table is None or table.bins is None or "score_bin" not in table.cells:
        return None
    cells = table.cells.groupby("score_bin", sort=True)["n"].sum()
    centres = table.bins.centers(cells.index.to_numpy())
    return Distribution.from_counts(centres, cells.to_numpy(dtype=np.int64), "numeric")


def _category_counts(table: CountTable | None, name: str) -> Distribution | None:
    if table is None:
        return None
    column = "prediction" if name == DECISION else name
    if column not in table.cells:
        return None
    cells = table.cells.groupby(column, sort=True)["n"].sum()
    values = cells.index.astype(str).to_numpy(dtype=object)
    return Distribution.from_counts(values, cells.to_numpy(dtype=np.int64), "categorical")
