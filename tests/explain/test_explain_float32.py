"""XGBoost computes in float32: its attributions are held to float32's rounding, and all explain.

300 trees of depth 6 (eta 0.1) on generated data: XGBoost's contributions miss its margin by
up to several 1e-6, beyond float64's fixed tolerance, yet every row must be explained, with
shap's values, and a real error (far larger than rounding) must still be refused.
"""

from __future__ import annotations

import json
import math
import warnings
from functools import cache
from typing import Any

import numpy as np
import pytest

from ethica.explain import (
    ADDITIVITY_TOLERANCE,
    FLOAT32_EPSILON,
    AdditivityError,
    Attribution,
    attribute,
    float32_tolerance,
)
from ethica.governance import SystemSpec, parse_spec
from ethica.scoring import Scorer

xgboost = pytest.importorskip("xgboost")

FEATURES = [f"x{j}" for j in range(8)]
ROWS = 500


def _spec() -> SystemSpec:
    return parse_spec(
        {
            "id": "float32",
            "name": "Float32 approval",
            "purpose": "essential.service",
            "decision": {"kind": "binary", "threshold": 0.5, "adverse": "negative"},
            "features": [
                {
                    "name": name,
                    "type": "number",
                    "data_category": "user.financial",
                    "description": f"measure {name}",
                }
                for name in FEATURES
            ],
            "owner": "tests@example.com",
        }
    )


def _data(rows: int, seed: int) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    rng = np.random.default_rng(seed)
    values = rng.normal(size=(rows, len(FEATURES))) * [1, 2, 5, 10, 1, 1, 3, 0.5]
    logit = (
        values[:, 0] + 0.3 * values[:, 1] * values[:, 4] - 0.1 * values[:, 2] + 0.05 * values[:, 3]
    )
    label = (rng.uniform(size=rows) < 1 / (1 + np.exp(-logit))).astype(int)
    return values, label


@cache
def _booster() -> Any:
    values, label = _data(2_000, 1)
    matrix = xgboost.DMatrix(values, label=label, feature_names=FEATURES)
    params = {"objective": "binary:logistic", "max_depth": 6, "eta": 0.1, "seed": 0, "nthread": 1}
    return xgboost.train(params, matrix, num_boost_round=300)


@cache
def _attributions() -> tuple[np.ndarray[Any, Any], list[Attribution]]:
    rows, _ = _data(ROWS, 2)
    scorer = Scorer(_booster(), _spec(), version="1")
    records = [dict(zip(FEATURES, row.tolist(), strict=True)) for row in rows]
    return rows, [attribute(scorer, record) for record in records]


def test_every_row_of_a_300_tree_depth_6_model_is_explained_with_shaps_values() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # shap's plotting colours warn on import
        import shap  # type: ignore[import-untyped]
    rows, attributions = _attributions()
    assert len(attributions) == ROWS  # attribute() raised for none of them
    expected = np.asarray(shap.TreeExplainer(_booster()).shap_values(rows), dtype=np.float64)
    ours = np.array([[a.contributions[n] for n in FEATURES] for a in attributions])
    np.testing.assert_allclose(ours, expected, rtol=0, atol=1e-6)
    margins = _booster().predict(xgboost.DMatrix(rows, feature_names=FEATURES), output_margin=True)
    np.testing.assert_array_equal([a.output for a in attributions], margins.astype(np.float64))


def test_these_rows_are_beyond_float64s_tolerance_and_within_float32s() -> None:
    _, attributions = _attributions()
    misses = np.array(
        [abs(math.fsum([a.baseline, *a.contributions.values()]) - a.output) for a in attributions]
    )
    # The edge is really exercised: a fixed 1e-6 would have refused some of these rows.
    assert (misses > ADDITIVITY_TOLERANCE).sum() >= 5
    tolerances = np.array([a.tolerance for a in attributions])
    assert (misses <= tolerances).all()
    # Yet the bound stays far below any attribution a customer would read.
    assert tolerances.max() < 1e-3
    assert {a.method for a in attributions} == {"xgboost-treeshap"}
    assert (
        json.loads(json.dumps(attributions[0].to_dict()))["tolerance"] == attributions[0].tolerance
    )


def test_an_error_larger_than_float32_rounding_is_still_refused() -> None:
    _, attributions = _attributions()
    kept = attributions[0]
    shifted = dict(kept.contributions)
    shifted[FEATURES[0]] += 2 * kept.tolerance
    with pytest.raises(AdditivityError, match="tolerance"):
        Attribution(
            baseline=kept.baseline,
            contributions=shifted,
            output=kept.output,
            method=kept.method,
            tolerance=kept.tolerance,
        )


def test_float32_tolerance_grows_with_terms_and_magnitude_and_never_goes_below_float64s() -> None:
    assert float32_tolerance(0.0, 1) == ADDITIVITY_TOLERANCE
    assert float32_tolerance(2.0, 300) == pytest.approx(300 * FLOAT32_EPSILON * 2.0)
    assert float32_tolerance(-4.0, 300) == 2 * float32_tolerance(2.0, 300)
    assert float32_tolerance(2.0, 600) == 2 * float32_tolerance(2.0, 300)
    # Recursive float32 summation of n terms: an observed error must fall within the bound.
    rng = np.random.default_rng(3)
    for _ in range(200):
        terms = rng.normal(scale=0.05, size=400).astype(np.float32)
        total = np.float32(0)
        for term in terms:
            total = np.float32(total + term)
        exact = math.fsum(terms.astype(np.float64).tolist())
        assert abs(float(total) - exact) <= float32_tolerance(
            float(np.abs(terms).sum()), terms.size
        )
    with pytest.raises(Exception, match="terms must be at least 1"):
        float32_tolerance(1.0, 0)


def test_the_scorer_predicts_on_a_one_thread_copy_and_leaves_the_callers_booster_alone() -> None:
    values, label = _data(500, 4)
    matrix = xgboost.DMatrix(values, label=label, feature_names=FEATURES)
    booster = xgboost.train({"objective": "binary:logistic"}, matrix, num_boost_round=20)
    before = json.loads(booster.save_config())["learner"]["generic_param"]["nthread"]
    assert before != "1"
    scorer = Scorer(booster, _spec(), version="1")
    assert scorer.xgboost_booster is not booster
    assert json.loads(booster.save_config())["learner"]["generic_param"]["nthread"] == before
    rows, _ = _data(20, 5)
    expected = booster.predict(xgboost.DMatrix(rows, feature_names=FEATURES))
    for row, probability in zip(rows, expected, strict=True):
        scored = scorer.score(dict(zip(FEATURES, row.tolist(), strict=True)))
        assert scored.score == float(probability)
