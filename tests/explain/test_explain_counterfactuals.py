"""Counterfactuals are confirmed by the model itself and respect what the customer may change."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import pytest
from explain_cases import (
    HOUSING,
    NUMERIC,
    credit_frame,
    credit_spec,
    customer,
    lightgbm_booster,
    one_hot_pipeline,
    spec_data,
)

from ethica.explain import Explainer, TrainingSummary, adverse_action_notice, counterfactuals
from ethica.governance import SystemSpec, parse_spec
from ethica.scoring import Scorer


def _lightgbm_probability(features: dict[str, Any]) -> float:
    """The booster's own prediction, built independently of the scorer's encoding."""
    row = pd.DataFrame({n: [float(features[n])] for n in NUMERIC})
    row["housing"] = pd.Categorical([features["housing"]], categories=HOUSING)
    return float(lightgbm_booster().predict(row)[0])


def _assert_allowed(spec: SystemSpec, before: dict[str, Any], changes: dict[str, Any]) -> None:
    for name, (old, new) in changes.items():
        feature = spec.feature(name)
        assert feature.actionable, name
        assert old == before[name]
        if feature.direction == "increasing":
            assert new > old
        elif feature.direction == "decreasing":
            assert new < old
        if feature.minimum is not None:
            assert new >= feature.minimum
        if feature.maximum is not None:
            assert new <= feature.maximum


def test_options_reverse_the_decision_by_the_models_own_prediction() -> None:
    spec = credit_spec()
    scorer = Scorer(lightgbm_booster(), spec, version="1")
    before = customer()
    assert _lightgbm_probability(before) < 0.5
    ranges = {"debt": (0.0, 80.0)}
    options = counterfactuals(scorer, before, ranges=ranges, max_options=3)
    assert options, "this customer can be approved by earning more"
    for option in options:
        after = {**before, **{n: new for n, (_, new) in option.changes.items()}}
        assert _lightgbm_probability(after) >= 0.5
        assert option.outcome == "approved"
        _assert_allowed(spec, before, option.changes)
        assert set(option.changes) <= {"income", "debt"}  # the only actionable features
    costs = [o.cost for o in options]
    assert costs == sorted(costs)
    # Diverse: no option changes a superset of another's features by at least as much.
    single = [o for o in options if len(o.changes) == 1]
    for option in options:
        for other in single:
            if option is other or not set(other.changes) <= set(option.changes):
                continue
            name = next(iter(other.changes))
            assert abs(option.changes[name][1] - before[name]) < abs(
                other.changes[name][1] - before[name]
            )
    json.dumps([o.to_dict() for o in options])


def test_single_changes_are_close_to_the_smallest_that_works() -> None:
    spec = credit_spec()
    scorer = Scorer(lightgbm_booster(), spec, version="1")
    before = customer()
    option = next(o for o in counterfactuals(scorer, before) if set(o.changes) == {"income"})
    found = option.changes["income"][1]
    # Independent scan: the smallest income (step 0.5) that the booster approves.
    smallest = next(
        v / 2
        for v in range(int(before["income"] * 2), 401)
        if _lightgbm_probability({**before, "income": v / 2}) >= 0.5
    )
    assert smallest <= found <= smallest + 0.05 * 200  # rounded to a readable step at most


def test_immutable_and_out_of_range_changes_are_never_proposed() -> None:
    data = spec_data()
    for feature in data["features"]:
        if feature["name"] == "income":
            feature["maximum"] = 40.0  # raising income a little does not get this customer there
    spec = parse_spec(data)
    scorer = Scorer(lightgbm_booster(), spec, version="1")
    assert counterfactuals(scorer, customer()) == []
    explanation = Explainer().explain(
        spec=spec, scorer=scorer, features=customer(), scored=scorer.score(customer())
    )
    assert explanation is not None
    assert explanation["counterfactuals"] == []
    assert "No change" in explanation["counterfactual_text"]
    assert "monthly income" in explanation["counterfactual_text"]


def test_a_favourable_decision_needs_no_counterfactual() -> None:
    spec = credit_spec()
    scorer = Scorer(lightgbm_booster(), spec, version="1")
    approved = customer(income=140.0, debt=5.0, postcode_risk=0.1, housing="own")
    assert _lightgbm_probability(approved) >= 0.5
    assert counterfactuals(scorer, approved) == []


def test_linear_models_and_category_changes_are_verified_too() -> None:
    from sklearn.linear_model import LogisticRegression

    data = spec_data()
    for feature in data["features"]:
        if feature["name"] == "housing":
            feature["actionable"] = True
    spec = parse_spec(data)
    pipeline = one_hot_pipeline(LogisticRegression())
    scorer = Scorer(pipeline, spec, version="1")
    before = customer()
    options = counterfactuals(scorer, before, ranges={"debt": (0.0, 80.0)}, max_options=4)
    assert options
    for option in options:
        after = {**before, **{n: new for n, (_, new) in option.changes.items()}}
        row = pd.DataFrame({n: [after[n]] for n in [*NUMERIC, "housing"]}).astype(
            dict.fromkeys(NUMERIC, "float64")
        )
        assert pipeline.predict_proba(row)[0, 1] >= 0.5
        _assert_allowed(spec, before, {k: v for k, v in option.changes.items() if k != "housing"})
        if "housing" in option.changes:
            assert option.changes["housing"][1] in HOUSING


def test_the_explainer_returns_a_json_ready_explanation_with_the_customers_values() -> None:
    spec = credit_spec()
    frame = credit_frame()
    summary = TrainingSummary.from_training(frame, "repaid", spec=spec)
    scorer = Scorer(lightgbm_booster(), spec, version="1")
    features = customer()
    explanation = Explainer(summary).explain(
        spec=spec, scorer=scorer, features=features, scored=scorer.score(features)
    )
    assert explanation is not None
    json.dumps(explanation)
    assert explanation["method"] == "lightgbm-treeshap"
    total = explanation["baseline"] + sum(explanation["contributions"].values())
    assert total == pytest.approx(explanation["output"], abs=1e-6)
    reasons = explanation["reasons"]
    # Every declared feature that pushed toward the decline is a reason, up to four, except the
    # declared proxy; the strongest first.
    adverse = sorted(
        (c, name)
        for name, c in explanation["contributions"].items()
        if c < 0 and name != "postcode_risk"
    )
    assert [r["feature"] for r in reasons] == [name for _, name in adverse[:4]]
    assert "postcode_risk" not in {r["feature"] for r in reasons}
    income = next(r for r in reasons if r["feature"] == "income")
    assert "35" in income["text"] and income["value"] == 35.0
    assert explanation["counterfactuals"] and "would have been approved" in explanation["text"]
    assert explanation["text"].startswith("The decision: declined.")

    german = Explainer({"credit": summary}, locale="de", max_counterfactuals=0).explain(
        spec=spec, scorer=scorer, features=features, scored=scorer.score(features)
    )
    assert german is not None and german["counterfactuals"] == []
    assert "Die Entscheidung: declined." in german["text"]
    assert (
        Explainer().explain(
            spec=spec, scorer=None, features=features, scored=scorer.score(features)
        )
        is None
    )


def test_adverse_action_notice_lists_reasons_options_and_rights_escaped() -> None:
    spec = credit_spec()
    scorer = Scorer(lightgbm_booster(), spec, version="1")
    features = customer()
    summary = TrainingSummary.from_training(credit_frame(), "repaid", spec=spec)
    explanation = Explainer(summary).explain(
        spec=spec, scorer=scorer, features=features, scored=scorer.score(features)
    )
    assert explanation is not None
    text = adverse_action_notice(explanation, system="Credit <limit>", outcome="declined")
    for reason in explanation["reasons"]:
        assert reason["text"] in text
    assert explanation["counterfactuals"][0]["text"] in text
    assert "ask for a person to review" in text and "Credit <limit>" in text
    page = adverse_action_notice(
        explanation, system="Credit <limit>", outcome="declined", format="html"
    )
    assert "Credit &lt;limit&gt;" in page and "<limit>" not in page
    # A page's headings carry no colon (the text form's "Your rights:" leads into its list).
    assert "<h3>Your rights</h3>" in page and ":</h3>" not in page
    assert "\nYour rights:\n" in text
    assert (
        page.count("<li>") == len(explanation["reasons"]) + len(explanation["counterfactuals"]) + 2
    )
