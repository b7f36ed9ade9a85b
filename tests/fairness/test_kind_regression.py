"""Regression audits: amounts per group from sums and bins, checked against numpy and pandas."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

from ethica.errors import InputError
from ethica.fairness import ScoreBins, audit, count_table

ENGINES = ["memory", "duckdb"]


def credit_limits(n: int = 3000, seed: int = 2, *, exact: bool) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "sex": rng.choice(["F", "M"], n),
            "age": rng.choice(["<30", "30-60", ">60"], n),
        }
    )
    need = rng.normal(5000, 1500, n)
    offered = need - np.where(frame["sex"] == "F", 400.0, 0.0) + rng.normal(0, 500, n)
    if exact:  # limits in steps of 500: few distinct values, medians are exact
        offered = np.round(offered / 500.0) * 500.0
    frame["limit"] = offered
    frame["need"] = need
    return frame


def expected_by_group(frame: pd.DataFrame, by: str) -> pd.DataFrame:
    error = frame["limit"] - frame["need"]
    work = frame.assign(error=error, absolute=error.abs(), squared=error**2)
    grouped = work.groupby(by)
    return pd.DataFrame(
        {
            "count": grouped.size(),
            "mean_prediction": grouped["limit"].mean(),
            "std_prediction": grouped["limit"].agg(lambda v: np.std(v.to_numpy())),
            "median_prediction": grouped["limit"].agg(lambda v: np.median(v.to_numpy())),
            "mean_label": grouped["need"].mean(),
            "mean_error": grouped["error"].mean(),
            "mean_absolute_error": grouped["absolute"].mean(),
            "root_mean_squared_error": np.sqrt(grouped["squared"].mean()),
        }
    )


@pytest.mark.parametrize("engine", ENGINES)
def test_exact_values_give_exact_medians_and_moments(engine: str) -> None:
    frame = credit_limits(exact=True)
    assert frame["limit"].nunique() <= 1000
    result = audit(
        frame,
        sensitive_features=["sex", "age"],
        label="need",
        prediction="limit",
        kind="regression",
        engine=engine,
    )
    assert result.table.bins == ScoreBins("exact")
    for by in ("sex", "age"):
        got = result.by_group(by)
        want = expected_by_group(frame, by)
        pd.testing.assert_frame_equal(
            got[want.columns].sort_index(), want.sort_index(), check_dtype=False, rtol=1e-9
        )
    overall = result.overall.values
    assert overall["median_prediction"][0] == np.median(frame["limit"])
    assert overall["mean_error"][0] == pytest.approx((frame["limit"] - frame["need"]).mean())


@pytest.mark.parametrize("engine", ENGINES)
def test_even_and_odd_group_sizes_take_numpy_median(engine: str) -> None:
    frame = pd.DataFrame(
        {"g": ["a"] * 4 + ["b"] * 5, "amount": [1.0, 7.0, 3.0, 10.0, 2.0, 2.0, 9.0, 4.0, 5.0]}
    )
    result = audit(
        frame, sensitive_features=["g"], prediction="amount", kind="regression", engine=engine
    )
    medians = result.by_group("g")["median_prediction"]
    assert medians["a"] == np.median([1.0, 7.0, 3.0, 10.0])
    assert medians["b"] == np.median([2.0, 2.0, 9.0, 4.0, 5.0])


@pytest.mark.parametrize("engine", ENGINES)
def test_binned_predictions_keep_exact_moments_and_interpolate_the_median(engine: str) -> None:
    frame = credit_limits(exact=False)
    result = audit(
        frame,
        sensitive_features=["sex"],
        label="need",
        prediction="limit",
        kind="regression",
        engine=engine,
        score_bins=200,
    )
    bins = result.table.bins
    assert bins is not None and bins.method == "equal_width" and bins.bins == 200
    assert (bins.low, bins.high) == (frame["limit"].min(), frame["limit"].max())
    width = (bins.high - bins.low) / bins.bins
    got = result.by_group("sex")
    want = expected_by_group(frame, "sex")
    moments = [c for c in want.columns if c != "median_prediction"]
    pd.testing.assert_frame_equal(
        got[moments].sort_index(), want[moments].sort_index(), check_dtype=False, rtol=1e-9
    )
    for sex, rows in frame.groupby("sex"):
        values = rows["limit"].to_numpy()
        # The grouped-data median from a histogram with the same edges, computed independently.
        counts, edges = np.histogram(values, bins=bins.bins, range=(bins.low, bins.high))
        cumulative = np.cumsum(counts)
        j = int(np.argmax(cumulative >= len(values) / 2))
        below = cumulative[j] - counts[j]
        grouped_median = edges[j] + (len(values) / 2 - below) / counts[j] * (
            edges[j + 1] - edges[j]
        )
        assert got.loc[sex, "median_prediction"] == pytest.approx(grouped_median, rel=1e-9)
        assert abs(got.loc[sex, "median_prediction"] - np.median(values)) <= width


def test_comparisons_are_differences_and_ratios_without_intervals() -> None:
    frame = credit_limits(exact=False)
    result = audit(
        frame, sensitive_features=["sex"], label="need", prediction="limit", kind="regression"
    )
    rows = result.comparisons.set_index(["group", "metric"])
    bias_f = rows.loc[("F", "mean_error")]
    truth = frame["limit"] - frame["need"]
    assert bias_f["value"] == pytest.approx(truth[frame["sex"] == "F"].mean())
    assert bias_f["difference"] == pytest.approx(bias_f["value"] - truth.mean())
    # The bias is negative overall here: a ratio to a negative amount is left undefined.
    assert truth.mean() < 0 and np.isnan(bias_f["ratio"])
    limit_f = rows.loc[("F", "mean_prediction")]
    assert limit_f["ratio"] == pytest.approx(limit_f["value"] / frame["limit"].mean())
    assert rows["p_value"].isna().all()
    assert not rows["significant"].any()
    summary = result.summary.set_index("metric")
    means = frame.groupby("sex")["limit"].mean()
    assert summary.loc["mean_prediction", "difference"] == pytest.approx(means.max() - means.min())
    assert summary.loc["mean_prediction", "ratio"] == pytest.approx(means.min() / means.max())
    assert result.difference("mean_prediction") == pytest.approx(means.max() - means.min())
    assert json.loads(result.to_json())["kind"] == "regression"


def test_shards_binned_alike_merge_into_the_whole() -> None:
    frame = credit_limits(exact=False)
    bins = ScoreBins("equal_width", float(frame["limit"].min()), float(frame["limit"].max()), 50)

    def table(part: pd.DataFrame) -> object:
        return count_table(
            part,
            sensitive_features=["sex"],
            label="need",
            prediction="limit",
            kind="regression",
            score_bins=bins,
        )

    whole = audit(table(frame), sensitive_features=["sex"], kind="regression")
    merged_table = table(frame.iloc[:1000]).merge(table(frame.iloc[1000:]))  # type: ignore[attr-defined]
    merged = audit(merged_table, sensitive_features=["sex"], kind="regression")
    pd.testing.assert_frame_equal(merged.by_group("sex"), whole.by_group("sex"), rtol=1e-9)


@pytest.mark.parametrize("engine", ENGINES)
def test_missing_and_non_numeric_values_are_refused(engine: str) -> None:
    frame = pd.DataFrame({"sex": list("FMFM"), "limit": [1.0, 2.0, 3.0, 4.0], "need": [1.0] * 4})

    def build(data: pd.DataFrame, **roles: str) -> object:
        return count_table(
            data, sensitive_features=["sex"], kind="regression", engine=engine, **roles
        )

    with pytest.raises(InputError, match=r"prediction column 'limit' is missing \(NaN/NULL\) on 1"):
        build(frame.assign(limit=[1.0, np.nan, 3.0, 4.0]), prediction="limit")
    with pytest.raises(InputError, match=r"label column 'need' is missing \(NaN/NULL\) on 2"):
        build(frame.assign(need=[np.nan, 1.0, np.nan, 2.0]), prediction="limit", label="need")
    with pytest.raises(InputError, match="could not be read as numbers|must be numeric"):
        build(frame.assign(limit=["a", "b", "c", "d"]), prediction="limit")
    with pytest.raises(InputError, match="infinite"):
        build(frame.assign(limit=[1.0, np.inf, 3.0, 4.0]), prediction="limit")
    with pytest.raises(InputError, match="needs the predicted amounts"):
        build(frame, label="need")
    with pytest.raises(InputError, match="uses no score= or list_id="):
        build(frame, prediction="limit", list_id="sex")


@pytest.mark.postgresql
@pytest.mark.parametrize("exact", [True, False])
def test_postgresql_gives_the_same_metrics_as_memory(
    postgresql_url: str, postgresql_table: Callable[[pd.DataFrame], str], exact: bool
) -> None:
    frame = credit_limits(1500, exact=exact)
    roles: dict[str, Any] = {
        "sensitive_features": ["sex", "age"],
        "label": "need",
        "prediction": "limit",
        "kind": "regression",
    }
    in_memory = audit(frame, engine="memory", **roles)
    in_database = audit(postgresql_table(frame), engine=postgresql_url, **roles)
    assert in_database.table.bins == in_memory.table.bins
    for grouping in in_memory.metrics:
        pd.testing.assert_frame_equal(
            in_database.by_group(grouping), in_memory.by_group(grouping), rtol=1e-9
        )
