"""Metrics of scores: mean score, ROC AUC from score bins, and calibration by score bin.

AUC from bins counts a positive-negative pair in the same bin as half a success, so it is exact
(equal to scikit-learn's ``roc_auc_score``) when every distinct score has its own bin.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from functools import partial

import numpy as np
import numpy.typing as npt
import pandas as pd

from ethica.fairness._count_table import CountTable
from ethica.fairness._group_metrics import FloatArray, ratio
from ethica.fairness._rollup import Codes, Rollup, count_by_code, distinct_keys, sum_by_code

CALIBRATION_BINS = 10
BoolArray = npt.NDArray[np.bool_]


class Curves(Mapping[str, pd.DataFrame]):
    """Per-group tables made on first use: only the HTML report draws them."""

    def __init__(self, makers: dict[str, Callable[[], pd.DataFrame]]) -> None:
        self._makers = makers
        self._made: dict[str, pd.DataFrame] = {}

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name not in self._made:
            self._made[name] = self._makers[name]()
        return self._made[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._makers)

    def __len__(self) -> int:
        return len(self._makers)


def score_metrics(
    table: CountTable, rollup: Rollup
) -> tuple[dict[str, FloatArray], Mapping[str, pd.DataFrame]]:
    """Mean score and ROC AUC per group, and a calibration table by score bin."""
    frame, codes = rollup.cells, rollup.codes
    size = len(rollup.groups)
    n = count_by_code(frame["n"].to_numpy(), codes, size)
    values = {"mean_score": ratio(sum_by_code(frame["score_sum"], codes), n)}
    makers: dict[str, Callable[[], pd.DataFrame]] = {}
    if "label" in frame:
        positive = (frame["label"] == 1).to_numpy()
        values["roc_auc"] = _auc(frame, codes, positive, size)
        makers["calibration"] = partial(_calibration, table, rollup, positive)
    return values, Curves(makers)


def _auc(frame: pd.DataFrame, codes: Codes, positive: BoolArray, size: int) -> FloatArray:
    """Pairs won by positives over negatives per group: bins of a group in ascending order."""
    bins, distinct_bins = pd.factorize(frame["score_bin"], sort=True)
    key = codes * len(distinct_bins) + bins
    inverse, first = distinct_keys(key, size * len(distinct_bins))
    cells = key[first]
    counts = frame["n"].to_numpy()
    pos = count_by_code(np.where(positive, counts, 0), inverse, len(cells))
    neg = count_by_code(np.where(positive, 0, counts), inverse, len(cells))
    group = cells // len(distinct_bins)
    # Negatives in lower bins of the same group: a running total restarted at each group.
    running = np.cumsum(neg)
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    before_group = np.repeat(running[starts] - neg[starts], np.diff(np.r_[starts, len(group)]))
    below = running - before_group - neg
    wins = pos * (below + 0.5 * neg)
    pairs = count_by_code(pos, group, size) * count_by_code(neg, group, size)
    return ratio(sum_by_code(wins, group), pairs)


def _calibration(table: CountTable, rollup: Rollup, positive: BoolArray) -> pd.DataFrame:
    bins = table.bins
    assert bins is not None
    frame = rollup.cells
    keys = frame["score_bin"].to_numpy(dtype=np.float64)
    low, high = _range(table)
    centers = bins.centers(keys)
    width = (high - low) / CALIBRATION_BINS if high > low else 1.0
    coarse = np.clip(np.floor((centers - low) / width), 0, CALIBRATION_BINS - 1).astype(np.int64)
    key = rollup.codes * CALIBRATION_BINS + coarse
    inverse, first = distinct_keys(key, len(rollup.groups) * CALIBRATION_BINS)
    cells = key[first]
    group, coarse_bin = np.divmod(cells, CALIBRATION_BINS)
    counts = frame["n"].to_numpy()
    if rollup.groups.columns.empty:  # everyone: one group, named by a column of zeros
        out = pd.DataFrame({"__all": np.zeros(len(cells), dtype=np.int64)})
    else:
        out = rollup.groups.take(group).reset_index(drop=True)
    out["bin"] = coarse_bin
    out["n"] = count_by_code(counts, inverse, len(cells))
    out["positives"] = count_by_code(np.where(positive, counts, 0), inverse, len(cells))
    out["bin_low"] = low + out["bin"] * width
    out["bin_high"] = out["bin_low"] + width
    out["mean_score"] = ratio(sum_by_code(frame["score_sum"], inverse), out["n"])
    out["observed_rate"] = ratio(out["positives"], out["n"])
    return out


def _range(table: CountTable) -> tuple[float, float]:
    bins = table.bins
    assert bins is not None
    if bins.method == "equal_width":
        return bins.low, bins.high
    values = table.cells["score_bin"].to_numpy(dtype=np.float64)
    return float(values.min()), float(values.max())
