"""Bootstrap by resampling the count table, never the rows.

Each finest group's cells are drawn again from a multinomial with the group's size and observed
cell shares, so no row is ever touched twice. All groups and replicates are drawn in one call,
coarser groupings are sums of finest groups (one pass over the replicates each) and quantiles
are read from one sort, so the work grows linearly with groups x replicates.

Group sizes stay fixed (a stratified bootstrap), and every coarser grouping is a sum of finest
groups, so one set of replicates serves every grouping of the audit.

A percentile interval needs enough outcomes of each sort to have a shape: a group of 30 with
one or no favourable outcome is redrawn as one or none almost every time, and its interval
collapses to a point that misses the truth. So where the group (or what it is compared with)
has fewer than :data:`MIN_OUTCOMES` of either outcome of a rate, the analytic score interval
stands in (Wilson for the rate, Newcombe for its gap), and the row says which was used.
"""

from __future__ import annotations

import warnings
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from ethica.fairness._binary import RATES, confusion, derived_values, rate_values
from ethica.fairness._count_table import CountTable, group_labels
from ethica.fairness._disparities import Settings
from ethica.fairness._group_metrics import FloatArray, GroupMetrics

#: Below this many favourable or unfavourable outcomes a rate's percentile interval is too coarse.
MIN_OUTCOMES = 10
#: The interval shown in the bootstrap columns, per row (``boot_value_method`` ...).
BootMethod = Literal["percentile", "wilson", "newcombe"]
IntArray = npt.NDArray[np.int64]


