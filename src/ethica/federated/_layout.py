"""The public shape of a federated count table: every cell every site counts, in one order.

Secure aggregation sums vectors of one fixed length, so every site lays its count table out
over the same cells: each combination of the declared group values, label and decision. The
layout is public (the plan declares it); only the counts are private.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ethica.errors import InputError
from ethica.fairness._count_table import CountTable

Vector = np.ndarray[Any, np.dtype[np.int64]]


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
    """

    groups: tuple[tuple[str, tuple[str, ...]], ...]
    with_label: bool
    classes: tuple[Any, Any] = (0, 1)

    @property
    def sensitive_features(self) -> tuple[str, ...]:
        """Names of the sensitive features."""
        return tuple(name for name, _ in self.groups)

    @property
    def keys(self) -> tuple[str, ...]:
        """The decision keys of each cell."""
        return ("label", "prediction") if self.with_label else ("prediction",)

    @property
    def size(self) -> int:
        """Number of cells: the length of every site's vector."""
        return len(self.cells())

    def cells(self) -> pd.DataFrame:
        """Every cell, one row each, in vector order."""
        values = [list(v) for _, v in self.groups] + [[0, 1]] * len(self.keys)
        columns = [*self.sensitive_features, *self.keys]
        frame = pd.DataFrame(list(itertools.product(*values)), columns=columns)
        for key in self.keys:
            frame[key] = frame[key].astype(np.int8)
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
        if table.keys != self.keys:
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
        index = self.cells().reset_index().set_index(columns)["index"]
        counted = table.cells.groupby(columns, sort=False)["n"].sum()
        positions = index.loc[counted.index].to_numpy()
        vector = np.zeros(self.size, dtype=np.int64)
        np.add.at(vector, positions, counted.to_numpy(dtype=np.int64))
        return vector

    def table(self, vector: Vector) -> CountTable:
        """Read a (summed) vector back as the count table a central pass would have built."""
        counts = np.asarray(vector, dtype=np.int64)
        if counts.shape != (self.size,):
            raise InputError(f"expected {self.size} counts, got an array of shape {counts.shape}")
        if (counts < 0).any():
            raise InputError("a count table cannot hold negative counts")
        cells = self.cells()
        cells["n"] = counts
        cells = cells[cells["n"] > 0].reset_index(drop=True)
        return CountTable(
            kind="binary",
            sensitive_features=self.sensitive_features,
            cells=cells,
            keys=self.keys,
            classes=self.classes,
        )
