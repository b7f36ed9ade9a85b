"""Roll-ups on integer codes give, to the last bit, what pandas' group-by over group names gave.

The reference functions below are the previous implementation (group-bys keyed on the names
of the groups), kept here only to prove that the fast path changed no number.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from ethica.fairness import CountTable, count_table
from ethica.fairness._binary import binary_metrics
from ethica.fairness._group_metrics import ratio
from ethica.fairness._moments import merge_moments
from ethica.fairness._rollup import distinct_keys, sum_cells
from ethica.fairness._scores import CALIBRATION_BINS, score_metrics

NAMES = {
    "sex": ["F", "M", "X"],
    "race": ["Asian", "Black", "Hispanic", "White", "Ōther", "Zulu"],
    "age": ["18-29", "30-44", "45-64", "65+"],
}


def reference_sum_cells(cells: pd.DataFrame, by: list[str], sums: list[str]) -> pd.DataFrame:
    grouped = cells.groupby(by, sort=True, observed=True, dropna=False)
    summed = grouped[["n", *sums]].sum().reset_index()
    codes = np.asarray(grouped.ngroup(), dtype=np.int64)
    counts = cells["n"].to_numpy(dtype=np.float64)
    for m2 in (c for c in sums if c.endswith("_m2")):
        with np.errstate(divide="ignore", invalid="ignore"):
            means = cells[f"{m2.removesuffix('_m2')}_sum"].to_numpy(dtype=np.float64) / counts
        moments = merge_moments(codes, counts, means, cells[m2].to_numpy(np.float64), len(summed))
        summed[m2] = moments[2]
    return summed


def reference_group_codes(frame: pd.DataFrame, grouping: tuple[str, ...]) -> Any:
    by = list(grouping)
    codes = np.asarray(frame.groupby(by, sort=True, dropna=False).ngroup(), dtype=np.int64)
    groups = frame[by].drop_duplicates().sort_values(by).reset_index(drop=True)
    return codes, groups


def reference_score_metrics(table: CountTable, grouping: tuple[str, ...]) -> Any:
    frame = reference_sum_cells(table.cells, [*grouping, *table.keys], table.sums)
    by = list(grouping) or ["__all"]
    frame["__all"] = 0
    order = frame[by].drop_duplicates().sort_values(by).reset_index(drop=True)
    totals = frame.groupby(by, sort=True)[["n", "score_sum"]].sum()
    totals = order.merge(totals.reset_index(), on=by, how="left")
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
    assert table.bins is not None
    centers = table.bins.centers(frame["score_bin"].to_numpy(dtype=np.float64))
    if table.bins.method == "equal_width":
        low, high = table.bins.low, table.bins.high
    else:
        low = float(table.cells["score_bin"].min())
        high = float(table.cells["score_bin"].max())
    width = (high - low) / CALIBRATION_BINS if high > low else 1.0
    coarse = np.clip(np.floor((centers - low) / width), 0, CALIBRATION_BINS - 1).astype(np.int64)
    binned = frame.assign(bin=coarse, positives=pos)
    out = binned.groupby([*by, "bin"], sort=True)[["n", "positives", "score_sum"]].sum()
    out = out.reset_index()
    out["bin_low"] = low + out["bin"] * width
    out["bin_high"] = out["bin_low"] + width
    out["mean_score"] = ratio(out["score_sum"], out["n"])
    out["observed_rate"] = ratio(out["positives"], out["n"])
    values = {
        "mean_score": ratio(totals["score_sum"], totals["n"]),
        "roc_auc": ratio(sums["wins"], sums["pos"] * sums["neg"]),
    }
    return values, out.drop(columns=["score_sum"])


def decisions(seed: int, n: int, *, tied: bool) -> pd.DataFrame:
    """Skewed groups (some tiny, one with a single outcome), scores with or without ties."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            feature: rng.choice(
                values, n, p=np.linspace(1, 3, len(values)) / sum(np.linspace(1, 3, len(values)))
            )
            for feature, values in NAMES.items()
        }
    )
    score = rng.beta(2, 3, n) + 0.1 * (frame["sex"] == "M")
    frame["score"] = np.round(score, 2) if tied else score * 1e3 + 1e6  # large, close values
    frame["label"] = (rng.random(n) < np.clip(score, 0, 1)).astype(np.int64)
    frame.loc[frame["sex"] == "X", "label"] = 1  # one group without negatives: AUC undefined
    frame["prediction"] = (score > 0.45).astype(np.int64)
    return frame


