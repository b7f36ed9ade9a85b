"""Significance tests on count tables and corrections for testing many groups at once.

A 2 x 2 comparison uses Pearson's chi-square test when every expected count is at least 5 and
Fisher's exact test otherwise; a comparison across all groups uses the chi-square test of
independence. p-values of one audit are corrected together (Holm or Benjamini-Hochberg).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from scipy import stats

from ethica.fairness._group_metrics import FloatArray

Correction = Literal["holm", "bh", "none"]
MIN_EXPECTED = 5.0


def two_by_two(x1: float, n1: float, x2: float, n2: float) -> tuple[float, str]:
    """p-value that two proportions differ, and the name of the test used."""
    if min(n1, n2) <= 0:
        return float("nan"), "none"
    table = np.array([[x1, n1 - x1], [x2, n2 - x2]], dtype=np.float64)
    if table[:, 0].sum() == 0 or table[:, 1].sum() == 0:
        return 1.0, "none"  # every row has the same outcome: no difference to find
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / table.sum()
    if expected.min() < MIN_EXPECTED:
        result = stats.fisher_exact(np.rint(table).astype(np.int64))
        return float(result.pvalue), "fisher"
    chi2 = stats.chi2_contingency(table, correction=False)
    return float(chi2.pvalue), "chi-square"


def across_groups(successes: Any, trials: Any) -> float:
    """p-value that a proportion is the same in every group (chi-square test of independence)."""
    x = np.asarray(successes, dtype=np.float64)
    n = np.asarray(trials, dtype=np.float64)
    keep = n > 0
    table = np.stack([x[keep], n[keep] - x[keep]], axis=1)
    if table.shape[0] < 2 or (table.sum(axis=0) == 0).any():
        return float("nan")
    return float(stats.chi2_contingency(table, correction=False).pvalue)


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
        adjusted = np.minimum.accumulate((m / np.arange(m, 0, -1) * ranked[::-1]))[::-1]
    result = np.empty(m)
    result[order] = np.minimum(adjusted, 1.0)
    out[present] = result
    return out
