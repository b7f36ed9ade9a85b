"""Generated data, models of every supported kind and an exhaustive search, for counterfactuals.

Three actionable integer features (every integer in range is the grid) and two others; a
narrow band of age and a threshold of tenure that tree models must find.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from functools import cache
from typing import Any

import numpy as np
import pandas as pd
import pytest

from ethica.governance import SystemSpec, parse_spec

#: (name, minimum, maximum, direction) of the actionable integer features.
ACTIONABLE = [
    ("age", 18, 80, "increasing"),
    ("tenure", 0, 96, "increasing"),
    ("debt", 0, 90, "decreasing"),
]
OTHERS = ["income", "noise"]
COLUMNS = [name for name, *_ in ACTIONABLE] + OTHERS
ROWS_PER_MODEL = 32

Predict = Callable[[np.ndarray[Any, Any]], np.ndarray[Any, Any]]


def spec(
    actionable: list[tuple[str, int, int, str]] = ACTIONABLE,
    extra: list[dict[str, Any]] | None = None,
    others: list[str] = OTHERS,
) -> SystemSpec:
    """A binary approval: the actionable integer features, ``extra`` ones, then the others."""
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
        for name, low, high, direction in actionable
    ]
    features += extra or []
    features += [
        {"name": name, "type": "number", "data_category": "user.financial", "description": name}
        for name in others
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
def data() -> tuple[pd.DataFrame, np.ndarray[Any, Any]]:
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


def _lightgbm() -> tuple[Any, Predict]:
    import lightgbm

    frame, label = data()
    params = {"objective": "binary", "num_leaves": 15, "verbose": -1, "num_threads": 1, "seed": 0}
    booster = lightgbm.train(params, lightgbm.Dataset(frame, label=label), num_boost_round=80)
    return booster, lambda x: booster.predict(x, num_threads=1)


def _xgboost() -> tuple[Any, Predict]:
    xgboost = pytest.importorskip("xgboost")
    frame, label = data()
    matrix = xgboost.DMatrix(frame.to_numpy(), label=label, feature_names=COLUMNS)
    params = {"objective": "binary:logistic", "max_depth": 4, "eta": 0.2, "nthread": 1}
    booster = xgboost.train(params, matrix, num_boost_round=80)
    return booster, lambda x: booster.predict(xgboost.DMatrix(x, feature_names=COLUMNS))


def _gradient_boosting_pipeline() -> tuple[Any, Predict]:
    from sklearn.ensemble import GradientBoostingClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    frame, label = data()
    model = Pipeline(
        [("scale", StandardScaler()), ("model", GradientBoostingClassifier(random_state=0))]
    ).fit(frame, label)
    return model, lambda x: model.predict_proba(pd.DataFrame(x, columns=COLUMNS))[:, 1]


def _random_forest() -> tuple[Any, Predict]:
    from sklearn.ensemble import RandomForestClassifier

    frame, label = data()
    model = RandomForestClassifier(
        n_estimators=40, max_depth=6, min_samples_leaf=20, random_state=0
    ).fit(frame, label)
    return model, lambda x: model.predict_proba(pd.DataFrame(x, columns=COLUMNS))[:, 1]


def _logistic_pipeline() -> tuple[Any, Predict]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    frame, label = data()
    model = Pipeline([("scale", StandardScaler()), ("model", LogisticRegression())]).fit(
        frame, label
    )
    return model, lambda x: model.predict_proba(pd.DataFrame(x, columns=COLUMNS))[:, 1]


def _interacting_logistic_pipeline() -> tuple[Any, Predict]:
    """Products of features: not additive, so searched on a coarse grid."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import PolynomialFeatures, StandardScaler

    frame, label = data()
    model = Pipeline(
        [
            ("scale", StandardScaler()),
            ("square", PolynomialFeatures(degree=2)),
            ("model", LogisticRegression(max_iter=2_000)),
        ]
    ).fit(frame, label)
    return model, lambda x: model.predict_proba(pd.DataFrame(x, columns=COLUMNS))[:, 1]


#: Model kinds whose single and pair options are exact minima over the grid.
MODELS = {
    "lightgbm": _lightgbm,
    "xgboost": _xgboost,
    "sklearn-gradient-boosting-pipeline": _gradient_boosting_pipeline,
    "sklearn-random-forest": _random_forest,
    "sklearn-logistic-pipeline": _logistic_pipeline,
}
#: Every model kind, with those searched on a coarse grid.
ALL_MODELS = {**MODELS, "sklearn-interacting-logistic-pipeline": _interacting_logistic_pipeline}


def adverse_rows(predict: Predict, count: int, seed: int = 11) -> list[dict[str, Any]]:
    """Rows the model declines (integers for the actionable features), shuffled."""
    frame, _ = data()
    candidates = frame.sample(n=600, random_state=3).to_dict(orient="records")
    adverse = [
        {
            **{str(k): float(v) for k, v in r.items()},
            **{name: int(r[name]) for name, *_ in ACTIONABLE},
        }
        for r in candidates
        if predict(np.array([[r[c] for c in COLUMNS]]))[0] < 0.5
    ]
    np.random.default_rng(seed).shuffle(adverse)  # type: ignore[arg-type]
    return adverse[:count]


def exhaustive(row: dict[str, float], predict: Predict) -> tuple[float | None, float | None]:
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
