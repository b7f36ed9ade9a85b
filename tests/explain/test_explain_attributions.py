"""Attributions equal shap's on the same models and add up to the model's output, or are refused."""

from __future__ import annotations

import itertools
import math
import warnings
from typing import Any

import numpy as np
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
    xgboost_booster,
)

from ethica.errors import InputError
from ethica.explain import AdditivityError, Attribution, attribute, group_columns
from ethica.scoring import Scorer

CUSTOMERS = [
    customer(),
    customer(income=120.0, debt=10.0, housing="own"),
    customer(income=80.0, debt=40.0, years_employed=20, postcode_risk=0.1, housing="other"),
]


def _shap() -> Any:
    with warnings.catch_warnings():
        # shap's plotting colours call a matplotlib API that warns on import.
        warnings.simplefilter("ignore")
        return pytest.importorskip("shap")


def _inputs(features: dict[str, Any], columns: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame({c: [features[c]] for c in columns})
    for column in columns:
        if column != "housing":
            frame[column] = frame[column].astype("float64")
    return frame


def _assert_adds_up(attribution: Attribution) -> None:
    total = attribution.baseline + math.fsum(attribution.contributions.values())
    assert total == pytest.approx(attribution.output, abs=1e-6)


@pytest.mark.filterwarnings("ignore:LightGBM binary classifier with TreeExplainer:UserWarning")
@pytest.mark.parametrize("features", CUSTOMERS)
def test_lightgbm_matches_shap_tree_explainer_on_the_margin(features: dict[str, Any]) -> None:
    shap = _shap()
    booster = lightgbm_booster()
    attribution = attribute(Scorer(booster, credit_spec(), version="1"), features)
    row = _inputs(features, [*NUMERIC, "housing"])
    row["housing"] = pd.Categorical(row["housing"].astype(object), categories=HOUSING)
    explainer = shap.TreeExplainer(booster)
    expected = np.asarray(explainer.shap_values(row)).reshape(-1)
    for name, value in zip([*NUMERIC, "housing"], expected, strict=True):
        assert attribution.contributions[name] == pytest.approx(value, abs=1e-6)
    assert attribution.baseline == pytest.approx(
        float(np.ravel(explainer.expected_value)[0]), abs=1e-6
    )
    margin = booster.predict(row, raw_score=True)[0]
    assert attribution.output == pytest.approx(margin, abs=1e-9)
    assert 1 / (1 + math.exp(-attribution.output)) == pytest.approx(
        booster.predict(row)[0], abs=1e-9
    )
    _assert_adds_up(attribution)
    assert attribution.method == "lightgbm-treeshap" and attribution.scale == "log-odds"


def _path_dependent_value(
    node: dict[str, Any], row: dict[str, float], known: set[str], names: list[str]
) -> float:
    """A LightGBM tree's expected output when only ``known`` features are known (TreeSHAP's
    value function: unknown splits are averaged by the training counts of their children)."""
    if "leaf_value" in node:
        return float(node["leaf_value"])
    left, right = node["left_child"], node["right_child"]
    name = names[node["split_feature"]]
    if name in known:
        value = row[name]
        if node["decision_type"] == "==":
            goes_left = int(value) in {int(c) for c in str(node["threshold"]).split("||")}
        else:
            goes_left = value <= float(node["threshold"])
        return _path_dependent_value(left if goes_left else right, row, known, names)

    def count(child: dict[str, Any]) -> float:
        return float(child.get("internal_count", child.get("leaf_count", 0)))

    total = count(left) + count(right)
    return (
        count(left) * _path_dependent_value(left, row, known, names)
        + count(right) * _path_dependent_value(right, row, known, names)
    ) / total


def test_lightgbm_equals_brute_force_path_dependent_shapley_values() -> None:
    booster = lightgbm_booster()
    names = list(booster.feature_name())
    features = customer()
    attribution = attribute(Scorer(booster, credit_spec(), version="1"), features)
    row = {n: float(features[n]) for n in NUMERIC} | {"housing": float(HOUSING.index("rent"))}
    trees = [t["tree_structure"] for t in booster.dump_model()["tree_info"]]

    def value(known: set[str]) -> float:
        return sum(_path_dependent_value(tree, row, known, names) for tree in trees)

    n = len(names)
    for name in names:
        others = [o for o in names if o != name]
        exact = 0.0
        for size in range(n):
            weight = math.factorial(size) * math.factorial(n - size - 1) / math.factorial(n)
            for subset in itertools.combinations(others, size):
                exact += weight * (value({*subset, name}) - value(set(subset)))
        assert attribution.contributions[name] == pytest.approx(exact, abs=1e-6)
    assert attribution.baseline == pytest.approx(value(set()), abs=1e-6)


@pytest.mark.parametrize("features", CUSTOMERS)
def test_xgboost_matches_shap_tree_explainer_on_the_margin(features: dict[str, Any]) -> None:
    shap = _shap()
    xgboost = pytest.importorskip("xgboost")
    booster = xgboost_booster()
    attribution = attribute(Scorer(booster, credit_spec(with_housing=False), version="1"), features)
    row = _inputs(features, NUMERIC)
    explainer = shap.TreeExplainer(booster)
    expected = np.asarray(explainer.shap_values(row)).reshape(-1)
    for name, value in zip(NUMERIC, expected, strict=True):
        assert attribution.contributions[name] == pytest.approx(value, abs=1e-6)
    margin = booster.predict(xgboost.DMatrix(row, feature_names=NUMERIC), output_margin=True)[0]
    assert attribution.output == pytest.approx(float(margin), abs=1e-6)
    _assert_adds_up(attribution)


@pytest.mark.parametrize("model", ["gradient-boosting", "random-forest"])
def test_scikit_learn_trees_group_one_hot_columns_and_match_shap(model: str) -> None:
    shap = _shap()
    from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier

    final = (
        GradientBoostingClassifier(n_estimators=30, max_depth=2, random_state=0)
        if model == "gradient-boosting"
        else RandomForestClassifier(n_estimators=20, max_depth=4, random_state=0)
    )
    pipeline = one_hot_pipeline(final)
    for features in CUSTOMERS:
        attribution = attribute(Scorer(pipeline, credit_spec(), version="1"), features)
        row = _inputs(features, [*NUMERIC, "housing"]).astype({"housing": object})
        transformed = pipeline[:-1].transform(row)
        names = list(pipeline[:-1].get_feature_names_out())
        values = np.asarray(shap.TreeExplainer(pipeline[-1]).shap_values(transformed))
        values = values[0, :, 1] if values.ndim == 3 else values[0]
        housing = sum(v for n, v in zip(names, values, strict=True) if n.startswith("onehot__"))
        assert attribution.contributions["housing"] == pytest.approx(housing, abs=1e-6)
        assert attribution.contributions["income"] == pytest.approx(
            values[names.index("scale__income")], abs=1e-6
        )
        if model == "random-forest":
            # Forests average probabilities: the attribution is on the probability scale.
            assert attribution.scale == "probability"
            assert attribution.output == pytest.approx(pipeline.predict_proba(row)[0, 1], abs=1e-9)
        else:
            assert attribution.output == pytest.approx(pipeline.decision_function(row)[0], abs=1e-9)
        _assert_adds_up(attribution)


def test_logistic_regression_is_exact_against_the_background_mean() -> None:
    shap = _shap()
    from sklearn.linear_model import LogisticRegression

    pipeline = one_hot_pipeline(LogisticRegression())
    background = credit_frame()
    scorer = Scorer(pipeline, credit_spec(), version="1")
    transformed_background = pipeline[:-1].transform(
        background[[*NUMERIC, "housing"]].astype({"housing": object})
    )
    # An explicit masker: shap's default one samples only 100 background rows.
    masker = shap.maskers.Independent(transformed_background, max_samples=len(background))
    explainer = shap.LinearExplainer(pipeline[-1], masker)
    names = list(pipeline[:-1].get_feature_names_out())
    for features in CUSTOMERS:
        attribution = attribute(scorer, features, background=background)
        row = _inputs(features, [*NUMERIC, "housing"]).astype({"housing": object})
        values = np.asarray(explainer.shap_values(pipeline[:-1].transform(row)))[0]
        for name in NUMERIC:
            assert attribution.contributions[name] == pytest.approx(
                values[names.index(f"scale__{name}")], abs=1e-6
            )
        housing = sum(v for n, v in zip(names, values, strict=True) if n.startswith("onehot__"))
        assert attribution.contributions["housing"] == pytest.approx(housing, abs=1e-6)
        assert attribution.baseline == pytest.approx(float(explainer.expected_value), abs=1e-6)
        assert attribution.output == pytest.approx(pipeline.decision_function(row)[0], abs=1e-9)
        _assert_adds_up(attribution)


def test_standardized_logistic_regression_needs_no_background() -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    frame = credit_frame()
    spec = credit_spec(with_housing=False)
    inputs = frame[NUMERIC].astype("float64")
    pipeline = make_pipeline(StandardScaler(), LogisticRegression()).fit(inputs, frame["repaid"])
    scaler, model = pipeline[0], pipeline[-1]
    attribution = attribute(Scorer(pipeline, spec, version="1"), customer())
    for j, name in enumerate(NUMERIC):
        # Independent: coef × standardized value, the training mean being zero after scaling.
        expected = model.coef_[0, j] * (customer()[name] - scaler.mean_[j]) / scaler.scale_[j]
        assert attribution.contributions[name] == pytest.approx(expected, abs=1e-9)
    assert attribution.baseline == pytest.approx(model.intercept_[0], abs=1e-12)

    plain = LogisticRegression().fit(inputs, frame["repaid"])
    with pytest.raises(InputError, match="background"):
        attribute(Scorer(plain, spec, version="1"), customer())


def test_other_models_get_a_seeded_permutation_estimate_close_to_exact_shapley() -> None:
    from sklearn.neighbors import KNeighborsClassifier

    spec = credit_spec(with_housing=False)
    frame = credit_frame()
    inputs = frame[NUMERIC].astype("float64")
    model = KNeighborsClassifier(n_neighbors=25).fit(inputs, frame["repaid"])
    scorer = Scorer(model, spec, version="1")
    background = frame.iloc[:40]
    features = customer(income=70.0, debt=30.0, postcode_risk=0.4)
    attribution = attribute(scorer, features, background=background, permutations=64, seed=3)
    again = attribute(scorer, features, background=background, permutations=64, seed=3)
    assert attribution == again
    assert attribution.method == "permutation" and attribution.sampling_error is not None
    _assert_adds_up(attribution)

    def margin(rows: pd.DataFrame) -> float:
        p = np.clip(model.predict_proba(rows[NUMERIC].astype("float64"))[:, 1], 1e-12, 1 - 1e-12)
        return float(np.mean(np.log(p / (1 - p))))

    def value(subset: tuple[str, ...]) -> float:
        rows = background[NUMERIC].astype("float64").copy()
        for name in subset:
            rows[name] = float(features[name])
        return margin(rows)

    n = len(NUMERIC)
    for name in NUMERIC:
        others = [o for o in NUMERIC if o != name]
        exact = 0.0
        for size in range(n):
            weight = math.factorial(size) * math.factorial(n - size - 1) / math.factorial(n)
            for subset in itertools.combinations(others, size):
                exact += weight * (value((*subset, name)) - value(subset))
        error = attribution.sampling_error[name]
        assert abs(attribution.contributions[name] - exact) <= 4 * error + 1e-9


def test_attributions_that_do_not_add_up_are_refused() -> None:
    with pytest.raises(AdditivityError, match="refused"):
        Attribution(baseline=0.1, contributions={"a": 0.5}, output=0.7, method="linear-exact")
    ok = Attribution(
        baseline=0.1, contributions={"a": 0.5, "b": 0.1}, output=0.7, method="linear-exact"
    )
    assert ok.to_dict()["contributions"] == {"a": 0.5, "b": 0.1}


def test_one_hot_columns_are_grouped_back_to_their_feature() -> None:
    grouped = group_columns(
        {
            "onehot__housing_own": 0.2,
            "housing_rent": -0.5,
            "scale__income": 1.0,
            "income_band_high": 0.3,
        },
        ["income", "income_band", "housing"],
    )
    assert grouped == pytest.approx({"income": 1.0, "income_band": 0.3, "housing": -0.3})
    with pytest.raises(InputError, match="match no declared feature"):
        group_columns({"mystery": 1.0}, ["income"])