GROUPINGS = [(), ("sex",), ("race",), ("sex", "age"), ("age", "race"), ("sex", "race", "age")]


@pytest.mark.parametrize(("seed", "tied"), [(0, True), (1, False), (2, True), (3, False)])
def test_rollups_and_score_metrics_equal_the_group_by_on_names(seed: int, tied: bool) -> None:
    frame = decisions(seed, 20_000, tied=tied)
    table = count_table(
        frame,
        sensitive_features=list(NAMES),
        label="label",
        prediction="prediction",
        score="score",
        score_bins=200,
        engine="memory",
    )
    assert table.bins is not None and table.bins.method == ("exact" if tied else "equal_width")
    for grouping in GROUPINGS:
        rollup = table.rollup(grouping)
        expected = reference_sum_cells(table.cells, [*grouping, *table.keys], table.sums)
        pd.testing.assert_frame_equal(rollup.cells, expected, check_exact=True)
        if grouping:
            codes, groups = reference_group_codes(rollup.cells, grouping)
            np.testing.assert_array_equal(rollup.codes, codes)
            pd.testing.assert_frame_equal(rollup.groups, groups, check_exact=True)
        values, curves = score_metrics(table, rollup)
        expected_values, expected_curve = reference_score_metrics(table, grouping)
        for name, value in expected_values.items():
            np.testing.assert_array_equal(values[name], value, err_msg=name)  # NaN == NaN
        pd.testing.assert_frame_equal(curves["calibration"], expected_curve, check_exact=True)
        assert binary_metrics(table, grouping).groups["n"].sum() == len(frame)


def test_a_missing_key_takes_pandas_path_with_the_same_sums() -> None:
    rng = np.random.default_rng(4)
    cells = pd.DataFrame(
        {
            "sex": rng.choice(["F", "M"], 500),
            "bin": np.where(rng.random(500) < 0.1, np.nan, rng.integers(0, 5, 500).astype(float)),
            "n": rng.integers(1, 9, 500),
            "x_sum": rng.normal(0, 1e8, 500),
        }
    )
    for by in (["sex"], ["sex", "bin"], ["bin"]):
        expected = reference_sum_cells(cells, by, ["x_sum"])
        pd.testing.assert_frame_equal(sum_cells(cells, by, ["x_sum"]), expected, check_exact=True)


def test_regression_moments_roll_up_as_before() -> None:
    rng = np.random.default_rng(5)
    frame = decisions(5, 5000, tied=False)
    frame["amount"] = rng.normal(1e6, 3.0, len(frame))  # spread small next to the mean
    table = count_table(
        frame,
        sensitive_features=list(NAMES),
        prediction="amount",
        label="score",
        kind="regression",
        score_bins=50,
        engine="memory",
    )
    assert any(c.endswith("_m2") for c in table.sums)
    for grouping in GROUPINGS:
        expected = reference_sum_cells(table.cells, [*grouping, *table.keys], table.sums)
        pd.testing.assert_frame_equal(table.grouped(grouping), expected, check_exact=True)


@pytest.mark.parametrize(
    ("rows", "span"), [(0, 5), (1, 1), (7, 3), (5000, 40), (5000, 20_000), (300, 10**9)]
)
def test_distinct_keys_rank_as_numpy_unique(rows: int, span: int) -> None:
    # A narrow span takes the table of present keys, a wide one numpy's sort: both as unique.
    key = np.random.default_rng(rows).integers(0, span, rows).astype(np.int64)
    codes, first = distinct_keys(key, span)
    _, expected_first, expected_codes = np.unique(key, return_index=True, return_inverse=True)
    np.testing.assert_array_equal(codes, expected_codes.reshape(-1))
    np.testing.assert_array_equal(first, expected_first)
    assert codes.dtype == first.dtype == np.int64
