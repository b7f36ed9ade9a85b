"""Per group, how many positives and negatives fall in each score bin: all that thresholds need.

The count table of a binary audit with scores already holds these counts (summed over the
decision), so the curves cost one roll-up of the table, whatever the size of the data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from ethica.errors import InputError
from ethica.fairness import CountTable
from ethica.fairness._count_table import group_labels
from ethica.fairness._rollup import (
    Codes,
    combined_key,
    distinct_keys,
)

FloatArray = npt.NDArray[np.float64]
#: A column of the cells as an array: ``column(name)`` or ``column(name, dtype)``.
Column = Callable[..., npt.NDArray[Any]]


@dataclass(frozen=True)
class ScoreCurve:
    """One group's score bins in descending order with the positives and negatives in each.

    ``recorded``: the group's (TP, FP, FN, TN) under the decisions as recorded.
    """

    group: str
    scores: FloatArray
    positives: FloatArray
    negatives: FloatArray
    recorded: FloatArray

    @property
    def rows(self) -> float:
        """Rows of the group."""
        return float(self.positives.sum() + self.negatives.sum())


def score_curves(table: CountTable) -> list[ScoreCurve]:
    """Roll a binary count table with labels and scores up to one curve per group.

    Groups are the full intersection of the sensitive features, in sorted order; each group's
    scores are the representative values of its non-empty bins (the score itself when scores
    were kept exactly), highest first.
    """
    if table.kind != "binary" or "label" not in table.keys or "score_bin" not in table.keys:
        raise InputError(
            "mitigation needs a binary count table with labels and scores: "
            "pass label=, prediction= and score= to count_table"
        )
    assert table.bins is not None
    column, codes, names = _grouped_cells(table)
    # The table's own cells (not a roll-up of them): the bins' codes it keeps apply.
    distinct, bins = _score_codes(table, column, own=column == table.column)
    groups, width = len(names), len(bins)
    counts = column("n", np.float64)
    # Cells label * 2 + prediction are TN, FP, FN, TP, as the decisions were recorded.
    cell = 2 * (column("label") == 1) + column("prediction", np.int64)
    # Per group, bin and cell: one count over the cells, read along both ways below (sums of
    # whole numbers in floats: exact below 2**53 rows, in whatever order they are added).
    by_cell = np.bincount(
        (codes * width + distinct) * 4 + cell, weights=counts, minlength=groups * width * 4
    ).reshape(groups, width, 4)
    negatives_by_bin = by_cell[:, :, 0] + by_cell[:, :, 1]
    positives_by_bin = by_cell[:, :, 2] + by_cell[:, :, 3]
    centers = table.bins.centers(bins).astype(np.float64)
    # The curves keep (TP, FP, FN, TN).
    decided = by_cell.sum(axis=1)[:, [3, 1, 2, 0]]
    curves = []
    for index, name in enumerate(names):
        negatives, positives = negatives_by_bin[index], positives_by_bin[index]
        order = np.flatnonzero(negatives + positives)[::-1]
        curves.append(
            ScoreCurve(
                group=name,
                scores=centers[order],
                positives=positives[order],
                negatives=negatives[order],
                recorded=decided[index],
            )
        )
    return curves


def _score_codes(table: CountTable, column: Column, *, own: bool) -> tuple[Codes, FloatArray]:
    """Each cell's score bin as its rank among the distinct bins, and those bins in order.

    The table's own codes of its bins (kept by who counted the cells) where the cells are
    the table's; else the bins hashed, then the few distinct ones sorted (as ``np.unique``).
    """
    known = table.factorized("score_bin") if own else None
    if known is not None:
        return known.codes, np.asarray(known.values, dtype=np.float64)
    distinct, bins = pd.factorize(column("score_bin", np.float64), sort=True, use_na_sentinel=False)
    return distinct, bins


def _grouped_cells(table: CountTable) -> tuple[Column, Codes, list[str]]:
    """Return the cells' columns, each cell's group (full intersection, sorted) and the names.

    The curves add the cells up per group and bin themselves, so the cells need no roll-up:
    their group codes suffice ("everyone" without features). The table's own cells are read
    as it gives them (:meth:`CountTable.column`: a count of arrays keeps them as such).
    """
    features = table.sensitive_features
    if not features:
        return table.column, np.zeros(len(table.column("n")), dtype=np.int64), ["everyone"]
    parts = [table.factorized(feature) for feature in features]
    if any(part is None for part in parts):
        rollup = table.rollup(features)
        return _frame_columns(rollup.cells), rollup.codes, group_labels(rollup.groups, features)
    if len(parts) == 1 and parts[0] is not None:
        # One feature: its codes are the groups, its sorted values their names.
        return (
            table.column,
            parts[0].codes,
            group_labels({features[0]: parts[0].values}, features),
        )
    cells = table.cells
    key = combined_key([part for part in parts if part is not None], len(cells))
    codes, first = distinct_keys(key, int(key.max()) + 1)
    # Each group's values from its first cell (a few values: no data frame of them).
    groups = {feature: cells[feature].array.take(first) for feature in features}
    return table.column, codes, group_labels(groups, features)


def _frame_columns(cells: pd.DataFrame) -> Column:
    """Read a data frame's columns as arrays."""
    return lambda name, dtype=None: cells[name].to_numpy(dtype)
