"""Drift statistics of two distributions given as counts: PSI, JS, Wasserstein, KS, chi-square.

Each equals scipy's function on the rows the counts describe (tests hold them to 1e-9):
``ks_2samp``, ``wasserstein_distance`` (divided by the reference's standard deviation, as
Evidently normalises it), ``spatial.distance.jensenshannon`` and ``chisquare``. An empty side
gives NaN: there is nothing to compare, which is not the same as no drift.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from importlib import import_module
from typing import Any

import numpy as np
from scipy import special, stats

from ethica.monitoring._distribution import FloatArray, IntArray

#: scipy's ``ks_2samp`` computes the exact p-value up to this sample size, Smirnov's beyond.
KS_EXACT_MAX_N = 10_000
#: Evidently's floor on the reference's standard deviation when normalising Wasserstein.
WASSERSTEIN_MIN_SCALE = 0.001
#: Evidently's replacement for an empty bin in PSI (its ``feel_zeroes``): a share of 1e-4, or a
#: millionth of the smallest share when that is smaller still.
PSI_EMPTY_SHARE = 0.0001


@dataclass(frozen=True)
class Statistic:
    """A drift statistic and, for the tests that have one, its p-value."""

    value: float
    p_value: float | None = None


def ks_two_sample(support: FloatArray, reference: IntArray, current: IntArray) -> Statistic:
    """Two-sample Kolmogorov-Smirnov statistic and p-value (scipy's ``method="auto"``)."""
    n1, n2 = int(reference.sum()), int(current.sum())
    if n1 == 0 or n2 == 0:
        return Statistic(math.nan, math.nan)
    # scipy divides integer ranks by n; cumulative integer counts divided by n give the same bits.
    difference = np.cumsum(reference) / n1 - np.cumsum(current) / n2
    d = float(max(np.clip(-difference.min(), 0.0, 1.0), difference.max()))
    return Statistic(d, _ks_p_value(d, n1, n2))


def _ks_p_value(d: float, n1: int, n2: int) -> float:
    if max(n1, n2) <= KS_EXACT_MAX_N:
        exact = _exact_ks(d, n1, n2)
        if exact is not None:
            return exact
    m, n = sorted([float(n1), float(n2)], reverse=True)
    en = m * n / (m + n)
    return float(np.clip(stats.kstwo.sf(d, np.round(en)), 0.0, 1.0))


def _exact_ks(d: float, n1: int, n2: int) -> float | None:
    # scipy's exact path counts lattice paths; it is private, so fall back to Smirnov's
    # formula (as scipy itself does when the count fails) if a scipy release moves it.
    exact = getattr(import_module("scipy.stats._stats_py"), "_attempt_exact_2kssamp", None)
    if exact is None:  # pragma: no cover - depends on the scipy release
        return None
    success, _, probability = exact(n1, n2, math.gcd(n1, n2), d, "two-sided")
    return float(np.clip(probability, 0.0, 1.0)) if success else None


def wasserstein_normalised(
    support: FloatArray, reference: IntArray, current: IntArray
) -> Statistic:
    """Wasserstein-1 distance divided by the reference's standard deviation (at least 0.001)."""
    n1, n2 = int(reference.sum()), int(current.sum())
    if n1 == 0 or n2 == 0:
        return Statistic(math.nan)
    gaps = np.diff(support)
    cdf_gap = np.abs(np.cumsum(reference)[:-1] / n1 - np.cumsum(current)[:-1] / n2)
    distance = float(np.sum(cdf_gap * gaps))
    return Statistic(distance / max(_std(support, reference), WASSERSTEIN_MIN_SCALE))


def _std(support: FloatArray, counts: IntArray) -> float:
    """Return the population standard deviation (``numpy.std``) of the rows counted."""
    total = counts.sum()
    mean = float(np.dot(support, counts) / total)
    return float(np.sqrt(np.dot(counts, (support - mean) ** 2) / total))


def jensen_shannon(reference: Any, current: Any) -> Statistic:
    """Jensen-Shannon distance (natural log, as ``scipy.spatial.distance.jensenshannon``)."""
    p, q = np.asarray(reference, dtype=np.float64), np.asarray(current, dtype=np.float64)
    if p.sum() == 0 or q.sum() == 0:
        return Statistic(math.nan)
    p, q = p / p.sum(), q / q.sum()
    m = (p + q) / 2.0
    divergence = float(np.sum(special.rel_entr(p, m) + special.rel_entr(q, m))) / 2.0
    return Statistic(math.sqrt(max(divergence, 0.0)))


def psi(reference: Any, current: Any) -> Statistic:
    """Compute the population stability index, empty bins filled as Evidently fills them."""
    p, q = np.asarray(reference, dtype=np.float64), np.asarray(current, dtype=np.float64)
    if p.sum() == 0 or q.sum() == 0:
        return Statistic(math.nan)
    p, q = _filled(p / p.sum()), _filled(q / q.sum())
    return Statistic(float(np.sum((p - q) * np.log(p / q))))


def _filled(shares: FloatArray) -> FloatArray:
    smallest = float(shares[shares != 0].min())
    fill = smallest / 10**6 if smallest <= PSI_EMPTY_SHARE else PSI_EMPTY_SHARE
    return np.where(shares == 0, fill, shares)


def chi_square(reference: IntArray, current: IntArray) -> Statistic:
    """Pearson's goodness-of-fit of the current counts to the reference's shares.

    As Evidently: expected counts are the reference's scaled to the current total, and a
    category the reference never saw makes the statistic infinite (p-value 0): drift.
    """
    n1, n2 = int(reference.sum()), int(current.sum())
    if n1 == 0 or n2 == 0:
        return Statistic(math.nan, math.nan)
    seen = (reference + current) > 0  # a category of neither side is no category at all
    expected = reference[seen] * (n2 / n1)
    observed = current[seen].astype(np.float64)
    dof = int(seen.sum()) - 1
    if (expected == 0).any():
        return Statistic(math.inf, 0.0 if dof > 0 else math.nan)
    value = float(np.sum((observed - expected) ** 2 / expected))
    return Statistic(value, float(special.chdtrc(dof, value)) if dof > 0 else math.nan)


def z_proportions(reference: IntArray, current: IntArray) -> Statistic:
    """Two-proportion z-test of the share of the first category (Evidently's binary test)."""
    n1, n2 = int(reference.sum()), int(current.sum())
    if n1 == 0 or n2 == 0:
        return Statistic(math.nan, math.nan)
    if np.count_nonzero(reference + current) <= 1:
        return Statistic(0.0, 1.0)
    p1, p2 = float(reference[0]) / n1, float(current[0]) / n2
    pooled = (p1 * n1 + p2 * n2) / (n1 + n2)
    z = (p1 - p2) / math.sqrt(pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2))
    return Statistic(z, 2.0 * (1.0 - float(special.ndtr(abs(z)))))
