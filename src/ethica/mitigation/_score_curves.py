"""Per group, how many positives and negatives fall in each score bin: all that thresholds need.

The count table of a binary audit with scores already holds these counts (summed over the
decision), so the curves cost one roll-up of the table, whatever the size of the data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ethica.errors import InputError
from ethica.fairness import CountTable
from ethica.fairness._count_table import group_labels
from ethica.fairness._rollup import Rollup, count_by_code

FloatArray = npt.NDArray[np.float64]


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
    features = table.sensitive_features
    rollup = table.rollup(features)
    cells = rollup.cells
    names = group_names(rollup, features)
    bins, distinct = np.unique(cells["score_bin"].to_numpy(np.float64), return_inverse=True)
    width = len(bins)
    key = rollup.codes * width + distinct
    counts = cells["n"].to_numpy(np.int64)
    positive = cells["label"].to_numpy() == 1
    size = len(names) * width
    pos = count_by_code(np.where(positive, counts, 0), key, size).reshape(len(names), width)
    neg = count_by_code(np.where(positive, 0, counts), key, size).reshape(len(names), width)
    centers = table.bins.centers(bins)
    # Cells label * 2 + prediction are TN, FP, FN, TP; the curves keep (TP, FP, FN, TN).
    cell = 2 * cells["label"].to_numpy(np.int64) + cells["prediction"].to_numpy(np.int64)
    decided = count_by_code(counts, rollup.codes * 4 + cell, len(names) * 4).reshape(-1, 4)
    decided = decided[:, [3, 1, 2, 0]].astype(np.float64)
    curves = []
    for index, name in enumerate(names):
        present = (pos[index] + neg[index]) > 0
        order = np.flatnonzero(present)[::-1]
        curves.append(
            ScoreCurve(
                group=name,
                scores=centers[order].astype(np.float64),
                positives=pos[index, order].astype(np.float64),
                negatives=neg[index, order].astype(np.float64),
                recorded=decided[index],
            )
        )
    return curves


def group_names(rollup: Rollup, features: tuple[str, ...]) -> list[str]:
    """Name each group of a roll-up to the full intersection ("everyone" without features)."""
    return group_labels(rollup.groups, features) if features else ["everyone"]