def bootstrap_intervals(
    table: CountTable, metrics: dict[tuple[str, ...], GroupMetrics], settings: Settings
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Bootstrap intervals of each group's metrics, gaps to the comparison, and summary gaps.

    Returns two frames: per grouping, group and metric (``boot_value_low`` ...,
    ``boot_value_method``, ``boot_difference_method``), and per grouping and metric
    (``boot_difference_low`` ...), to be joined onto the audit's tables. Where a method is not
    ``"percentile"`` the interval is still to be taken from the analytic columns: see
    :func:`use_analytic_where_coarse`.
    """
    with warnings.catch_warnings():
        # A metric undefined in every replicate of a small group (no negatives, say) is NaN.
        warnings.filterwarnings("ignore", "All-NaN slice encountered", RuntimeWarning)
        return _bootstrap_intervals(table, metrics, settings)


def use_analytic_where_coarse(comparisons: pd.DataFrame) -> pd.DataFrame:
    """Fill the bootstrap columns with the analytic interval on rows too coarse to resample."""
    if "boot_value_method" not in comparisons:
        return comparisons
    out = comparisons.copy()
    for part in ("value", "difference"):
        analytic = out[f"boot_{part}_method"] != "percentile"
        for end in ("low", "high"):
            out[f"boot_{part}_{end}"] = out[f"boot_{part}_{end}"].where(
                ~analytic, out[f"{part}_{end}"]
            )
    return out


def _bootstrap_intervals(
    table: CountTable, metrics: dict[tuple[str, ...], GroupMetrics], settings: Settings
) -> tuple[pd.DataFrame, pd.DataFrame]:
    finest = table.sensitive_features
    fine_groups, fine_counts = confusion(table.rollup(finest))
    rng = np.random.default_rng(settings.seed)
    replicates = _resample(fine_counts, settings.bootstrap, rng)  # (B, F, 4)
    has_label = "label" in table.keys
    overall = derived_values(replicates.sum(axis=1, keepdims=True), has_label=has_label)
    observed_overall = rate_values(fine_counts.sum(axis=0), tuple(RATES))
    tail = (1.0 - settings.confidence) / 2.0
    quantiles = (tail, 1.0 - tail)
    per_group, per_metric = [], []
    for grouping, observed_metrics in metrics.items():
        codes, groups = _codes(fine_groups, grouping)
        counts = _sum_groups(replicates, codes, len(groups))
        observed = _sum_groups(fine_counts[np.newaxis], codes, len(groups))[0]
        values = derived_values(counts, has_label=has_label)
        observed_rates = rate_values(observed, tuple(r for r in RATES if r in values))
        labels = group_labels(groups, grouping)
        # The audit's groups, in the same (sorted) order: their supports say which are large.
        assert labels == group_labels(observed_metrics.groups, grouping)
        name = " × ".join(grouping)
        reference = _reference_column(groups, grouping, settings)
        for metric, v in values.items():
            # The same gap as the audit's "difference": to the reference group when there is one.
            difference = v - (overall[metric] if reference is None else v[:, [reference]])
            low, high = _quantiles(v, quantiles)
            d_low, d_high = _quantiles(difference, quantiles)
            value_method, difference_method = _methods(
                observed_rates.get(metric), observed_overall.get(metric), reference, len(groups)
            )
            per_group.append(
                pd.DataFrame(
                    {
                        "grouping": name,
                        "group": labels,
                        "metric": metric,
                        "boot_value_low": low,
                        "boot_value_high": high,
                        "boot_difference_low": d_low,
                        "boot_difference_high": d_high,
                        "boot_value_method": value_method,
                        "boot_difference_method": difference_method,
                    }
                )
            )
            kept = v[:, observed_metrics.support(metric) >= settings.min_group_size]
            if kept.shape[1]:
                spread = np.nanmax(kept, axis=1) - np.nanmin(kept, axis=1)
                s_low, s_high = _quantiles(spread[:, np.newaxis], quantiles)
                per_metric.append(
                    {
                        "grouping": name,
                        "metric": metric,
                        "boot_difference_low": float(s_low[0]),
                        "boot_difference_high": float(s_high[0]),
                    }
                )
    return pd.concat(per_group, ignore_index=True), pd.DataFrame(per_metric)


def _methods(
    group: tuple[FloatArray, FloatArray] | None,
    total: tuple[FloatArray, FloatArray] | None,
    reference: int | None,
    size: int,
) -> tuple[npt.NDArray[np.str_], npt.NDArray[np.str_]]:
    """Per group: the interval of the value and of the gap (percentile unless too coarse)."""
    if group is None or total is None:  # balanced accuracy, F1: no analytic interval to use
        percentile = np.full(size, "percentile")
        return percentile, percentile
    num, den = group
    coarse = _coarse(num, den)
    if reference is None:  # the gap to overall is a rescaled gap to the rest of the population
        compared = _coarse(total[0] - num, total[1] - den)
    else:
        compared = np.full(size, coarse[reference])
    value = np.where(coarse, "wilson", "percentile")
    difference = np.where(coarse | compared, "newcombe", "percentile")
    return value, difference


def _coarse(num: FloatArray, den: FloatArray) -> npt.NDArray[np.bool_]:
    """Where a rate has too few outcomes of either sort for a percentile interval."""
    result: npt.NDArray[np.bool_] = np.minimum(num, den - num) < MIN_OUTCOMES
    return result


def _quantiles(values: FloatArray, quantiles: tuple[float, float]) -> tuple[FloatArray, FloatArray]:
    """Linearly interpolated quantiles of each column, ignoring NaN (as ``numpy.nanquantile``).

    One sort of the replicates serves both ends and every column, where ``nanquantile`` loops
    over columns in Python as soon as one value is NaN.
    """
    ordered = np.sort(values, axis=0)  # NaN sort last
    present = (~np.isnan(ordered)).sum(axis=0)
    out = []
    for q in quantiles:
        position = q * np.maximum(present - 1, 0)
        below = np.floor(position).astype(np.int64)
        above = np.minimum(below + 1, np.maximum(present - 1, 0))
        fraction = position - below
        low = np.take_along_axis(ordered, below[np.newaxis], axis=0)[0]
        high = np.take_along_axis(ordered, above[np.newaxis], axis=0)[0]
        out.append(np.where(present > 0, low + fraction * (high - low), np.nan))
    return out[0], out[1]


def _reference_column(
    groups: pd.DataFrame, grouping: tuple[str, ...], settings: Settings
) -> int | None:
    """Position of the reference group among ``groups`` (sorted like the audit's groups)."""
    if settings.reference is None:
        return None
    wanted = tuple(str(settings.reference[f]) for f in grouping)
    rows = list(groups[list(grouping)].itertuples(index=False, name=None))
    return rows.index(wanted)


def _resample(counts: FloatArray, replicates: int, rng: np.random.Generator) -> FloatArray:
    """Draw every group's cells ``replicates`` times at once: shape (replicates, groups, cells)."""
    sizes = counts.sum(axis=1)
    shares = counts / np.where(sizes > 0, sizes, 1.0)[:, np.newaxis]
    draws = rng.multinomial(sizes.astype(np.int64), shares, size=(replicates, len(counts)))
    return draws.astype(np.float64)


def _codes(fine_groups: pd.DataFrame, grouping: tuple[str, ...]) -> tuple[IntArray, pd.DataFrame]:
    """Each finest group's position among the groups of ``grouping``, and those groups."""
    by = list(grouping)
    codes = np.asarray(fine_groups.groupby(by, sort=True).ngroup(), dtype=np.int64)
    groups = fine_groups.groupby(by, sort=True)["n"].sum().reset_index()
    return codes, groups


def _sum_groups(counts: FloatArray, codes: IntArray, groups: int) -> FloatArray:
    """Sum the finest groups (axis 1 of ``counts``) into the groups their codes name."""
    if groups == counts.shape[1] and np.array_equal(codes, np.arange(groups)):
        return counts
    order = np.argsort(codes, kind="stable")
    starts = np.searchsorted(codes[order], np.arange(groups))
    summed: FloatArray = np.add.reduceat(counts[:, order, :], starts, axis=1)
    return summed
