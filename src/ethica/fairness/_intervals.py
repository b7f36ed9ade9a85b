"""Confidence intervals for proportions, their differences and their ratios (vectorized).

- Wilson score interval for a proportion.
- Newcombe's hybrid score interval (his method 10) for a difference of two proportions.
- Katz's log interval for a ratio of two proportions, with 0.5 added to empty cells.
- Normal (Wald) intervals for means from their sums, their differences (Welch's standard
  error) and their ratios (on the log scale, by the delta method), for large groups.
"""

from __future__ import annotations

from functools import lru_cache
from statistics import NormalDist
from typing import Any

import numpy as np

from ethica.fairness._group_metrics import FloatArray


@lru_cache(maxsize=16)
def z_value(confidence: float) -> float:
    """Return the two-sided standard normal quantile for ``confidence`` (1.96 for 0.95)."""
    # NormalDist's inverse (Wichura's AS 241) is exact to double precision, like scipy's ndtri.
    return NormalDist().inv_cdf(0.5 + confidence / 2.0)


def wilson(successes: Any, trials: Any, confidence: float = 0.95) -> tuple[FloatArray, FloatArray]:
    """Wilson score interval of ``successes / trials``; NaN where there are no trials."""
    x = np.asarray(successes, dtype=np.float64)
    n = np.asarray(trials, dtype=np.float64)
    z = z_value(confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = x / n
        denominator = 1.0 + z * z / n
        center = (p + z * z / (2.0 * n)) / denominator
        half = z * np.sqrt(p * (1.0 - p) / n + z * z / (4.0 * n * n)) / denominator
    low = np.where(n > 0, np.clip(center - half, 0.0, 1.0), np.nan)
    high = np.where(n > 0, np.clip(center + half, 0.0, 1.0), np.nan)
    # Exactly 0 or 1 when every trial fails or succeeds (removes rounding at the boundary).
    low = np.where((n > 0) & (x == 0), 0.0, low)
    high = np.where((n > 0) & (x == n), 1.0, high)
    return low, high


def newcombe(
    x1: Any, n1: Any, x2: Any, n2: Any, confidence: float = 0.95
) -> tuple[FloatArray, FloatArray]:
    """Newcombe's hybrid score interval for ``x1/n1 - x2/n2``."""
    x1, n1, x2, n2 = (np.asarray(a, dtype=np.float64) for a in (x1, n1, x2, n2))
    with np.errstate(divide="ignore", invalid="ignore"):
        p1, p2 = x1 / n1, x2 / n2
    l1, u1 = wilson(x1, n1, confidence)
    l2, u2 = wilson(x2, n2, confidence)
    d = p1 - p2
    low = d - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return low, high


def katz_ratio(
    x1: Any, n1: Any, x2: Any, n2: Any, confidence: float = 0.95
) -> tuple[FloatArray, FloatArray]:
    """Katz's log interval for the ratio ``(x1/n1) / (x2/n2)``."""
    x1, n1, x2, n2 = (np.asarray(a, dtype=np.float64) for a in (x1, n1, x2, n2))
    empty = (x1 == 0) | (x2 == 0)
    x1, x2 = np.where(empty, x1 + 0.5, x1), np.where(empty, x2 + 0.5, x2)
    n1, n2 = np.where(empty, n1 + 0.5, n1), np.where(empty, n2 + 0.5, n2)
    z = z_value(confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_ratio = np.log((x1 / n1) / (x2 / n2))
        se = np.sqrt(1.0 / x1 - 1.0 / n1 + 1.0 / x2 - 1.0 / n2)
        low, high = np.exp(log_ratio - z * se), np.exp(log_ratio + z * se)
    undefined = (n1 <= 0.5) | (n2 <= 0.5)
    return np.where(undefined, np.nan, low), np.where(undefined, np.nan, high)


def mean_moments(total: Any, squares: Any, count: Any) -> tuple[FloatArray, FloatArray]:
    """Mean of a quantity and its squared standard error, from its sum and sum of squares.

    The standard error uses the sample variance (``n - 1``); both are NaN below two rows.
    """
    s, q, n = (np.asarray(a, dtype=np.float64) for a in (total, squares, count))
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.where(n > 0, s / n, np.nan)
        variance = np.clip(q - n * mean * mean, 0.0, None) / (n - 1.0)
        return mean, np.where(n > 1, variance / n, np.nan)


def normal_interval(
    estimate: Any, variance: Any, confidence: float = 0.95
) -> tuple[FloatArray, FloatArray]:
    """Wald interval ``estimate ± z sqrt(variance)``."""
    e = np.asarray(estimate, dtype=np.float64)
    half = z_value(confidence) * np.sqrt(np.asarray(variance, dtype=np.float64))
    return e - half, e + half


def mean_ratio(
    m1: Any, v1: Any, m2: Any, v2: Any, confidence: float = 0.95
) -> tuple[FloatArray, FloatArray]:
    """Log-scale interval of ``m1 / m2`` for positive means with squared standard errors v1, v2."""
    m1, v1, m2, v2 = (np.asarray(a, dtype=np.float64) for a in (m1, v1, m2, v2))
    with np.errstate(divide="ignore", invalid="ignore"):
        positive = (m1 > 0) & (m2 > 0)
        log_ratio = np.log(np.where(positive, m1 / m2, np.nan))
        low, high = normal_interval(log_ratio, v1 / (m1 * m1) + v2 / (m2 * m2), confidence)
    return np.exp(low), np.exp(high)
