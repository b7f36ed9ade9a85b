"""Multiclass audits: per-class one-vs-rest metrics per group, checked against scikit-learn."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score, confusion_matrix, precision_score, recall_score

from ethica.errors import InputError
from ethica.fairness import audit, count_table

TIERS = ["bronze", "gold", "silver"]  # sorted, as the audit orders classes
ENGINES = ["memory", "duckdb"]


def tickets(n: int = 3000, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "region": rng.choice(["north", "south", "east"], n),
            "lang": rng.choice(["en", "fr"], n, p=[0.7, 0.3]),
            "tier": rng.choice(TIERS, n, p=[0.5, 0.2, 0.3]),
        }
    )
    # The router is right 70% of the time, less often for French speakers.
    right = rng.random(n) < np.where(frame["lang"] == "fr", 0.55, 0.75)
    frame["routed"] = np.where(right, frame["tier"], rng.choice(TIERS, n))
    return frame


@pytest.mark.parametrize("engine", ENGINES)
def test_per_class_metrics_match_sklearn_in_every_group(engine: str) -> None:
    frame = tickets()
    result = audit(
        frame,
        sensitive_features=["region", "lang"],
        label="tier",
        prediction="routed",
        kind="multiclass",
        engine=engine,
    )
    by_group = result.by_group("lang")
    for lang, rows in frame.groupby("lang"):
        y, p = rows["tier"].to_numpy(), rows["routed"].to_numpy()
        matrix = confusion_matrix(y, p, labels=TIERS)
        recall = recall_score(y, p, labels=TIERS, average=None, zero_division=np.nan)
        precision = precision_score(y, p, labels=TIERS, average=None, zero_division=np.nan)
        got = by_group.loc[lang]
        assert got["count"] == len(rows)
        assert got["accuracy"] == pytest.approx(accuracy_score(y, p))
        for k, tier in enumerate(TIERS):
            false_positives = matrix[:, k].sum() - matrix[k, k]
            negatives = len(rows) - matrix[k, :].sum()
            assert got[f"selection_rate[{tier}]"] == pytest.approx(np.mean(p == tier))
            assert got[f"base_rate[{tier}]"] == pytest.approx(np.mean(y == tier))
            assert got[f"true_positive_rate[{tier}]"] == pytest.approx(recall[k])
            assert got[f"precision[{tier}]"] == pytest.approx(precision[k])
            assert got[f"false_positive_rate[{tier}]"] == pytest.approx(false_positives / negatives)


@pytest.mark.parametrize("engine", ENGINES)
def test_rates_carry_the_counts_behind_each_proportion(engine: str) -> None:
    frame = tickets(800, seed=3)
    result = audit(
        frame,
        sensitive_features=["region"],
        label="tier",
        prediction="routed",
        kind="multiclass",
        engine=engine,
    )
    metrics = result.metrics["region"]
    regions = metrics.groups["region"].tolist()
    numerator, denominator = metrics.rates["true_positive_rate[gold]"]
    for i, region in enumerate(regions):
        rows = frame[frame["region"] == region]
        assert denominator[i] == (rows["tier"] == "gold").sum()
        assert numerator[i] == ((rows["tier"] == "gold") & (rows["routed"] == "gold")).sum()
    assert set(result.metrics) == {"region"}
    overall_num, overall_den = result.overall.rates["accuracy"]
    assert overall_num[0] == (frame["tier"] == frame["routed"]).sum()
    assert overall_den[0] == len(frame)


def test_audit_reports_comparisons_with_intervals_summary_and_findings() -> None:
    frame = tickets(4000, seed=5)
    # Route French speakers to bronze far more often: a gap that must be found.
    french = frame["lang"] == "fr"
    frame.loc[french & (np.arange(len(frame)) % 2 == 0), "routed"] = "bronze"
    result = audit(
        frame,
        sensitive_features=["lang"],
        label="tier",
        prediction="routed",
        kind="multiclass",
    )
    rows = result.comparisons[result.comparisons["metric"] == "selection_rate[bronze]"]
    fr = rows[rows["group"] == "fr"].iloc[0]
    rate = ((frame["routed"] == "bronze") & french).sum() / french.sum()
    assert fr["value"] == pytest.approx(rate)
    assert fr["value_low"] < rate < fr["value_high"]
    assert fr["difference_low"] < fr["difference"] < fr["difference_high"]
    assert fr["significant"]
    summary = result.summary.set_index("metric")
    shares = frame.groupby("lang")["routed"].apply(lambda s: (s == "bronze").mean())
    assert summary.loc["selection_rate[bronze]", "difference"] == pytest.approx(
        shares.max() - shares.min()
    )
    assert any(f.metric == "selection_rate[bronze]" and f.group == "fr" for f in result.findings)
    assert json.loads(result.to_json())["kind"] == "multiclass"


@pytest.mark.parametrize("engine", ENGINES)
def test_without_labels_only_selection_rates_are_reported(engine: str) -> None:
    frame = tickets(600)
    result = audit(
        frame, sensitive_features=["region"], prediction="routed", kind="multiclass", engine=engine
    )
    assert sorted(result.overall.values) == sorted(f"selection_rate[{t}]" for t in TIERS)
    for region, rows in frame.groupby("region"):
        got = result.by_group("region").loc[region, "selection_rate[silver]"]
        assert got == pytest.approx((rows["routed"] == "silver").mean())


@pytest.mark.parametrize("engine", ENGINES)
def test_integer_classes_and_a_class_never_predicted(engine: str) -> None:
    y = np.array([0, 1, 2, 2, 1, 0, 2, 1, 0, 2])
    p = np.array([0, 1, 1, 1, 1, 0, 0, 1, 0, 1])  # class 2 is never predicted
    sex = np.array(list("FFFFFMMMMM"))
    frame = pd.DataFrame({"sex": sex, "y": y, "p": p})
    table = count_table(
        frame,
        sensitive_features=["sex"],
        label="y",
        prediction="p",
        kind="multiclass",
        engine=engine,
    )
    assert table.classes == (0, 1, 2)
    result = audit(table, sensitive_features=["sex"], kind="multiclass", min_group_size=1)
    for s in "FM":
        mask = sex == s
        recall = recall_score(
            y[mask], p[mask], labels=[0, 1, 2], average=None, zero_division=np.nan
        )
        got = result.by_group("sex").loc[s]
        np.testing.assert_allclose(
            [got[f"true_positive_rate[{c}]"] for c in (0, 1, 2)], recall, equal_nan=True
        )
        assert got["selection_rate[2]"] == 0.0
        assert np.isnan(got["precision[2]"])


def test_declared_classes_fix_the_order_and_reject_strays() -> None:
    frame = tickets(300)
    table = count_table(
        frame,
        sensitive_features=["lang"],
        label="tier",
        prediction="routed",
        kind="multiclass",
        options={"classes": ["gold", "silver", "bronze", "platinum"]},
    )
    assert table.classes == ("gold", "silver", "bronze", "platinum")
    with pytest.raises(InputError, match=r"'bronze'.*not in options\['classes'\]"):
        count_table(
            frame,
            sensitive_features=["lang"],
            label="tier",
            prediction="routed",
            kind="multiclass",
            options={"classes": ["gold", "silver"]},
        )


@pytest.mark.parametrize("engine", ENGINES)
def test_errors_say_what_to_fix(engine: str) -> None:
    base = pd.DataFrame({"sex": list("FMFM"), "y": ["a", "b", "a", "b"], "p": ["a", "a", "b", "b"]})

    def build(frame: pd.DataFrame, **roles: str) -> object:
        return count_table(
            frame, sensitive_features=["sex"], kind="multiclass", engine=engine, **roles
        )

    with pytest.raises(InputError, match="share no class"):
        build(base.assign(p=["x", "y", "x", "y"]), label="y", prediction="p")
    with pytest.raises(InputError, match="mix text and numbers"):
        build(base.assign(p=[1, 2, 1, 2]), label="y", prediction="p")
    with pytest.raises(InputError, match="only one class"):
        build(base.assign(p=["a"] * 4), prediction="p")
    with pytest.raises(InputError, match=r"label column 'y' is missing on 1 rows"):
        build(base.assign(y=["a", None, "a", "b"]), label="y", prediction="p")
    with pytest.raises(InputError, match="needs the decisions"):
        build(base, label="y")
    with pytest.raises(InputError, match="uses no score= or list_id="):
        build(base.assign(s=0.5), prediction="p", score="s")


@pytest.mark.postgresql
def test_postgresql_gives_the_same_metrics_as_memory(
    postgresql_url: str, postgresql_table: Callable[[pd.DataFrame], str]
) -> None:
    frame = tickets(1500, seed=9)
    roles: dict[str, Any] = {
        "sensitive_features": ["region", "lang"],
        "label": "tier",
        "prediction": "routed",
        "kind": "multiclass",
    }
    in_memory = audit(frame, engine="memory", **roles)
    in_database = audit(postgresql_table(frame), engine=postgresql_url, **roles)
    for grouping in in_memory.metrics:
        pd.testing.assert_frame_equal(
            in_database.by_group(grouping), in_memory.by_group(grouping), rtol=1e-12
        )
