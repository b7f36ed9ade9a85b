"""The minimum size applies to each metric's own denominator, not only to the group's rows.

A group of 80 with one positive has a true positive rate of 0 or 1: a "gap" of 100 points that
says nothing. Such gaps are reported but not asserted, kept out of the summary gaps and the
criteria, and named in a "not assessed" finding.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from peer_decisions import _decided

from ethica.datasets import default_datasets_dir, load_adult
from ethica.fairness import audit

DATASETS = default_datasets_dir()


@pytest.fixture(scope="module")
def decisions() -> pd.DataFrame:
    # Group C: 81 rows but one or two positives and under 30 favourable decisions.
    rng = np.random.default_rng(0)
    n = 4000
    race = rng.choice(["A", "B", "C"], n, p=[0.8, 0.18, 0.02])
    age = rng.choice(["young", "old"], n)
    label = (rng.random(n) < np.where(race == "C", 0.02, 0.3)).astype(np.int64)
    prediction = (rng.random(n) < np.where(label == 1, 0.7, 0.2)).astype(np.int64)
    return pd.DataFrame({"race": race, "age": age, "label": label, "prediction": prediction})


def test_gaps_resting_on_few_positives_are_not_asserted(decisions: pd.DataFrame) -> None:
    result = audit(
        decisions, sensitive_features=["race", "age"], label="label", prediction="prediction"
    )
    rows = result.comparisons.set_index(["grouping", "group", "metric"])
    c = decisions[decisions["race"] == "C"]
    positives, negatives = int(c["label"].sum()), int((1 - c["label"]).sum())
    favourable = int(c["prediction"].sum())
    assert len(c) >= 30 and positives < 30 and negatives >= 30 and favourable < 30
    expected = {
        "selection_rate": (len(c), True),
        "true_positive_rate": (positives, False),
        "false_negative_rate": (positives, False),
        "false_positive_rate": (negatives, True),
        "true_negative_rate": (negatives, True),
        "precision": (favourable, False),
        "false_discovery_rate": (favourable, False),
        "balanced_accuracy": (positives, False),
    }
    for metric, (support, asserted) in expected.items():
        row = rows.loc[("race", "C", metric)]
        assert row["support"] == support, metric
        assert bool(row["asserted"]) is asserted, metric
        if not asserted:
            assert not row["material"] and np.isnan(row["p_adjusted"]), metric
    # The summary gap and the criteria leave C out of the true positive rate, keep it elsewhere.
    summary = result.summary.set_index(["grouping", "metric"])
    tpr = (
        decisions[decisions["race"] != "C"]
        .groupby("race")
        .apply(lambda g: g.loc[g["label"] == 1, "prediction"].mean(), include_groups=False)
    )
    assert summary.loc[("race", "true_positive_rate"), "difference"] == pytest.approx(
        tpr.max() - tpr.min(), abs=1e-12
    )
    assert summary.loc[("race", "true_positive_rate"), "groups_compared"] == 2
    assert summary.loc[("race", "false_positive_rate"), "groups_compared"] == 3
    not_assessed = [f.text for f in result.findings if f.severity == "not assessed"]
    assert any(
        t.startswith("Gaps in true positive rate resting on fewer than 30 positives")
        and f"C ({positives})" in t
        for t in not_assessed
    )
    assert not any(
        f.group == "C" and f.metric == "true_positive_rate"
        for f in result.findings
        if f.severity != "not assessed"
    )


def test_a_reference_group_with_few_positives_asserts_no_gap_in_them(
    decisions: pd.DataFrame,
) -> None:
    result = audit(
        decisions,
        sensitive_features="race",
        label="label",
        prediction="prediction",
        reference={"race": "C"},
    )
    rows = result.comparisons.set_index(["group", "metric"])
    assert not rows.loc[("A", "true_positive_rate"), "asserted"]
    assert rows.loc[("A", "false_positive_rate"), "asserted"]


@pytest.mark.skipif(
    DATASETS is None, reason="reference data sets not found (../shared/datasets or ETHICA_DATASETS)"
)
def test_adult_race_by_age_band_asserts_no_gap_from_a_handful_of_positives() -> None:
    assert DATASETS is not None
    train, test = (load_adult(DATASETS, split=s) for s in ("train", "test"))
    for part in (train, test):
        part["high_income"] = (part["income"] == ">50K").astype(np.int64)
        bands = pd.cut(part["age"], [0, 25, 35, 45, 55, 65, 200], right=False)
        part["age_band"] = bands.astype(str)
    frame = _decided(
        train,
        test,
        numeric=["age", "education_num", "capital_gain", "capital_loss", "hours_per_week"],
        categorical=["workclass", "marital_status", "occupation", "relationship", "race", "sex"],
        target="high_income",
    )
    result = audit(frame, sensitive_features=["race", "age_band"], label="y", prediction="y_pred")
    rows = result.comparisons
    tpr = rows[(rows["grouping"] == "race × age_band") & (rows["metric"] == "true_positive_rate")]
    # Cells large enough by rows but with few positives: their gaps are there, not asserted.
    thin = tpr[(tpr["count"] >= 30) & (tpr["support"] < 30)]
    assert len(thin) >= 3
    assert (thin["difference"].abs() >= 0.3).any()  # the spurious gaps the old rule asserted
    assert not thin["asserted"].any() and not thin["material"].any()
    assert (tpr["asserted"] == (tpr["support"] >= 30)).all()
    # The equal-opportunity gap is between cells with at least 30 positives only.
    kept = tpr[tpr["support"] >= 30]["value"]
    criteria = result.criteria.set_index(["grouping", "criterion"])
    assert criteria.loc[("race × age_band", "equal_opportunity"), "difference"] == pytest.approx(
        kept.max() - kept.min(), abs=1e-12
    )


def test_a_metric_that_is_zero_over_zero_stays_missing_and_says_why() -> None:
    # Group C is never given the favourable decision: its precision is 0/0. AIF360 reports 0;
    # NaN is right, and the report and the JSON say why.
    rng = np.random.default_rng(0)
    n = 3000
    group = rng.choice(["A", "B", "C"], n, p=[0.5, 0.45, 0.05])
    label = (rng.random(n) < 0.4).astype(np.int64)
    chance = np.where(label == 1, 0.7, 0.2)
    decision = np.where(group == "C", 0, rng.random(n) < chance).astype(np.int64)
    result = audit(None, sensitive_features={"g": group}, label=label, prediction=decision)
    grouping = json.loads(result.to_json())["groupings"]["g"]
    c = grouping["groups"].index("C")
    for metric in ("precision", "false_discovery_rate"):
        assert grouping["metrics"][metric][c] is None
        undefined = grouping["comparisons"][metric]["undefined"]
        assert undefined[c] == "0/0: no favourable decisions"
        assert undefined[grouping["groups"].index("A")] == ""
    assert grouping["comparisons"]["negative_predictive_value"]["undefined"][c] == ""
    html = result.to_html()
    assert "undefined (0/0: no favourable decisions)" in html
    stated = [f.text for f in result.findings if f.metric == "precision"]
    assert stated == [
        "The precision is undefined (0/0) where a group has no favourable decisions, and is "
        "left missing rather than counted as 0: C (g)."
    ]
