"""SecAgg+ settings under which Flower sums whole counts exactly, and the sum read back.

Flower's SecAgg+ (``SecAggPlusWorkflow`` with ``secaggplus_mod``) clips each value to
``[-c, c]``, maps it to ``(x + c) * q / (2c)`` with stochastic rounding, masks the integers
modulo ``m`` and hands the server the weighted average. With ``q = 2c`` a whole count maps to
the whole number ``x + c`` (no rounding), with every site's weight 1 the average is the sum over
the number of sites, and with ``sites * q < m`` nothing wraps around the modulus: the sum comes
back exact.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ethica.errors import InputError

#: Flower's largest modulus (masks are drawn below it).
MODULUS_RANGE = 2**32


@dataclass(frozen=True)
class SecureSum:
    """SecAgg+ settings for an exact sum of whole counts over ``sites`` sites."""

    sites: int

    @property
    def quantization_range(self) -> int:
        """``q``: a power of two with ``sites * q`` at most half the modulus."""
        return int(2 ** (31 - math.ceil(math.log2(self.sites))))

    @property
    def clipping_range(self) -> float:
        """``c = q / 2``: the largest count one site may hold in one cell."""
        return float(self.quantization_range // 2)

    @property
    def largest_count(self) -> int:
        """The largest count a site may send in one cell."""
        return self.quantization_range // 2

    @property
    def num_shares(self) -> int:
        """Every site holds a share of every other site's mask key."""
        return self.sites

    @property
    def reconstruction_threshold(self) -> int:
        """A majority of shares rebuilds a key (so a minority of colluding sites cannot)."""
        return max(2, self.sites // 2 + 1)

    def check(self, counts: np.ndarray[Any, Any]) -> None:
        """Refuse counts the settings cannot carry exactly."""
        largest = int(counts.max(initial=0))
        if largest > self.largest_count:
            raise InputError(
                f"a cell of this site counts {largest:,} rows; secure aggregation over "
                f"{self.sites} sites carries at most {self.largest_count:,} per cell. Split the "
                "site's log into two sites"
            )

    def totals(self, average: np.ndarray[Any, Any]) -> np.ndarray[Any, np.dtype[np.int64]]:
        """Recover the summed counts from the average (weight 1 per site) Flower returns."""
        return np.rint(np.asarray(average, dtype=np.float64) * self.sites).astype(np.int64)
