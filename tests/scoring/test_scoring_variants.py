"""Variants of one row scored in one call give what LightGBM's own predict gives, row by row."""

from __future__ import annotations

from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from ethica.governance import parse_spec
from ethica.scoring import Scorer

NAMES = ["income", "debt", "tenure"]


def _spec(decision: dict[str, Any]) -> Any:
    return parse_spec(
        {
            "id": "credit",
            "name": "Credit",
            "purpose": "finance",
            "decision": decision,
            "features": [
                {"name": n, "type": "number", "data_category": "user.financial"} for n in NAMES
            ],
            "owner": "risk@example.com",
        }
    )


def _data(classes: int) -> tuple[pd.DataFrame, np.ndarray[Any, Any]]:
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(rng.normal(size=(600, 3)), columns=NAMES)
    signal = frame["income"] - frame["debt"] + 0.3 * rng.normal(size=600)
    return frame, np.digitize(signal, np.quantile(signal, np.linspace(0, 1, classes + 1)[1:-1]))


@pytest.mark.parametrize("best_iteration", [0, 15])
def test_binary_variants_match_lightgbm_predict(best_iteration: int) -> None:
    frame, label = _data(2)
    params: dict[str, Any] = {"objective": "binary", "verbose": -1, "num_leaves": 7}
    booster = lgb.train(params, lgb.Dataset(frame, label), 40)
    # As early stopping leaves it: predict() then stops at the best iteration.
    booster.best_iteration = best_iteration
    scorer = Scorer(booster, _spec({"kind": "binary", "threshold": 0.5}), version="1")
    current = {"income": 0.1, "debt": 0.4, "tenure": -1.0}
    incomes = np.linspace(-2, 2, 25)
    got = scorer.raw_variants(current, {"income": incomes})
    rows = np.column_stack([incomes, np.full(25, 0.4), np.full(25, -1.0)])
    np.testing.assert_array_equal(got[:, 0], booster.predict(rows, num_threads=1))
    assert got.shape == (25, 1)
    # The first variant is the row itself, as scored alone.
    assert got[12, 0] == pytest.approx(float(scorer.raw({**current, "income": incomes[12]})[0]))


def test_multiclass_variants_give_every_class_probability() -> None:
    frame, label = _data(3)
    model = lgb.LGBMClassifier(n_estimators=30, num_leaves=7, verbose=-1).fit(frame, label).booster_
    spec = _spec({"kind": "multiclass", "classes": ["low", "mid", "high"]})
    scorer = Scorer(model, spec, version="1")
    debts = np.array([-1.0, 0.0, 1.0, 2.0])
    got = scorer.raw_variants({"income": 0.5, "debt": 0.0, "tenure": 0.0}, {"debt": debts})
    rows = np.column_stack([np.full(4, 0.5), debts, np.zeros(4)])
    expected = model.predict(rows, num_threads=1)
    assert got.shape == (4, 3)
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_allclose(got.sum(axis=1), 1.0)
