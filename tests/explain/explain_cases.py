"""Small credit data, specs and models shared by the explanation tests (seconds to train)."""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
import pandas as pd

from ethica.governance import SystemSpec, parse_spec

HOUSING = ["own", "rent", "other"]


def credit_frame(rows: int = 600, seed: int = 0) -> pd.DataFrame:
    """Customers whose repayment rises with income and falls with debt; ``postcode_risk``
    carries a strong effect and is declared a proxy for a protected attribute."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "income": rng.uniform(10, 150, rows).round(1),
            "debt": rng.uniform(0, 80, rows).round(1),
            "years_employed": rng.integers(0, 30, rows),
            "postcode_risk": rng.uniform(0, 1, rows).round(3),
            "housing": pd.Categorical(rng.choice(HOUSING, rows), categories=HOUSING),
        }
    )
    logit = (
        0.04 * (frame["income"] - 80)
        - 0.06 * (frame["debt"] - 40)
        + 0.03 * (frame["years_employed"] - 15)
        - 3.0 * (frame["postcode_risk"] - 0.5)
        + np.where(frame["housing"] == "own", 0.6, 0.0)
    )
    frame["repaid"] = (rng.uniform(size=rows) < 1 / (1 + np.exp(-logit))).astype(int)
    return frame


NUMERIC = ["income", "debt", "years_employed", "postcode_risk"]


def spec_data(*, with_housing: bool = True, adverse: str = "negative") -> dict[str, Any]:
    features: list[dict[str, Any]] = [
        {
            "name": "income",
            "type": "number",
            "data_category": "user.financial.income",
            "description": "monthly income (hundreds)",
            "actionable": True,
            "direction": "increasing",
            "minimum": 0,
            "maximum": 200,
        },
        {
            "name": "debt",
            "type": "number",
            "data_category": "user.financial.debt",
            "description": "outstanding debt (hundreds)",
            "actionable": True,
            "direction": "decreasing",
            "minimum": 0,
        },
        {
            "name": "years_employed",
            "type": "integer",
            "data_category": "user.employment",
            "description": "years in employment",
            "direction": "increasing",
        },
        {
            "name": "postcode_risk",
            "type": "number",
            "data_category": "user.location",
            "description": "postcode risk",
            "proxy_for": ["ethnicity"],
        },
    ]
    if with_housing:
        features.append(
            {
                "name": "housing",
                "type": "category",
                "data_category": "user.housing",
                "description": "housing",
                "categories": HOUSING,
            }
        )
    return {
        "id": "credit",
        "name": "Credit limit increase",
        "purpose": "essential.service",
        "decision": {"kind": "binary", "threshold": 0.5, "adverse": adverse},
        "features": features,
        "protected_attributes": [{"name": "ethnicity"}],
        "owner": "risk@example.com",
    }


def credit_spec(*, with_housing: bool = True) -> SystemSpec:
    return parse_spec(spec_data(with_housing=with_housing))


@cache
def lightgbm_booster() -> Any:
    import lightgbm

    frame = credit_frame()
    columns = [*NUMERIC, "housing"]
    data = lightgbm.Dataset(frame[columns], label=frame["repaid"], categorical_feature=["housing"])
    params = {
        "objective": "binary",
        "num_leaves": 8,
        "learning_rate": 0.2,
        "min_data_in_leaf": 10,
        "min_data_per_group": 10,
        "cat_smooth": 1.0,
        "verbose": -1,
        "num_threads": 1,
        "seed": 0,
    }
    return lightgbm.train(params, data, num_boost_round=30)


@cache
def xgboost_booster() -> Any:
    import xgboost

    frame = credit_frame()
    matrix = xgboost.DMatrix(
        frame[NUMERIC].astype("float64").to_numpy(), label=frame["repaid"], feature_names=NUMERIC
    )
    params = {"objective": "binary:logistic", "max_depth": 3, "eta": 0.3, "nthread": 1, "seed": 0}
    return xgboost.train(params, matrix, num_boost_round=30)


def one_hot_pipeline(final: Any) -> Any:
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    prepare = ColumnTransformer(
        [
            ("onehot", OneHotEncoder(categories=[HOUSING], sparse_output=False), ["housing"]),
            ("scale", StandardScaler(), NUMERIC),
        ]
    )
    frame = credit_frame()
    inputs = frame[[*NUMERIC, "housing"]].astype({"housing": "object"})
    for column in NUMERIC:
        inputs[column] = inputs[column].astype("float64")
    return Pipeline([("prepare", prepare), ("model", final)]).fit(inputs, frame["repaid"])


def customer(**changes: Any) -> dict[str, Any]:
    """A customer the models decline: low income, high debt, high postcode risk."""
    base: dict[str, Any] = {
        "income": 35.0,
        "debt": 65.0,
        "years_employed": 3,
        "postcode_risk": 0.9,
        "housing": "rent",
    }
    return {**base, **changes}
