"""Fairness over time: every audit gap per window and over rolling spans, and change detection.

Each point is an audit (:func:`ethica.fairness.assess`) of the windows in its span merged into
one count table, so its gaps, intervals and "material and significant" flags are exactly the
audit's. Change detection runs a two-sided CUSUM on the standardised gap of one group.

False alarms: on a gap that does not change, each standardised point is close to a standard
normal; with the reference value k = 0.5 and the decision limit h = 5 the two-sided CUSUM
raises a false alarm on average once in about 470 windows (its in-control average run length,
465 in Montgomery's table) when the in-control gap is known; ``tests/monitoring`` measures it by
simulation. A shift of one standard error is signalled after about ten windows. When the
in-control gap is estimated from a short baseline (the default: 14 windows) the rate is higher:
on the demo's daily gaps, 4 false alarms in 11 series x 49 days where ~1.2 are nominal.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Literal

import numpy as np
import pandas as pd

from ethica.errors import InputError
from ethica.fairness import CountTable, Settings, assess
from ethica.fairness._intervals import z_value
from ethica.fairness._rollup import sum_cells
from ethica.monitoring._windows import WindowCounts, merge_windows

Part = Literal["decisions", "outcomes"]
#: The CUSUM's reference value and decision limit, in standard errors (see the module's text).
CUSUM_K = 0.5
CUSUM_H = 5.0


def fairness_over_time(
    windows: Mapping[datetime, WindowCounts],
    *,
    sensitive_features: Sequence[str],
    span_days: int = 1,
    part: Part = "decisions",
    settings: Settings | None = None,
) -> pd.DataFrame:
    """Audit each window (``span_days=1``) or each rolling span ending at each window.

    Returns one row per span end, grouping, group and metric: the audit's comparison of the
    group with the whole population (value, difference and its interval, ``material``,
    ``significant``), with the span's ``start``, ``end`` and ``rows``.
    """
    if span_days < 1:
        raise InputError("span_days must be a whole number of days, at least 1")
    chosen = settings or Settings()
    starts = sorted(windows)
    frames = []
    for end in starts:
        inside = [windows[s] for s in starts if end - timedelta(days=span_days) < s <= end]
        merged = merge_windows(inside)
        table = merged.decisions if part == "decisions" else merged.outcomes
        if table is None or table.rows == 0:
            continue
        comparisons = assess(_keep(table, sensitive_features), chosen).comparisons
        if comparisons.empty:
            continue
        comparisons.insert(0, "end", end + timedelta(days=1))
        comparisons.insert(0, "start", end - timedelta(days=span_days - 1))
        comparisons.insert(2, "rows", table.rows)
        frames.append(comparisons)
    if not frames:
        return pd.DataFrame(columns=["start", "end", "rows", "grouping", "group", "metric"])
    return pd.concat(frames, ignore_index=True)


def _keep(table: CountTable, features: Sequence[str]) -> CountTable:
    unknown = sorted(set(features) - set(table.sensitive_features))
    if unknown:
        raise InputError(
            f"the windows are counted by {list(table.sensitive_features)}; not by {unknown}"
        )
    if tuple(features) == table.sensitive_features:
        return table
    cells = sum_cells(table.cells, [*features, *table.keys], table.sums)
    return replace(table, sensitive_features=tuple(features), cells=cells)


@dataclass(frozen=True)
class ChangePoint:
    """Where the CUSUM crossed its limit: the window, and the direction of the change."""

    index: int
    direction: Literal["up", "down"]
    statistic: float


def standard_errors(low: Any, high: Any, confidence: float = 0.95) -> np.ndarray[Any, Any]:
    """Read standard errors back from intervals: half their width over the normal quantile."""
    half = (np.asarray(high, dtype=np.float64) - np.asarray(low, dtype=np.float64)) / 2.0
    return np.asarray(half / z_value(confidence), dtype=np.float64)


def cusum(
    values: Any,
    errors: Any,
    *,
    baseline: int = 14,
    expected: float | None = None,
    k: float = CUSUM_K,
    h: float = CUSUM_H,
) -> list[ChangePoint]:
    """Two-sided CUSUM of standardised values against the mean of the first ``baseline``.

    Each value ``x_t`` with standard error ``s_t`` becomes ``z_t = (x_t - m) / s_t``, ``m`` the
    mean of the first ``baseline`` values (or ``expected`` when given); ``S+`` and ``S-`` add
    ``z_t - k`` and ``-z_t - k``, floored at 0, and a change is signalled (and both restart)
    when one exceeds ``h``. Points without a finite, positive standard error are skipped.
    """
    x = np.asarray(values, dtype=np.float64)
    s = np.asarray(errors, dtype=np.float64)
    if x.shape != s.shape:
        raise InputError("cusum needs one standard error per value")
    usable = np.isfinite(x) & np.isfinite(s) & (s > 0)
    reference = x[usable][:baseline]
    if expected is None and len(reference) == 0:
        return []
    mean = float(reference.mean()) if expected is None else expected
    upper = lower = 0.0
    changes = []
    for index in np.flatnonzero(usable):
        if index < baseline:
            continue
        z = (x[index] - mean) / s[index]
        upper, lower = max(0.0, upper + z - k), max(0.0, lower - z - k)
        if upper > h or lower > h:
            direction: Literal["up", "down"] = "up" if upper > h else "down"
            changes.append(ChangePoint(int(index), direction, max(upper, lower)))
            upper = lower = 0.0
    return changes


def gap_series(over_time: pd.DataFrame, *, grouping: str, group: str, metric: str) -> pd.DataFrame:
    """One group's gap to the population per span end, with its standard error."""
    rows = over_time[
        (over_time["grouping"] == grouping)
        & (over_time["group"] == group)
        & (over_time["metric"] == metric)
    ]
    series = rows[["start", "end", "rows", "count", "difference", "difference_low"]].copy()
    series["difference_high"] = rows["difference_high"]
    series["standard_error"] = standard_errors(rows["difference_low"], rows["difference_high"])
    series["material"] = rows["material"].astype(bool)
    series["significant"] = rows["significant"].astype(bool)
    return series.reset_index(drop=True)


def first_change(series: pd.DataFrame, *, baseline: int = 14) -> datetime | None:
    """Return the start of the first window where the CUSUM signals a change, if any."""
    changes = cusum(series["difference"], series["standard_error"], baseline=baseline)
    if not changes:
        return None
    moment = series["start"].iloc[changes[0].index]
    return moment if isinstance(moment, datetime) else pd.Timestamp(moment).to_pydatetime()
