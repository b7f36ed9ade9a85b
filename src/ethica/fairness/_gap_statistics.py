"""Intervals and tests of one metric's gaps: a proportion, a mean, or a share of a total.

Each group is compared with the rest of the population (``reference`` None) or with the
reference group (its row); :mod:`ethica.fairness._disparities` lays the figures out as rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ethica.fairness._group_metrics import GroupMetrics, ratio
from ethica.fairness._intervals import (
    katz_ratio,
    mean_moments,
    mean_ratio,
    newcombe,
    normal_interval,
    wilson,
)
from ethica.fairness._significance import difference_of_means, two_by_two

#: What a share is compared with when groups are compared with the whole population.
POPULATION_SHARE = "population share"


def rate_statistics(
    metrics: GroupMetrics,
    overall: GroupMetrics,
    metric: str,
    reference: int | None,
    confidence: float,
    *,
    gaps_only: bool = False,
) -> dict[str, Any]:
    num, den = metrics.rates[metric]
    c = confidence
    out: dict[str, Any] = {"numerator": num, "denominator": den}
    if not gaps_only:
        out["value_low"], out["value_high"] = wilson(num, den, c)
    if reference is None:
        total_num, total_den = (population(a) for a in overall.rates[metric])
        x2, n2 = total_num - num, total_den - den  # the rest of the population
        share = 1.0 - ratio(den, total_den)
        differences = newcombe(num, den, x2, n2, c)
        gaps_to_overall(out, 1.0 - share, share, differences, katz_ratio(num, den, x2, n2, c))
    else:
        x2, n2 = np.full_like(num, num[reference]), np.full_like(den, den[reference])
        out["difference_low"], out["difference_high"] = newcombe(num, den, x2, n2, c)
        out["ratio_low"], out["ratio_high"] = katz_ratio(num, den, x2, n2, c)
    if not gaps_only:
        out["p_value"], out["test"] = two_by_two(num, den, x2, n2)
    return out


def gaps_to_overall(
    out: dict[str, Any],
    weight: Any,
    rest: Any,
    differences: tuple[Any, Any],
    ratios: tuple[Any, Any],
) -> None:
    """Turn intervals of each group's gap to the rest of the population into gaps to the overall.

    ``weight`` is the group's share of the population and ``rest`` is ``1 - weight``. The
    difference to the overall value is ``rest`` times the difference to the rest. The ratio
    g/overall is ``r / (w r + 1 - w)`` with r = g/rest: increasing in r, so its bounds map over.
    """
    (d_low, d_high), (r_low, r_high) = differences, ratios
    out["difference_low"], out["difference_high"] = rest * d_low, rest * d_high
    out["ratio_low"] = r_low / (weight * r_low + rest)
    out["ratio_high"] = r_high / (weight * r_high + rest)


def mean_statistics(
    metrics: GroupMetrics,
    overall: GroupMetrics,
    metric: str,
    reference: int | None,
    confidence: float,
    *,
    gaps_only: bool = False,
) -> dict[str, Any]:
    """Interval and z test of a mean against the rest of the population or the reference.

    As for proportions, the gap to the overall mean is ``(1 - w)`` times the gap to the rest
    (``w`` the group's share of the rows), so the intervals come from that independent pair.
    """
    total, squares = metrics.means[metric]
    sizes = metrics.sizes
    c = confidence
    mean, variance = mean_moments(total, squares, sizes)
    out: dict[str, Any] = {}
    if not gaps_only:
        out["value_low"], out["value_high"] = normal_interval(mean, variance, c)
    if reference is None:
        all_total, all_squares = (population(a) for a in overall.means[metric])
        rows = population(overall.sizes)
        other, other_variance = mean_moments(all_total - total, all_squares - squares, rows - sizes)
        weight = ratio(sizes, np.full_like(sizes, rows))
        rest = 1.0 - weight
        differences = normal_interval(mean - other, variance + other_variance, c)
        ratios = mean_ratio(mean, variance, other, other_variance, c)
        gaps_to_overall(out, weight, rest, differences, ratios)
    else:
        other = np.full_like(mean, mean[reference])
        other_variance = np.full_like(variance, variance[reference])
        d_low, d_high = normal_interval(mean - other, variance + other_variance, c)
        out["difference_low"], out["difference_high"] = d_low, d_high
        out["ratio_low"], out["ratio_high"] = mean_ratio(mean, variance, other, other_variance, c)
    if not gaps_only:
        out["p_value"], out["test"] = difference_of_means(mean, variance, other, other_variance)
    return out


def share_statistics(
    metrics: GroupMetrics,
    overall: GroupMetrics,
    share: str,
    per_item: dict[str, Any],
    reference: int | None,
    confidence: float,
) -> dict[str, Any]:
    """Compare a group's share of a total with the share it would hold at the comparison's rate.

    With ``r`` the per-item metric (exposure per item, presence in the top-k), the group's share
    is ``n_g r_g / total`` with ``total = N r_overall``, and its comparison is ``n_g r_c / total``
    for the comparison rate ``r_c``: compared with overall, the group's share of the rows
    ranked, ``n_g / N`` (exposure parity); compared with a reference group, the share it would
    hold at the reference group's rate. So the difference and its interval are the per-item
    metric's scaled by ``n_g / total``, and the ratio, its interval and the test are the
    per-item metric's. A share of the top-k places is a proportion of those places: its own
    interval is Wilson's on the group's rows there out of all rows there. A share of exposure
    takes the normal interval of exposure per item, scaled the same way (both treat the rows
    of a group as independent draws, as the intervals of proportions do).
    """
    base = metrics.shares[share]
    size = len(metrics.sizes)
    total = population(overall.values[base]) * population(overall.sizes)
    scale = ratio(metrics.sizes, np.full(size, total))
    row = dict(per_item)
    row["metric"] = np.full(size, share, dtype=object)
    row["value"] = metrics.values[share]
    row["reference_value"] = scale * per_item["reference_value"]
    if reference is None:
        row["compared_to"] = np.full(size, POPULATION_SHARE, dtype=object)
    for name in ("difference", "difference_low", "difference_high", "value_low", "value_high"):
        if name in row:
            row[name] = scale * row[name]
    if base in metrics.rates:
        inside = metrics.rates[base][0]
        places = np.full(size, population(overall.rates[base][0]))
        row["numerator"], row["denominator"] = inside, places
        row["value_low"], row["value_high"] = wilson(inside, places, confidence)
    return row


def population(values: Any) -> Any:
    """Return the whole population's figure: its one value, or the values row by row.

    Row by row when several audits are compared at once, each group beside its own population.
    """
    array = np.asarray(values)
    return array[0] if len(array) == 1 else array
