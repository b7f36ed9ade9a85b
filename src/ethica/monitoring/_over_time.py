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
from ethica.fairness import CountTable, Settings
from ethica.fairness._disparities import compare_groups, finish_comparisons
from ethica.fairness._findings import undefined_reasons
from ethica.fairness._group_metrics import GroupMetrics
from ethica.fairness._intervals import z_value
from ethica.fairness._kinds import decision_kind
from ethica.fairness._rollup import sum_cells
from ethica.monitoring._windows import WindowCounts

Part = Literal["decisions", "outcomes"]
#: The CUSUM's reference value and decision limit, in standard errors (see the module's text).
CUSUM_K = 0.5
CUSUM_H = 5.0
#: The column that keys each span's cells in the stacked count table of all spans.
SPAN = "__ethica_span"


def fairness_over_time(
    windows: Mapping[datetime, WindowCounts],
    *,
    sensitive_features: Sequence[str],
    span_days: int = 1,
    part: Part = "decisions",
    settings: Settings | None = None,
    last_only: bool = False,
) -> pd.DataFrame:
    """Audit each window (``span_days=1``) or each rolling span ending at each window.

    With ``last_only``, only the span that ends at the last window (what alert rules read).

    Returns one row per span end, grouping, group and metric: the audit's comparison of the
    group with the whole population (value, difference and its interval, ``p_adjusted``,
    ``material``, ``significant``), with the span's ``start``, ``end`` and ``rows``.

    Every span is audited in one pass: the spans' cells are stacked, keyed by span, and each
    grouping's metrics are computed once for all spans, each group beside its own span's
    population; p-values are corrected within each span, as its own audit corrects them. So
    the figures are the audit's (:func:`ethica.fairness.assess` of the span's merged windows)
    at a fraction of the cost of one audit per span.
    """
    if span_days < 1:
        raise InputError("span_days must be a whole number of days, at least 1")
    chosen = settings or Settings()
    if chosen.reference is not None:
        raise InputError(
            "fairness over time compares each group with the whole population; "
            "leave settings.reference unset"
        )
    starts = sorted(windows)
    first_end = len(starts) - 1 if last_only else 0
    stacked = _stacked_spans(windows, starts, sensitive_features, span_days, part, first_end)
    if stacked is None:
        return pd.DataFrame(columns=["start", "end", "rows", "grouping", "group", "metric"])
    kind = decision_kind(stacked.kind)
    whole = kind.metrics(stacked, (SPAN,))
    whole_spans = whole.groups[SPAN].to_numpy(dtype=np.int64)
    frames = []
    for grouping in replace(stacked, sensitive_features=tuple(sensitive_features)).groupings():
        metrics = kind.metrics(stacked, (SPAN, *grouping))
        spans = metrics.groups[SPAN].to_numpy(dtype=np.int64)
        beside = _population_beside(whole, np.searchsorted(whole_spans, spans))
        rows = compare_groups(replace(metrics, grouping=grouping), beside, chosen)
        rows.insert(0, SPAN, np.tile(spans, len(metrics.values)))
        frames.append(rows)
    rows = pd.concat(frames, ignore_index=True)
    # Span by span, in the order one audit of the span lists its comparisons.
    rows = rows.iloc[np.argsort(rows[SPAN].to_numpy(), kind="stable")].reset_index(drop=True)
    rows = finish_comparisons(rows, chosen, relative=kind.relative, audits=rows[SPAN])
    rows["undefined"] = undefined_reasons(rows)
    span = rows.pop(SPAN).to_numpy(dtype=np.int64)
    ends = np.array(starts, dtype=object)[span]
    rows.insert(0, "start", [e - timedelta(days=span_days - 1) for e in ends])
    rows.insert(1, "end", [e + timedelta(days=1) for e in ends])
    sizes = np.asarray(whole.groups["n"], dtype=np.int64)
    rows.insert(2, "rows", sizes[np.searchsorted(whole_spans, span)])
    return rows


def _stacked_spans(
    windows: Mapping[datetime, WindowCounts],
    starts: Sequence[datetime],
    features: Sequence[str],
    span_days: int,
    part: Part,
    first_end: int,
) -> CountTable | None:
    """One count table of the spans ending at ``starts[first_end:]``, keyed by the span."""
    tables: list[tuple[int, CountTable]] = [
        (index, table)
        for index, start in enumerate(starts)
        if (table := getattr(windows[start], part)) is not None and table.rows > 0
    ]
    if not tables:
        return None
    first = tables[0][1]
    unknown = sorted(set(features) - set(first.sensitive_features))
    if unknown:
        raise InputError(
            f"the windows are counted by {list(first.sensitive_features)}; not by {unknown}"
        )
    pieces = []
    for index, table in tables:
        if (table.kind, table.sensitive_features, table.keys, table.bins) != (
            first.kind,
            first.sensitive_features,
            first.keys,
            first.bins,
        ):
            raise InputError(
                "the windows were counted differently (kind, groups or score bins differ); "
                "count every window with the same plan"
            )
        start = starts[index]
        # Each window counts in every span that holds it: the spans ending on it and after.
        for end in range(max(index, first_end), len(starts)):
            if starts[end] - timedelta(days=span_days) >= start:
                break
            pieces.append(table.cells.assign(**{SPAN: end}))
    cells = sum_cells(
        pd.concat(pieces, ignore_index=True), [SPAN, *features, *first.keys], first.sums
    )
    classes = tuple(dict.fromkeys(c for _, table in tables for c in table.classes))
    return replace(first, sensitive_features=(SPAN, *features), cells=cells, classes=classes)


def _population_beside(whole: GroupMetrics, rows: Any) -> GroupMetrics:
    """Repeat the whole population's metrics beside each group (``rows``: its span's row)."""
    return GroupMetrics(
        grouping=(),
        groups=whole.groups.iloc[rows].reset_index(drop=True),
        values={name: values[rows] for name, values in whole.values.items()},
        rates={name: (n[rows], d[rows]) for name, (n, d) in whole.rates.items()},
        means={name: (t[rows], q[rows]) for name, (t, q) in whole.means.items()},
        shares=dict(whole.shares),
        supports={name: values[rows] for name, values in whole.supports.items()},
    )


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
