"""Significance tests on count tables and corrections for testing many groups at once.

A 2 x 2 comparison uses Pearson's chi-square test when every expected count is at least 5 and
Fisher's exact test otherwise; a comparison across all groups uses the chi-square test of
independence; two means use a large-sample z test. p-values of one audit are corrected
together (Holm or Benjamini-Hochberg).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from ethica.fairness._group_metrics import FloatArray
from ethica.fairness._tails import chi_square_sf, normal_sf

Correction = Literal["holm", "bh", "none"]
MIN_EXPECTED = 5.0


def two_by_two(x1: Any, n1: Any, x2: Any, n2: Any) -> tuple[FloatArray, npt.NDArray[np.str_]]:
    """p-values that ``x1/n1`` and ``x2/n2`` differ, element-wise, and the test used for each.

    Pearson's statistic of a 2 x 2 table, ``N (ad - bc)^2 / (r1 r2 c1 c2)``, is computed for all
    comparisons at once; Fisher's exact test runs only where an expected count is below 5.
    """
    a, r1, c, r2 = (np.atleast_1d(np.asarray(v, dtype=np.float64)) for v in (x1, n1, x2, n2))
    b, d = r1 - a, r2 - c
    total = r1 + r2
    c1, c2 = a + c, b + d
    p = np.full(a.shape, np.nan)
    test = np.full(a.shape, "none", dtype=object)
    defined = (r1 > 0) & (r2 > 0)
    constant = defined & ((c1 == 0) | (c2 == 0))  # every row has the same outcome
    p[constant] = 1.0
    regular = defined & ~constant
    with np.errstate(divide="ignore", invalid="ignore"):
        smallest = np.minimum.reduce([r1 * c1, r1 * c2, r2 * c1, r2 * c2]) / total
        statistic = total * (a * d - b * c) ** 2 / (r1 * r2 * c1 * c2)
    chi = regular & (smallest >= MIN_EXPECTED)
    p[chi] = chi_square_sf(statistic[chi], 1)
    test[chi] = "chi-square"
    exact = np.flatnonzero(regular & ~chi)
    if exact.size:
        # scipy costs a second to import: only Fisher's exact test needs it.
        from scipy import stats
    for i in exact:
        table = np.rint([[a[i], b[i]], [c[i], d[i]]]).astype(np.int64)
        p[i] = float(stats.fisher_exact(table).pvalue)
        test[i] = "fisher"
    return p, test.astype(str)


def across_groups(successes: Any, trials: Any) -> float:
    """p-value that a proportion is the same in every group (chi-square test of independence)."""
    x = np.asarray(successes, dtype=np.float64)
    n = np.asarray(trials, dtype=np.float64)
    keep = n > 0
    observed = np.stack([x[keep], n[keep] - x[keep]], axis=1)
    totals = observed.sum(axis=0)
    if observed.shape[0] < 2 or (totals == 0).any():
        return float("nan")
    expected = observed.sum(axis=1, keepdims=True) * totals / observed.sum()
    statistic = float(((observed - expected) ** 2 / expected).sum())
    return float(chi_square_sf(np.asarray(statistic), observed.shape[0] - 1))


def adjust(p_values: Any, method: Correction) -> FloatArray:
    """Corrected p-values; NaN entries are left out of the family and stay NaN."""
    p = np.asarray(p_values, dtype=np.float64)
    out = np.full_like(p, np.nan)
    present = ~np.isnan(p)
    if method == "none" or not present.any():
        return np.where(present, p, np.nan)
    values = p[present]
    m = values.size
    order = np.argsort(values, kind="stable")
    ranked = values[order]
    if method == "holm":
        adjusted = np.maximum.accumulate((m - np.arange(m)) * ranked)
    else:
        adjusted = np.minimum.accumulate(m / np.arange(m, 0, -1) * ranked[::-1])[::-1]
    result = np.empty(m)
    result[order] = np.minimum(adjusted, 1.0)
    out[present] = result
    return out


def difference_of_means(
    m1: Any, v1: Any, m2: Any, v2: Any
) -> tuple[FloatArray, npt.NDArray[np.str_]]:
    """Two-sided p-values that two means differ (large-sample z test, Welch's standard error).

    ``v1`` and ``v2`` are the squared standard errors of the means.
    """
    m1, v1, m2, v2 = (np.asarray(a, dtype=np.float64) for a in (m1, v1, m2, v2))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (m1 - m2) / np.sqrt(v1 + v2)
    p = np.where(np.isnan(z), np.nan, 2.0 * normal_sf(np.abs(z)))
    test = np.where(np.isnan(p), "none", "z (means)")
    return p, test.astype(str)
