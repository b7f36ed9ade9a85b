"""The compiled TreeSHAP gives LightGBM's own ``pred_contrib``, split rule for split rule."""

from __future__ import annotations

import sys
from functools import cache
from typing import Any

import numpy as np
import pytest
from explain_cases import credit_spec, customer, lightgbm_booster

from ethica.explain import attribute
from ethica.explain._lightgbm_native import LightGBMContributions, fast_contributions
from ethica.explain._lightgbm_trees import lightgbm_forest
from ethica.explain._treeshap import SHARED_ROWS, TreeShap, _rows, _rows_shared, gauss_legendre
from ethica.scoring import Scorer

lightgbm = pytest.importorskip("lightgbm")
pytest.importorskip("numba")

FEATURES = 6


def _data(rows: int, seed: int) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Numeric columns with missing values and exact zeros, and a 5-level category (column 5)."""
    rng = np.random.default_rng(seed)
    values = rng.normal(size=(rows, FEATURES))
    values[:, 5] = rng.integers(0, 5, rows)
    values[rng.uniform(size=rows) < 0.15, 1] = np.nan
    values[rng.uniform(size=rows) < 0.2, 2] = 0.0
    signal = values[:, 0] + np.nan_to_num(values[:, 1]) * values[:, 3] + (values[:, 5] == 2)
    return values, signal + rng.normal(scale=0.5, size=rows)


def _train(params: dict[str, Any], label: np.ndarray[Any, Any], rounds: int = 25) -> Any:
    values, _ = _data(len(label), 0)
    data = lightgbm.Dataset(values, label=label, categorical_feature=[5])
    base = {"verbose": -1, "num_threads": 1, "seed": 0, "min_data_per_group": 5}
    return lightgbm.train({**base, **params}, data, num_boost_round=rounds)


@cache
def _models() -> dict[str, Any]:
    _, signal = _data(800, 0)
    return {
        "binary": _train({"objective": "binary", "num_leaves": 16}, (signal > 0.5).astype(int)),
        "regression, zero as missing": _train(
            {"objective": "regression", "num_leaves": 12, "zero_as_missing": True}, signal
        ),
        "multiclass": _train(
            {"objective": "multiclass", "num_class": 3, "num_leaves": 8},
            np.digitize(signal, [0.0, 1.0]),
        ),
        # Deep paths: many distinct features per leaf, so many quadrature points.
        "deep trees": _train(
            {"objective": "regression", "num_leaves": 64, "min_data_in_leaf": 3}, signal, 10
        ),
    }


def _awkward_rows() -> np.ndarray[Any, Any]:
    """Rows from the training distribution plus the edges of every split rule."""
    values, _ = _data(200, 1)
    edges = values[:12].copy()
    edges[0, :] = np.nan  # missing everywhere, categories included
    edges[1, :] = 0.0
    edges[2, 5] = -1.0  # negative category: goes right
    edges[3, 5] = 17.0  # unseen category
    edges[4, 5] = 2.7  # truncated to category 2, as LightGBM does
    edges[5, :5] = 1e6
    edges[6, :5] = -1e6
    edges[7, 2] = -0.0
    return np.vstack([values, edges])


@pytest.mark.parametrize(
    "name", ["binary", "regression, zero as missing", "multiclass", "deep trees"]
)
def test_compiled_treeshap_equals_lightgbm_pred_contrib(name: str) -> None:
    booster = _models()[name]
    forest = lightgbm_forest(booster)
    assert forest is not None
    ours = TreeShap(forest)
    rows = _awkward_rows()
    expected = np.asarray(booster.predict(rows, pred_contrib=True, num_threads=1))
    got = np.vstack([ours.contributions(row) for row in rows])
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-10)
    # The contributions of each class add up to LightGBM's own margin.
    margins = np.asarray(booster.predict(rows, raw_score=True)).reshape(len(rows), -1)
    sums = got.reshape(len(rows), margins.shape[1], FEATURES + 1).sum(axis=2)
    np.testing.assert_allclose(sums, margins, rtol=0, atol=1e-10)


@pytest.mark.parametrize("name", ["binary", "multiclass", "deep trees"])
def test_a_batch_gets_exactly_the_contributions_of_its_rows_one_by_one(name: str) -> None:
    """Leaf by leaf, rows that share a pattern share its shares: the same numbers, bit for bit."""
    booster = _models()[name]
    forest = lightgbm_forest(booster)
    assert forest is not None
    ours = TreeShap(forest)
    rows = _awkward_rows()
    batch = np.vstack([rows, rows[:40]])  # repeated rows: every pattern of theirs seen twice
    one_by_one = np.vstack([ours.contributions(row) for row in batch])
    assert (ours.contributions_many(batch) == one_by_one).all()
    for size in (SHARED_ROWS, 9, 33):
        assert (ours.contributions_many(batch[:size]) == one_by_one[:size]).all()
    # Each kernel on its own, without the split between threads.
    args = (ours._splits, ours._paths, ours._quadrature, forest.max_slots)
    row_by_row, leaf_by_leaf = np.zeros_like(one_by_one), np.zeros_like(one_by_one)
    _rows(batch, *args, row_by_row)
    _rows_shared(batch, *args, leaf_by_leaf)
    assert (leaf_by_leaf == row_by_row).all() and leaf_by_leaf.any()
    expected = np.asarray(booster.predict(batch, pred_contrib=True, num_threads=1))
    np.testing.assert_allclose(ours.contributions_many(batch), expected, rtol=0, atol=1e-10)


def test_the_deep_model_exercises_long_paths_and_the_split_rules() -> None:
    models = _models()
    deep = lightgbm_forest(models["deep trees"])
    zero = lightgbm_forest(models["regression, zero as missing"])
    binary = lightgbm_forest(models["binary"])
    assert deep is not None and zero is not None and binary is not None
    assert deep.max_slots >= 5
    assert binary.node_categorical.any() and (binary.node_missing == 2).any()
    assert (zero.node_missing == 1).any()


def test_gauss_legendre_integrates_polynomials_of_degree_2n_minus_1_exactly() -> None:
    nodes, weights = gauss_legendre(5)
    for points in range(1, 6):
        t, w = nodes[points - 1, :points], weights[points - 1, :points]
        for degree in range(2 * points):
            assert float(w @ t**degree) == pytest.approx(1 / (degree + 1), abs=1e-14)


def test_constant_trees_go_to_the_baseline() -> None:
    values, _ = _data(300, 0)
    # No split can gain anything on a constant label: every tree is a single leaf.
    booster = _train({"objective": "regression"}, np.full(300, 2.5), rounds=3)
    forest = lightgbm_forest(booster)
    assert forest is not None and forest.leaf_value.size == 0
    expected = np.asarray(booster.predict(values[:3], pred_contrib=True))
    got = np.vstack([TreeShap(forest).contributions(row) for row in values[:3]])
    np.testing.assert_allclose(got, expected, atol=1e-12)
    assert got[:, -1] == pytest.approx([2.5] * 3)


def test_linear_trees_and_random_forests_are_left_to_lightgbm() -> None:
    _, signal = _data(800, 0)
    linear = _train({"objective": "regression", "linear_tree": True, "num_leaves": 4}, signal, 3)
    forest = _train(
        {
            "objective": "regression",
            "boosting": "rf",
            "bagging_fraction": 0.5,
            "bagging_freq": 1,
            "num_leaves": 4,
        },
        signal,
        3,
    )
    assert lightgbm_forest(linear) is None
    assert lightgbm_forest(forest) is None
    assert not LightGBMContributions(forest).compiled
    assert LightGBMContributions(_models()["binary"]).compiled


def test_explanations_of_the_credit_model_use_the_compiled_kernel() -> None:
    booster = lightgbm_booster()
    fast = fast_contributions(booster)
    assert fast is not None and fast.compiled
    attribution = attribute(Scorer(booster, credit_spec(), version="1"), customer())
    assert attribution.method == "lightgbm-treeshap"


def test_without_numba_lightgbm_computes_the_same_contributions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    booster = _models()["multiclass"]
    compiled = LightGBMContributions(booster)
    # As on an install without numba: importing the compiled kernel fails.
    monkeypatch.setitem(sys.modules, "ethica.explain._treeshap", None)
    native = LightGBMContributions(booster)
    assert compiled.compiled and not native.compiled
    for row in _awkward_rows()[::10]:
        np.testing.assert_allclose(
            compiled.contributions(row[None, :]), native.contributions(row[None, :]), atol=1e-10
        )
