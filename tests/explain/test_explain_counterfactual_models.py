"""Every model kind: the options reverse the decision by the model's own prediction, and stay
within what the customer may change; logistic regressions with categories are exact too."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pandas as pd
import pytest
from counterfactual_cases import ACTIONABLE, ALL_MODELS, COLUMNS, adverse_rows, data, spec

from ethica.explain import counterfactuals
from ethica.explain._counterfactual_linear import is_additive_logistic
from ethica.scoring import Scorer

BOUNDS = {name: (low, high, direction) for name, low, high, direction in ACTIONABLE}


#: Kinds whose training or scoring takes long on a shared machine: in the slow suite.
SLOW = {"xgboost", "sklearn-random-forest", "sklearn-gradient-boosting-pipeline"}


@pytest.mark.parametrize(
    "kind", [pytest.param(k, marks=[pytest.mark.slow] if k in SLOW else []) for k in ALL_MODELS]
)
def test_options_reverse_the_decision_and_respect_direction_bounds_and_actionability(
    kind: str,
) -> None:
    model, predict = ALL_MODELS[kind]()
    scorer = Scorer(model, spec(), version="1")
    shown = 0
    for row in adverse_rows(predict, 12, seed=5):
        options = counterfactuals(scorer, row, max_options=4)
        for option in options:
            after = {**row, **{name: new for name, (_, new) in option.changes.items()}}
            # The model itself, on a matrix built here, not by the scorer.
            probability = float(predict(np.array([[after[c] for c in COLUMNS]]))[0])
            assert probability >= 0.5, (kind, row, option)
            assert option.score == pytest.approx(probability, abs=1e-9)
            assert option.outcome == "approved"  # the spec names the favourable outcome
            for name, (before, new) in option.changes.items():
                low, high, direction = BOUNDS[name]  # KeyError: a feature that is not actionable
                assert before == row[name]
                assert low <= new <= high and isinstance(new, int)
                assert new > before if direction == "increasing" else new < before
        costs = [o.cost for o in options]
        assert costs == sorted(costs)
        shown += len(options)
    assert shown >= 12  # options were really checked


def test_only_per_column_transformers_make_a_logistic_regression_additive() -> None:
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import GradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, PolynomialFeatures, StandardScaler

    per_column = ColumnTransformer(
        [("scale", StandardScaler(), ["age"]), ("onehot", OneHotEncoder(), ["plan"])]
    )
    frame = pd.DataFrame({"age": [20.0, 30.0, 40.0, 50.0], "plan": ["a", "b", "a", "b"]})
    label = [0, 1, 0, 1]
    additive = Pipeline([("prepare", per_column), ("model", LogisticRegression())])
    assert is_additive_logistic(additive.fit(frame, label))
    assert is_additive_logistic(LogisticRegression().fit(frame[["age"]], label))
    squared = Pipeline(
        [("square", PolynomialFeatures()), ("model", LogisticRegression(max_iter=500))]
    )
    assert not is_additive_logistic(squared.fit(frame[["age"]], label))
    boosted = Pipeline([("prepare", per_column), ("model", GradientBoostingClassifier())])
    assert not is_additive_logistic(boosted.fit(frame, label))


PLANS = ["basic", "plus", "premium"]


def _plan_spec() -> Any:
    plan = {
        "name": "plan",
        "type": "category",
        "categories": PLANS,
        "data_category": "user.financial",
        "description": "plan",
        "actionable": True,
    }
    return spec(ACTIONABLE[1:], [plan], ["income"])


def test_a_one_hot_logistic_pipeline_equals_an_exhaustive_search_with_a_category() -> None:
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    frame, _ = data()
    rng = np.random.default_rng(2)
    inputs = frame[["tenure", "debt", "income"]].copy()
    inputs["plan"] = rng.choice(PLANS, len(inputs))
    logit = (
        0.03 * inputs["tenure"]
        - 0.04 * inputs["debt"]
        + inputs["plan"].map({"basic": -0.8, "plus": 0.2, "premium": 0.9})
        + 0.03 * (inputs["income"] - 50)
    )
    label = (rng.uniform(size=len(inputs)) < 1 / (1 + np.exp(-logit))).astype(int)
    prepare = ColumnTransformer(
        [
            ("onehot", OneHotEncoder(categories=[PLANS]), ["plan"]),
            ("scale", StandardScaler(), ["tenure", "debt", "income"]),
        ]
    )
    model = Pipeline([("prepare", prepare), ("model", LogisticRegression())]).fit(inputs, label)
    scorer = Scorer(model, _plan_spec(), version="1")
    grids: dict[str, list[Any]] = {"plan": PLANS}
    width = {name: float(high - low) for name, low, high, _ in ACTIONABLE[1:]}

    def approved(rows: list[dict[str, Any]]) -> np.ndarray[Any, Any]:
        return np.asarray(model.predict_proba(pd.DataFrame(rows))[:, 1] >= 0.5)

    compared = pairs_found = 0
    for row in inputs.sample(n=300, random_state=4).to_dict(orient="records"):
        row = {k: (int(v) if k in width else v) for k, v in row.items()}
        if approved([row])[0]:
            continue
        for name, low, high, direction in ACTIONABLE[1:]:
            values = (
                range(row[name] + 1, high + 1)
                if direction == "increasing"
                else range(low, row[name])
            )
            grids[name] = list(values)

        def cost(name: str, value: Any, start: dict[str, Any] = row) -> float:
            return abs(value - start[name]) / width[name] if name in width else 1.0

        singles: dict[str, float] = {}
        alone: dict[str, set[Any]] = {}
        for name, values in grids.items():
            values = [v for v in values if v != row[name]]
            flips = approved([{**row, name: v} for v in values]) if values else np.zeros(0, bool)
            alone[name] = {v for v, f in zip(values, flips, strict=True) if f}
            if alone[name]:
                singles[name] = min(cost(name, v) for v in alone[name])
        best_pair = None
        for first, second in itertools.combinations(grids, 2):
            usable = {
                n: [
                    v
                    for v in grids[n]
                    if v != row[n]
                    and v not in alone[n]
                    # as far as the single change: for a category, the same value
                    and (n not in width or cost(n, v) < singles.get(n, np.inf))
                ]
                for n in (first, second)
            }
            combos = list(itertools.product(usable[first], usable[second]))
            if not combos:
                continue
            flips = approved([{**row, first: a, second: b} for a, b in combos])
            for (a, b), flipped in zip(combos, flips, strict=True):
                if flipped:
                    total = cost(first, a) + cost(second, b)
                    best_pair = total if best_pair is None else min(best_pair, total)
        options = counterfactuals(scorer, row, max_options=20)
        ours_single = min((o.cost for o in options if len(o.changes) == 1), default=None)
        ours_pair = min((o.cost for o in options if len(o.changes) == 2), default=None)
        expected_single = min(singles.values()) if singles else None
        for ours, expected in ((ours_single, expected_single), (ours_pair, best_pair)):
            if expected is None:
                assert ours is None, (row, options)
            else:
                assert ours == pytest.approx(expected, abs=1e-12), (row, options)
        compared += 1
        pairs_found += best_pair is not None
        if compared == 25:
            break
    assert compared == 25 and pairs_found >= 10
