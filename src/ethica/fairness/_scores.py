"""Metrics of scores: mean score, ROC AUC from score bins, and calibration by score bin.

AUC from bins counts a positive-negative pair in the same bin as half a success, so it is exact
(equal to scikit-learn's ``roc_auc_score``) when every distinct score has its own bin.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ethica.fairness._count_table import CountTable
from ethica.fairness._group_metrics import FloatArray, ratio

CALIBRATION_BINS = 10


def score_metrics(
    table: CountTable, grouped: pd.DataFrame, grouping: tuple[str, ...], groups: pd.DataFrame
) -> tuple[dict[str, FloatArray], dict[str, pd.DataFrame]]:
    """Mean score and ROC AUC per group, and a calibration table by score bin."""
    by = list(grouping)
    frame = grouped.copy()
    if not by:
        frame["__all"] = 0
        by = ["__all"]
        groups = groups.assign(__all=0)
    order = groups[by]
    totals = frame.groupby(by, sort=True)[["n", "score_sum"]].sum()
    totals = order.merge(totals.reset_index(), on=by, how="left")
    values = {"mean_score": ratio(totals["score_sum"], totals["n"])}
    curves: dict[str, pd.DataFrame] = {}
    if "label" in frame:
        values["roc_auc"] = _auc(frame, by, order)
        curves["calibration"] = _calibration(table, frame, by)
    return values, curves


def _auc(frame: pd.DataFrame, by: list[str], order: pd.DataFrame) -> FloatArray:
    pos = frame["n"].where(frame["label"] == 1, 0)
    neg = frame["n"].where(frame["label"] == 0, 0)
    per_bin = (
        frame.assign(pos=pos, neg=neg)
        .groupby([*by, "score_bin"], sort=True)[["pos", "neg"]]
        .sum()
        .reset_index()
    )
    below = per_bin.groupby(by, sort=False)["neg"].cumsum() - per_bin["neg"]
    per_bin["wins"] = per_bin["pos"] * (below + 0.5 * per_bin["neg"])
    sums = per_bin.groupby(by, sort=True)[["wins", "pos", "neg"]].sum().reset_index()
    sums = order.merge(sums, on=by, how="left")
    return ratio(sums["wins"], sums["pos"] * sums["neg"])


def _calibration(table: CountTable, frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    bins = table.bins
    assert bins is not None
    keys = frame["score_bin"].to_numpy(dtype=np.float64)
    low, high = _range(table)
    centers = bins.centers(keys)
    width = (high - low) / CALIBRATION_BINS if high > low else 1.0
    coarse = np.clip(np.floor((centers - low) / width), 0, CALIBRATION_BINS - 1).astype(np.int64)
    frame = frame.assign(bin=coarse, positives=frame["n"].where(frame["label"] == 1, 0))
    out = (
        frame.groupby([*by, "bin"], sort=True)[["n", "positives", "score_sum"]].sum().reset_index()
    )
    out["bin_low"] = low + out["bin"] * width
    out["bin_high"] = out["bin_low"] + width
    out["mean_score"] = ratio(out["score_sum"], out["n"])
    out["observed_rate"] = ratio(out["positives"], out["n"])
    return out.drop(columns=["score_sum"])


def _range(table: CountTable) -> tuple[float, float]:
    bins = table.bins
    assert bins is not None
    if bins.method == "equal_width":
        return bins.low, bins.high
    values = table.cells["score_bin"].to_numpy(dtype=np.float64)
    return float(values.min()), float(values.max())
