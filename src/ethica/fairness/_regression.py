"""Numeric decisions (credit limits, prices): sums per group and prediction bin, and their metrics.

One aggregation groups the rows by the sensitive features and a bin of the prediction (the exact
value when there are few distinct values, otherwise one of ``score_bins`` equal-width bins over
the profiled range) and sums the prediction and, with a true value (``label``), the label, the
error ``prediction - label``, its absolute value and its square. Every metric below is a ratio
of those sums, except the median, read from the counts per bin, and the standard deviation,
from each cell's squared deviations from its own mean merged across cells (``_moments``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from ethica.engines import Aggregation, Apply, Col, ColumnProfile, Engine, Expr, binned
from ethica.errors import InputError
from ethica.fairness._count_table import CountTable, ScoreBins, normalize_groups
from ethica.fairness._group_metrics import FloatArray, GroupMetrics, ratio
from ethica.fairness._moments import merge_moments
from ethica.fairness._opening import check_roles, numeric_profile, require_rows
from ethica.fairness._roles import Roles
from ethica.fairness._rollup import Rollup

PREDICTION_BIN = "prediction_bin"


def regression_table(
    engine: Engine,
    source: Any,
    roles: Roles,
    *,
    pos_label: Any = None,
    score_bins: int | ScoreBins = 1000,
    options: dict[str, Any] | None = None,
) -> CountTable:
    """Aggregate numeric decisions: counts and sums per group and prediction bin.

    Parameters
    ----------
    engine, source, roles
        Where the rows are and which column plays which part; ``prediction`` is the decided
        amount, ``label`` (optional) the true amount.
    score_bins
        Predictions with at most this many distinct values are kept exactly (exact medians);
        otherwise they fall in this many equal-width bins over their range. A
        :class:`ScoreBins` fixes the bins (e.g. across shards that will be merged).
    options
        Not used by this kind.
    """
    prediction = check_roles(
        "regression",
        roles,
        pos_label=pos_label,
        prediction="the predicted amounts",
        unused=("score", "list_id"),
        instead="the amount is prediction= and the true amount label=",
    )
    # Distinct predictions are counted only up to the limit that decides exact values or bins.
    limit = None if isinstance(score_bins, ScoreBins) else max(int(score_bins), 0)
    prediction_profile = numeric_profile(
        engine, source, prediction, "prediction", distinct_limit=limit
    )
    if roles.label is not None:
        numeric_profile(engine, source, roles.label, "label")
    bins = prediction_bins(prediction_profile, score_bins)
    aggregation = regression_aggregation(roles, bins)
    cells = engine.aggregate(source, aggregation)
    require_rows(cells)
    for name in aggregation.value_columns():
        cells[name] = cells[name].astype(np.float64)
    bad = cells[PREDICTION_BIN].isna() | cells[[name for name, _ in aggregation.sums]].isna().any(
        axis=1
    )
    if bad.any():
        raise InputError(
            "prediction or label has missing (NaN/NULL) values on "
            f"{int(cells.loc[bad, 'n'].sum())} rows; drop or fill those rows"
        )
    cells[PREDICTION_BIN] = cells[PREDICTION_BIN].astype(np.float64)
    cells = normalize_groups(cells, roles.sensitive)
    return CountTable(
        kind="regression",
        sensitive_features=roles.sensitive,
        cells=cells,
        keys=(PREDICTION_BIN,),
        bins=bins,
    )


def regression_aggregation(roles: Roles, bins: ScoreBins) -> Aggregation:
    """Group by the sensitive features and prediction bin; sum predictions, labels and errors."""
    assert roles.prediction is not None
    prediction = Col(roles.prediction)
    key: Expr = prediction
    if bins.method == "equal_width":
        key = binned(roles.prediction, bins.low, bins.high, bins.bins)
    keys: list[tuple[str, Expr]] = [(f, Col(f)) for f in roles.sensitive]
    keys.append((PREDICTION_BIN, key))
    # Cell means of amounts far from zero lose digits (1e6 keeps only ten after the point); the
    # spread between cells is taken from sums shifted to the bins' start, which keep them all.
    shifted = Apply("shift", (prediction,), (bins.low if bins.method == "equal_width" else 0.0,))
    sums: list[tuple[str, Expr]] = [
        ("prediction_sum", prediction),
        ("prediction_shifted_sum", shifted),
    ]
    if roles.label is not None:
        error = Apply("sub", (prediction, Col(roles.label)))
        sums += [
            ("label_sum", Col(roles.label)),
            ("error_sum", error),
            ("absolute_error_sum", Apply("abs", (error,))),
            ("squared_error_sum", Apply("square", (error,))),
        ]
    deviations = (("prediction_shifted_m2", prediction),)
    return Aggregation(keys=tuple(keys), sums=tuple(sums), deviations=deviations)


def prediction_bins(profile: ColumnProfile, score_bins: int | ScoreBins) -> ScoreBins:
    """Exact values when few are distinct, else equal-width bins over the profiled range."""
    if isinstance(score_bins, ScoreBins):
        return score_bins
    if score_bins < 1:
        raise InputError(f"score_bins must be at least 1; got {score_bins}")
    if profile.distinct is not None and profile.distinct <= score_bins:
        return ScoreBins("exact")
    assert profile.minimum is not None and profile.maximum is not None
    return ScoreBins("equal_width", float(profile.minimum), float(profile.maximum), int(score_bins))


def regression_metrics(table: CountTable, grouping: tuple[str, ...]) -> GroupMetrics:
    """Metrics of numeric decisions per group of ``grouping`` (the empty grouping: everyone).

    - ``mean_prediction``, ``std_prediction``: mean and population standard deviation
      (``ddof=0``, as ``numpy.std``) of the predicted amounts.
    - ``median_prediction``: with exact values, the median as ``numpy.median`` computes it (the
      mean of the two middle values for an even count); with bins, the grouped-data median
      ``low + (n / 2 - below) / inside * width`` of the bin holding the middle row, ``below``
      rows lying in lower bins and ``inside`` in that bin.
    - With a label: ``mean_label``, ``mean_error`` (mean of ``prediction - label``: the bias,
      positive when the group is given more than its true amount), ``mean_absolute_error`` and
      ``root_mean_squared_error``.

    None is a proportion, so there are no ``rates``: gaps are differences and ratios only.
    """
    rollup = table.rollup(grouping)
    grouped = rollup.cells
    groups, codes, sums = group_sums(rollup, table.sums)
    n = groups["n"].to_numpy(dtype=np.float64)
    mean = ratio(sums["prediction_sum"], n)
    cell_counts = grouped["n"].to_numpy(dtype=np.float64)
    cell_means = ratio(grouped["prediction_shifted_sum"], cell_counts)
    m2 = grouped["prediction_shifted_m2"].to_numpy(dtype=np.float64)
    _, _, group_m2 = merge_moments(codes, cell_counts, cell_means, m2, len(groups))
    values: dict[str, FloatArray] = {
        "mean_prediction": mean,
        "std_prediction": np.sqrt(ratio(group_m2, n)),
        "median_prediction": _medians(grouped, codes, len(groups), table.bins),
    }
    if "label_sum" in sums:
        values["mean_label"] = ratio(sums["label_sum"], n)
        values["mean_error"] = ratio(sums["error_sum"], n)
        values["mean_absolute_error"] = ratio(sums["absolute_error_sum"], n)
        values["root_mean_squared_error"] = np.sqrt(ratio(sums["squared_error_sum"], n))
    return GroupMetrics(grouping=grouping, groups=groups, values=values)


def group_sums(
    rollup: Rollup, columns: list[str]
) -> tuple[pd.DataFrame, np.ndarray[Any, np.dtype[np.int64]], dict[str, FloatArray]]:
    """Sum ``n`` and ``columns`` per group: the groups in order, each cell's group, the sums."""
    grouped, codes, groups = rollup.cells, rollup.codes, rollup.groups.copy()
    size = len(groups)
    counts = np.bincount(codes, weights=grouped["n"].to_numpy(dtype=np.float64), minlength=size)
    groups["n"] = counts.astype(np.int64)
    sums = {
        c: np.asarray(
            np.bincount(codes, weights=grouped[c].to_numpy(dtype=np.float64), minlength=size),
            dtype=np.float64,
        )
        for c in columns
    }
    return groups, codes, sums


