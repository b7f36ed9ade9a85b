"""Explaining decisions in batches gives, row for row, what explaining them one by one gives."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from explain_cases import credit_frame, credit_spec, customer, lightgbm_booster, xgboost_booster

from ethica.errors import EthicaError
from ethica.explain import Explainer, attribute, attribute_many
from ethica.explain._treeshap import SPLIT_ROWS
from ethica.scoring import Scorer

pytest.importorskip("lightgbm")
pytest.importorskip("numba")


def _customers(count: int) -> list[dict[str, Any]]:
    frame = credit_frame(rows=count, seed=3)
    rows = []
    for record in frame.to_dict("records"):
        rows.append({name: record[name] for name in customer()})
    rows[0] = customer()  # declined: its explanation has counterfactuals
    rows[1] = customer(income=None)  # a missing value
    return rows


@pytest.mark.parametrize("count", [2, SPLIT_ROWS - 1, 3 * SPLIT_ROWS + 1])
def test_a_batch_of_lightgbm_attributions_equals_one_by_one(count: int) -> None:
    # Batches from the split threshold up run part of the rows on a helper thread.
    scorer = Scorer(lightgbm_booster(), credit_spec(), version="1")
    rows = _customers(count)
    batch = attribute_many(scorer, rows)
    assert len(batch) == count
    for row, got in zip(rows, batch, strict=True):
        assert not isinstance(got, EthicaError)
        one = attribute(scorer, row)
        assert got.method == one.method == "lightgbm-treeshap"
        assert got.output == pytest.approx(one.output, abs=1e-12)
        assert got.baseline == pytest.approx(one.baseline, abs=1e-12)
        for feature, value in one.contributions.items():
            assert got.contributions[feature] == pytest.approx(value, abs=1e-12)


def test_the_batch_kernel_equals_lightgbm_pred_contrib() -> None:
    from ethica.explain._lightgbm_native import fast_contributions

    booster = lightgbm_booster()
    fast = fast_contributions(booster)
    assert fast is not None and fast.compiled
    scorer = Scorer(booster, credit_spec(), version="1")
    matrix = np.concatenate([scorer._encode(row) for row in _customers(4 * SPLIT_ROWS)])
    expected = np.asarray(booster.predict(matrix, pred_contrib=True, num_threads=1))
    np.testing.assert_allclose(fast.contributions_many(matrix), expected, rtol=0, atol=1e-10)


def test_other_models_are_attributed_row_by_row_in_a_batch() -> None:
    pytest.importorskip("xgboost")
    spec = credit_spec(with_housing=False)
    scorer = Scorer(xgboost_booster(), spec, version="1")
    rows = [{k: v for k, v in row.items() if k != "housing"} for row in _customers(3)]
    for row, got in zip(rows, attribute_many(scorer, rows), strict=True):
        assert not isinstance(got, EthicaError)
        assert got.contributions == pytest.approx(attribute(scorer, row).contributions)


def test_explain_many_equals_explain_row_for_row() -> None:
    spec = credit_spec()
    scorer = Scorer(lightgbm_booster(), spec, version="1")
    explainer = Explainer()
    rows = [(row, scorer.score(row)) for row in _customers(SPLIT_ROWS + 2)]
    adverse = [scored.outcome == "declined" for _, scored in rows]
    assert any(adverse) and not all(adverse)  # with and without counterfactuals
    batch = explainer.explain_many(spec=spec, scorer=scorer, rows=rows)
    for (features, scored), got in zip(rows, batch, strict=True):
        assert got == explainer.explain(spec=spec, scorer=scorer, features=features, scored=scored)
    assert explainer.explain_many(spec=spec, scorer=scorer, rows=[]) == []
    assert Explainer().explain_many(spec=spec, scorer=None, rows=rows[:2]) == [None, None]
