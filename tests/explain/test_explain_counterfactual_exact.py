"""On tree models the cheapest counterfactuals are exact: they equal an exhaustive search's.

Generated data with three actionable integer features (every integer in range is the grid);
for each model kind, 30+ adverse rows are searched by ethica and by brute force over every
value and every pair of values, scored by the model directly. A narrow window where a tree
flips (the issue's "age 28 → 62 while 37 already flips") cannot be skipped.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from functools import cache
from typing import Any

import numpy as np
import pandas as pd
import pytest

from ethica.explain import counterfactuals
from ethica.governance import SystemSpec, parse_spec
from ethica.scoring import Scorer

#: (name, minimum, maximum, direction) of the actionable integer features.
ACTIONABLE = [
    ("age", 18, 80, "increasing"),
    ("tenure", 0, 96, "increasing"),
    ("debt", 0, 90, "decreasing"),
]
OTHERS = ["income", "noise"]
COLUMNS = [name for name, *_ in ACTIONABLE] + OTHERS
ROWS_PER_MODEL = 32

_Predict = Callable[[np.ndarray[Any, Any]], np.ndarray[Any, Any]]


def _spec() -> SystemSpec:
    features: list[dict[str, Any]] = [
        {
            "name": name,
            "type": "integer",
            "data_category": "user.financial",
            "description": name,
            "actionable": True,
            "direction": direction,
            "minimum": low,
            "maximum": high,
        }
        for name, low, high, direction in ACTIONABLE
    ]
    features += [
        {"name": name, "type": "number", "data_category": "user.financial", "description": name}
        for name in OTHERS
    ]
    return parse_spec(
        {
            "id": "exact",
            "name": "Exact counterfactuals",
            "purpose": "essential.service",
            "decision": {"kind": "binary", "threshold": 0.5, "adverse": "negative"},
            "features": features,
            "owner": "tests@example.com",
        }
    )


@cache
def _data() -> tuple[pd.DataFrame, np.ndarray[Any, Any]]:
    rng = np.random.default_rng(7)
    rows = 3_000
    frame = pd.DataFrame(
        {
            "age": rng.integers(18, 81, rows),
            "tenure": rng.integers(0, 97, rows),
            "debt": rng.integers(0, 91, rows),
            "income": rng.normal(50, 15, rows),
            "noise": rng.normal(size=rows),
        }
    ).astype("float64")
    # A narrow band of age and a threshold of tenure: trees must find both.
    logit = (
        1.5 * ((frame["age"] >= 35) & (frame["age"] <= 45))
        + 0.03 * frame["tenure"]
        - 0.04 * frame["debt"]
        + 0.04 * (frame["income"] - 50)
        - 0.8
    )
    label = (rng.uniform(size=rows) < 1 / (1 + np.exp(-logit))).astype(int)
    return frame, label.to_numpy()


def _lightgbm() -> tuple[Any, _Predict]:
    import lightgbm

    frame, label = _data()
    params = {"objective": "binary", "num_leaves": 15, "verbose": -1, "num_threads": 1, "seed": 0}
    booster = lightgbm.train(params, lightgbm.Dataset(frame, label=label), num_boost_round=80)
    return booster, lambda x: booster.predict(x, num_threads=1)


def _xgboost() -> tuple[Any, _Predict]:
    xgboost = pytest.importorskip("xgboost")
    frame, label = _data()
    matrix = xgboost.DMatrix(frame.to_numpy(), label=label, feature_names=COLUMNS)
    params = {"objective": "binary:logistic", "max_depth": 4, "eta": 0.2, "nthread": 1}
    booster = xgboost.train(params, matrix, num_boost_round=80)
    return booster, lambda x: booster.predict(xgboost.DMatrix(x, feature_names=COLUMNS))


def _gradient_boosting_pipeline() -> tuple[Any, _Predict]:
    from sklearn.ensemble import GradientBoostingClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    frame, label = _data()
    model = Pipeline(
        [("scale", StandardScaler()), ("model", GradientBoostingClassifier(random_state=0))]
    ).fit(frame, label)
    return model, lambda x: model.predict_proba(pd.DataFrame(x, columns=COLUMNS))[:, 1]


def _random_forest() -> tuple[Any, _Predict]:
    from sklearn.ensemble import RandomForestClassifier

    frame, label = _data()
    model = RandomForestClassifier(
        n_estimators=40, max_depth=6, min_samples_leaf=20, random_state=0
    ).fit(frame, label)
    return model, lambda x: model.predict_proba(pd.DataFrame(x, columns=COLUMNS))[:, 1]


MODELS = {
    "lightgbm": _lightgbm,
    "xgboost": _xgboost,
    "sklearn-gradient-boosting-pipeline": _gradient_boosting_pipeline,
    "sklearn-random-forest": _random_forest,
}


def _exhaustive(row: dict[str, float], predict: _Predict) -> tuple[float | None, float | None]:
    """Return the cheapest single and two-feature costs, trying every value and every pair."""
    grids: dict[str, np.ndarray[Any, Any]] = {}
    width: dict[str, float] = {}
    for name, low, high, direction in ACTIONABLE:
        start = row[name]
        values = np.arange(low, high + 1, dtype=np.float64)
        grids[name] = (
            values[values > start] if direction == "increasing" else values[values < start]
        )
        width[name] = float(high - low)
    base = np.array([row[c] for c in COLUMNS], dtype=np.float64)

    def approved(changes: dict[str, np.ndarray[Any, Any]], count: int) -> np.ndarray[Any, Any]:
        matrix = np.repeat(base[None, :], count, axis=0)
        for name, values in changes.items():
            matrix[:, COLUMNS.index(name)] = values
        return np.asarray(predict(matrix)) >= 0.5

    def cost(name: str, values: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        return np.abs(values - row[name]) / width[name]

    single_cost: dict[str, float] = {}
    alone: dict[str, np.ndarray[Any, Any]] = {}
    for name, values in grids.items():
        if not len(values):
            alone[name] = np.zeros(0, dtype=bool)
            continue
        flips = approved({name: values}, len(values))
        alone[name] = flips
        if flips.any():
            single_cost[name] = float(cost(name, values[flips]).min())
    pair_cost: float | None = None
    for first, second in itertools.combinations(grids, 2):
        # A pair's changes are each needed: neither reverses alone or goes as far as its single.
        usable = {
            name: grids[name][
                ~alone[name] & (cost(name, grids[name]) < single_cost.get(name, np.inf))
            ]
            for name in (first, second)
        }
        a, b = np.meshgrid(usable[first], usable[second], indexing="ij")
        a, b = a.ravel(), b.ravel()
        if not len(a):
            continue
        flips = approved({first: a, second: b}, len(a))
        if flips.any():
            found = float((cost(first, a[flips]) + cost(second, b[flips])).min())
            pair_cost = found if pair_cost is None else min(pair_cost, found)
    return (min(single_cost.values()) if single_cost else None), pair_cost


@pytest.mark.slow
@pytest.mark.parametrize("kind", list(MODELS))
def test_cheapest_single_and_pair_equal_an_exhaustive_search_on_every_row(kind: str) -> None:
    model, predict = MODELS[kind]()
    scorer = Scorer(model, _spec(), version="1")
    rng = np.random.default_rng(11)
    frame, _ = _data()
    candidates = frame.sample(n=600, random_state=3).to_dict(orient="records")
    adverse = [
        {
            **{str(k): float(v) for k, v in r.items()},
            **{name: int(r[name]) for name, *_ in ACTIONABLE},
        }
        for r in candidates
        if predict(np.array([[r[c] for c in COLUMNS]]))[0] < 0.5
    ]
    rng.shuffle(adverse)
    checked = singles = pairs = 0
    for row in adverse[:ROWS_PER_MODEL]:
        single, pair = _exhaustive(row, predict)
        options = counterfactuals(scorer, row, max_options=20)
        ours_single = min((o.cost for o in options if len(o.changes) == 1), default=None)
        ours_pair = min((o.cost for o in options if len(o.changes) == 2), default=None)
        assert (
            ours_single == pytest.approx(single, abs=1e-12)
            if single is not None
            else (ours_single is None)
        ), (row, options)
        assert (
            ours_pair == pytest.approx(pair, abs=1e-12) if pair is not None else (ours_pair is None)
        ), (row, options)
        checked += 1
        singles += single is not None
        pairs += pair is not None
    assert checked == ROWS_PER_MODEL  # 30+ adverse rows per model kind, 100 % equal
    assert singles >= 10 and pairs >= 10  # both kinds of option were really compared


def test_a_missing_category_given_as_nan_is_never_proposed_as_a_change() -> None:
    import lightgbm

    housing = ["own", "rent", "other"]
    rng = np.random.default_rng(5)
    frame = pd.DataFrame(
        {"income": rng.uniform(0, 200, 2_000), "housing": rng.choice(housing, 2_000)}
    )
    frame["housing"] = pd.Categorical(frame["housing"], categories=housing)
    label = ((frame["housing"] == "own") | (frame["income"] > 150)).astype(int)
    params = {"objective": "binary", "verbose": -1, "num_threads": 1, "min_data_per_group": 5}
    booster = lightgbm.train(params, lightgbm.Dataset(frame, label=label), num_boost_round=20)
    spec = parse_spec(
        {
            "id": "nan",
            "name": "Missing category",
            "purpose": "essential.service",
            "decision": {"kind": "binary", "threshold": 0.5, "adverse": "negative"},
            "features": [
                {
                    "name": "income",
                    "type": "number",
                    "data_category": "user.financial",
                    "description": "income",
                    "actionable": True,
                    "direction": "increasing",
                    "minimum": 0,
                    "maximum": 200,
                },
                {
                    "name": "housing",
                    "type": "category",
                    "data_category": "user.housing",
                    "description": "housing",
                    "categories": housing,
                    "actionable": True,
                },
            ],
            "owner": "tests@example.com",
        }
    )
    scorer = Scorer(booster, spec, version="1")
    # A known category is changed: renting is declined, owning approved.
    rent = counterfactuals(scorer, {"income": 35.0, "housing": "rent"}, max_options=5)
    assert {"housing": ("rent", "own")} in [o.changes for o in rent]
    for missing in (float("nan"), np.nan, None):
        options = counterfactuals(scorer, {"income": 35.0, "housing": missing}, max_options=5)
        assert options, "income can still change"
        assert all("housing" not in o.changes for o in options), options