def _medians(
    grouped: pd.DataFrame,
    codes: np.ndarray[Any, np.dtype[np.int64]],
    size: int,
    bins: ScoreBins | None,
) -> FloatArray:
    keys = grouped[PREDICTION_BIN].to_numpy(dtype=np.float64)
    counts = grouped["n"].to_numpy(dtype=np.float64)
    out = np.full(size, np.nan)
    for g in range(size):
        mine = codes == g
        order = np.argsort(keys[mine], kind="stable")
        key, count = keys[mine][order], counts[mine][order]
        if bins is None or bins.method == "exact":
            out[g] = _exact_median(key, count)
        else:
            out[g] = _binned_median(key, count, bins)
    return out


def _exact_median(values: FloatArray, counts: FloatArray) -> float:
    total = counts.sum()
    if total <= 0:
        return math.nan
    cumulative = np.cumsum(counts)
    # 1-based ranks of the middle row(s): one for an odd count, two for an even one.
    lower = np.searchsorted(cumulative, (total + 1) // 2, side="left")
    upper = np.searchsorted(cumulative, total // 2 + 1, side="left")
    return float((values[lower] + values[upper]) / 2.0)


def _binned_median(keys: FloatArray, counts: FloatArray, bins: ScoreBins) -> float:
    total = counts.sum()
    if total <= 0:
        return math.nan
    cumulative = np.cumsum(counts)
    middle = total / 2.0
    j = int(np.searchsorted(cumulative, middle, side="left"))
    below = cumulative[j] - counts[j]
    low, high = bins.edges(keys[j : j + 1])
    return float(low[0] + (middle - below) / counts[j] * (high[0] - low[0]))
