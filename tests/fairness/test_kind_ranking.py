"""Ranking audits: exposure, top-k presence and NDCG per group, checked on the raw rows."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import ndcg_score

from ethica.errors import InputError
from ethica.fairness import audit, count_table

ENGINES = ["memory", "duckdb"]


def recommendations(lists: int = 150, length: int = 30, seed: int = 4) -> pd.DataFrame:
    """Lists of products where items of small sellers are pushed down."""
    rng = np.random.default_rng(seed)
    parts = []
    for list_id in range(lists):
        seller = rng.choice(["large", "small"], length, p=[0.6, 0.4])
        relevance = rng.integers(0, 4, length)
        pushed = relevance + rng.normal(0, 1, length) - np.where(seller == "small", 0.8, 0.0)
        position = np.empty(length, dtype=np.int64)
        position[np.argsort(-pushed, kind="stable")] = np.arange(1, length + 1)
        parts.append(
            pd.DataFrame(
                {
                    "seller": seller,
                    "region": rng.choice(["eu", "us"], length),
                    "customer": f"c{list_id}",
                    "position": position,
                    "relevance": relevance,
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def expected_by_group(frame: pd.DataFrame, by: str, top_k: tuple[int, ...]) -> pd.DataFrame:
    discount = 1.0 / np.log2(frame["position"] + 1.0)
    gain = 2.0 ** frame["relevance"] - 1.0
    ideal = (
        frame.sort_values(["customer", "relevance", "position"], ascending=[True, False, True])
        .groupby("customer")
        .cumcount()
        + 1
    ).reindex(frame.index)
    work = frame.assign(discount=discount, dcg=gain * discount, idcg=gain / np.log2(ideal + 1.0))
    grouped = work.groupby(by)
    out = pd.DataFrame(
        {
            "count": grouped.size(),
            "share_of_exposure": grouped["discount"].sum() / work["discount"].sum(),
            "exposure_per_item": grouped["discount"].mean(),
        }
    )
    for k in top_k:
        top = work["position"] <= k
        out[f"in_top_k[{k}]"] = top.groupby(work[by]).mean()
        out[f"share_of_top_k[{k}]"] = top.groupby(work[by]).sum() / top.sum()
    out["mean_relevance"] = grouped["relevance"].mean()
    out["ndcg"] = grouped["dcg"].sum() / grouped["idcg"].sum()
    return out


@pytest.mark.parametrize("engine", ENGINES)
def test_metrics_per_group_match_a_computation_on_the_rows(engine: str) -> None:
    frame = recommendations()
    result = audit(
        frame,
        sensitive_features=["seller", "region"],
        prediction="position",
        label="relevance",
        list_id="customer",
        kind="ranking",
        engine=engine,
    )
    for by in ("seller", "region"):
        want = expected_by_group(frame, by, (1, 5, 10))
        got = result.by_group(by)[want.columns]
        pd.testing.assert_frame_equal(
            got.sort_index(), want.sort_index(), check_dtype=False, rtol=1e-9
        )
    overall = result.overall.values
    assert overall["share_of_exposure"][0] == pytest.approx(1.0)
    assert overall["ndcg"][0] <= 1.0


@pytest.mark.parametrize("engine", ENGINES)
def test_ndcg_of_one_list_and_one_group_matches_sklearn(engine: str) -> None:
    rng = np.random.default_rng(7)
    relevance = rng.integers(0, 5, 40)
    position = rng.permutation(40) + 1
    frame = pd.DataFrame(
        {"everyone": "all", "list": 1, "position": position, "relevance": relevance}
    )
    result = audit(
        frame,
        sensitive_features=["everyone"],
        prediction="position",
        label="relevance",
        list_id="list",
        kind="ranking",
        engine=engine,
    )
    # sklearn's gain is the true value itself; exponential gain is 2 ** relevance - 1.
    want = ndcg_score([2.0**relevance - 1.0], [-position.astype(float)])
    assert result.overall.values["ndcg"][0] == pytest.approx(want, rel=1e-12)
    assert result.by_group("everyone").loc["all", "ndcg"] == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize("engine", ENGINES)
def test_positions_beyond_the_cap_keep_exact_exposure(engine: str) -> None:
    frame = recommendations(lists=20, length=60)
    result = audit(
        frame,
        sensitive_features=["seller"],
        prediction="position",
        kind="ranking",
        engine=engine,
        options={"max_position": 12, "top_k": [3, 12]},
    )
    assert result.table.cells["position"].max() == 13
    want = expected_by_group(frame, "seller", (3, 12))
    columns = ["count", "share_of_exposure", "exposure_per_item", "in_top_k[3]", "in_top_k[12]"]
    got = result.by_group("seller")[columns]
    pd.testing.assert_frame_equal(
        got.sort_index(), want[columns].sort_index(), check_dtype=False, rtol=1e-9
    )
    assert "ndcg" not in result.overall.values and "mean_relevance" not in result.overall.values


def test_top_k_presence_is_a_proportion_with_intervals_and_tests() -> None:
    frame = recommendations()
    result = audit(frame, sensitive_features=["seller"], prediction="position", kind="ranking")
    rows = result.comparisons.set_index(["group", "metric"])
    small = rows.loc[("small", "in_top_k[5]")]
    in_top = frame.loc[frame["seller"] == "small", "position"] <= 5
    assert small["numerator"] == in_top.sum()
    assert small["denominator"] == len(in_top)
    assert small["value_low"] < small["value"] < small["value_high"]
    assert small["value"] < small["reference_value"]
    assert small["significant"]
    # A share is tested like the per-item metric it shares (the same comparison, rescaled).
    exposure = rows.loc[("small", "share_of_exposure")]
    assert exposure["p_value"] == rows.loc[("small", "exposure_per_item"), "p_value"]
    assert exposure["compared_to"] == "population share"
    assert exposure["reference_value"] == pytest.approx((frame["seller"] == "small").mean())
    summary = result.summary.set_index("metric")
    assert summary.loc["in_top_k[5]", "p_value_across_groups"] < 0.05
    assert json.loads(result.to_json())["kind"] == "ranking"


def test_options_and_positions_are_checked() -> None:
    frame = pd.DataFrame({"g": list("abab"), "pos": [1, 2, 3, 4], "rel": [1, 0, 2, 1]})

    def build(data: pd.DataFrame, **kwargs: Any) -> object:
        return count_table(
            data, sensitive_features=["g"], prediction="pos", kind="ranking", **kwargs
        )

    with pytest.raises(InputError, match="exceed max_position=5"):
        build(frame, options={"max_position": 5, "top_k": (1, 10)})
    with pytest.raises(InputError, match="unknown ranking option"):
        build(frame, options={"k": 3})
    with pytest.raises(InputError, match="must be at least 1; found 0"):
        build(frame.assign(pos=[0, 1, 2, 3]))
    with pytest.raises(InputError, match="whole positions"):
        build(frame.assign(pos=[1.0, 2.5, 3.0, 4.0]))
    with pytest.raises(InputError, match=r"missing \(NaN/NULL\) on 1 rows"):
        build(frame.assign(pos=[1.0, np.nan, 3.0, 4.0]))
    with pytest.raises(InputError, match="relevance.*must be at least 0"):
        build(frame.assign(rel=[-1, 0, 1, 2]), label="rel")
    with pytest.raises(InputError, match="uses no score="):
        build(frame, score="rel")


RANKING_ROLES: dict[str, Any] = {
    "sensitive_features": ["seller", "region"],
    "prediction": "position",
    "label": "relevance",
    "list_id": "customer",
    "kind": "ranking",
    "options": {"max_position": 20, "top_k": (1, 5, 10)},
}


@pytest.mark.postgresql
def test_postgresql_gives_the_same_metrics_as_memory(
    postgresql_url: str, postgresql_table: Callable[[pd.DataFrame], str]
) -> None:
    frame = recommendations(lists=40)
    in_memory = audit(frame, engine="memory", **RANKING_ROLES)
    in_database = audit(postgresql_table(frame), engine=postgresql_url, **RANKING_ROLES)
    for grouping in in_memory.metrics:
        pd.testing.assert_frame_equal(
            in_database.by_group(grouping), in_memory.by_group(grouping), rtol=1e-12
        )


@pytest.mark.spark
@pytest.mark.xdist_group("spark")
def test_spark_gives_the_same_metrics_as_memory(spark: Any) -> None:
    from ethica.engines._spark import SparkEngine

    frame = recommendations(lists=40)
    in_memory = audit(frame, engine="memory", **RANKING_ROLES)
    in_spark = audit(frame, engine=SparkEngine(spark), **RANKING_ROLES)
    for grouping in in_memory.metrics:
        pd.testing.assert_frame_equal(
            in_spark.by_group(grouping), in_memory.by_group(grouping), rtol=1e-12
        )
