"""The public shape of a federated count table: every cell every site counts, in one order.

Secure aggregation sums vectors of one fixed length, so every site lays its count table out
over the same cells: each combination of the declared group values, label and decision (and
score bin). The layout is public (the plan declares it); only the counts are private.

A cell's score sum travels as whole numbers too: the sum above the range's low end, in units of
``2**-32`` of the range, split into four 16-bit limbs that add up without carrying over.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ethica.errors import InputError
from ethica.fairness._count_table import CountTable, ScoreBins

Vector = np.ndarray[Any, np.dtype[np.int64]]
#: A score sum is carried in units of 2**-UNIT_BITS of the score range ...
UNIT_BITS = 32
#: ... as LIMBS whole numbers of LIMB_BITS bits each (together 64 bits: any int64 of units).
LIMB_BITS, LIMBS = 16, 4


@dataclass(frozen=True)
class Layout:
    """The cells of a federated binary count table.

    Attributes
    ----------
    groups
        Each sensitive feature with the values every site may hold (as the audit names them,
        a missing value as ``"missing"``), in the order the vector uses.
    with_label
        Whether the true outcome is counted (label-based metrics) or only the decisions.
    classes
        The unfavourable and the favourable outcome, as the audit shows them.
    score_bins
        Equal-width score bins, when scores are counted: a cell per bin, and its score sum.
    """

    groups: tuple[tuple[str, tuple[str, ...]], ...]
    with_label: bool
    classes: tuple[Any, Any] = (0, 1)
    score_bins: ScoreBins | None = None

    def __post_init__(self) -> None:
        if self.score_bins is not None and self.score_bins.method != "equal_width":
            raise InputError("a federated audit bins scores in declared equal-width bins")

    @property
    def sensitive_features(self) -> tuple[str, ...]:
        """Names of the sensitive features."""
        return tuple(name for name, _ in self.groups)

    @property
    def keys(self) -> tuple[str, ...]:
        """The decision keys of each cell."""
        keys = ("label", "prediction") if self.with_label else ("prediction",)
        return keys if self.score_bins is None else (*keys, "score_bin")

    @property
    def size(self) -> int:
        """The length of every site's vector: a count per cell (and its score sum's limbs)."""
        return len(self.cells()) * (1 if self.score_bins is None else 1 + LIMBS)

    def cells(self) -> pd.DataFrame:
        """Every cell, one row each, in vector order."""
        decisions = [[0, 1]] * (2 if self.with_label else 1)
        bins = [] if self.score_bins is None else [list(range(self.score_bins.bins))]
        values = [list(v) for _, v in self.groups] + decisions + bins
        columns = [*self.sensitive_features, *self.keys]
        frame = pd.DataFrame(list(itertools.product(*values)), columns=columns)
        for key in self.keys:
            frame[key] = frame[key].astype(np.float64 if key == "score_bin" else np.int8)
        return frame

    def vector(self, table: CountTable) -> Vector:
        """Lay ``table`` out over the cells: its counts, zero where it has none.

        Refuses a table of another shape, or with a group value the layout does not declare.
        """
        if table.kind != "binary" or table.sensitive_features != self.sensitive_features:
            raise InputError(
                "this site's count table does not match the plan: a binary audit by "
                f"{', '.join(self.sensitive_features)} was planned, the site counted a "
                f"{table.kind} audit by {', '.join(table.sensitive_features)}"
            )
        if table.keys != self.keys or table.bins != self.score_bins:
            raise InputError(
                f"the plan counts {' and '.join(self.keys)} per cell; this site's table has "
                f"{' and '.join(table.keys)} (a label column set in one place and not the other?)"
            )
        for name, declared in self.groups:
            extra = sorted(set(table.cells[name]) - set(declared))
            if extra:
                raise InputError(
                    f"{name!r} has value(s) {extra} that the plan does not declare "
                    f"({list(declared)}); add them to the plan's [groups] so every site "
                    "counts the same cells"
                )
        columns = [*self.sensitive_features, *self.keys]
        cells = self.cells()
        index = cells.reset_index().set_index(columns)["index"]
        sums = ["n"] if self.score_bins is None else ["n", "score_sum"]
        counted = table.cells.groupby(columns, sort=False)[sums].sum()
        positions = index.loc[counted.index].to_numpy()
        vector = np.zeros(self.size, dtype=np.int64)
        n = counted["n"].to_numpy(dtype=np.int64)
        np.add.at(vector, positions, n)
        if self.score_bins is not None:
            units = self._units(counted["score_sum"].to_numpy(dtype=np.float64), n)
            for limb in range(LIMBS):
                part = (units >> (LIMB_BITS * limb)) & ((1 << LIMB_BITS) - 1)
                np.add.at(vector, positions + (1 + limb) * len(cells), part)
        return vector

    def _units(
        self, score_sum: np.ndarray[Any, np.dtype[np.float64]], n: np.ndarray[Any, Any]
    ) -> np.ndarray[Any, np.dtype[np.int64]]:
        """Score sums above the range's low end, in whole units of 2**-32 of the range."""
        assert self.score_bins is not None
        low, high = self.score_bins.low, self.score_bins.high
        units = np.rint((score_sum - low * n) / (high - low) * 2.0**UNIT_BITS)
        if (units < 0).any() or (units >= 2.0**63).any():
            raise InputError(
                f"this site's scores fall below the plan's score_range [{low:g}, {high:g}] "
                "(or its score sums are too large to carry): declare a range that holds them"
            )
        return units.astype(np.int64)

    def table(self, vector: Vector) -> CountTable:
        """Read a (summed) vector back as the count table a central pass would have built."""
        counts = np.asarray(vector, dtype=np.int64)
        if counts.shape != (self.size,):
            raise InputError(f"expected {self.size} counts, got an array of shape {counts.shape}")
        if (counts < 0).any():
            raise InputError("a count table cannot hold negative counts")
        cells = self.cells()
        size = len(cells)
        cells["n"] = counts[:size]
        if self.score_bins is not None:
            low, high = self.score_bins.low, self.score_bins.high
            # Each limb's sum times its place value is exact in float64; so is the low end's.
            units = sum(
                counts[(1 + limb) * size : (2 + limb) * size].astype(np.float64)
                * 2.0 ** (LIMB_BITS * limb - UNIT_BITS)
                for limb in range(LIMBS)
            )
            cells["score_sum"] = low * cells["n"] + units * (high - low)
        cells = cells[cells["n"] > 0].reset_index(drop=True)
        return CountTable(
            kind="binary",
            sensitive_features=self.sensitive_features,
            cells=cells,
            keys=self.keys,
            classes=self.classes,
            bins=self.score_bins,
        )
