"""Upper tails of the normal and chi-square distributions in closed form (no scipy at import).

For an integer number of degrees of freedom the chi-square survival function is a finite sum
(Abramowitz & Stegun 26.4.4-26.4.5), exact up to rounding like scipy's ``chdtrc``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ethica.fairness._group_metrics import FloatArray

_erfc = np.frompyfunc(math.erfc, 1, 1)


def normal_sf(z: Any) -> FloatArray:
    """``P(Z > z)`` of a standard normal variable, element-wise; NaN stays NaN."""
    values = np.asarray(z, dtype=np.float64)
    return np.asarray(0.5 * _erfc(values / math.sqrt(2.0)), dtype=np.float64)


def chi_square_sf(statistic: Any, df: int) -> FloatArray:
    """``P(X > x)`` of a chi-square variable with ``df`` (a positive integer) degrees of freedom."""
    if df < 1:
        raise ValueError(f"degrees of freedom must be a positive integer; got {df}")
    x = np.asarray(statistic, dtype=np.float64)
    half = x / 2.0
    if df % 2:  # odd: erfc(sqrt(x/2)) + exp(-x/2) sum_{i=1}^{(df-1)/2} (x/2)^(i-1/2) / Gamma(i+1/2)
        total = np.asarray(_erfc(np.sqrt(half)), dtype=np.float64)
        powers = [i + 0.5 for i in range((df - 1) // 2)]
    else:  # even: exp(-x/2) sum_{i=0}^{df/2-1} (x/2)^i / i!
        total = np.zeros_like(x)
        powers = [float(i) for i in range(df // 2)]
    with np.errstate(divide="ignore", invalid="ignore"):
        log_half = np.log(half)
        for power in powers:
            # in logs: (x/2)^k / Gamma(k+1) overflows for many groups before exp(-x/2) tames it
            term = np.exp(power * log_half - half - math.lgamma(power + 1.0))
            total = total + np.where(half > 0, term, 1.0 if power == 0 else 0.0)
    return np.where(np.isnan(x), np.nan, np.clip(total, 0.0, 1.0))
