"""The compiled count and hull (numba) give what the numpy count and the Python chain give."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from test_thresholds_vs_fairlearn import generated

from ethica.errors import InputError
from ethica.fairness import CountTable
from ethica.mitigation import count_arrays, group_thresholds
from ethica.mitigation._score_curves import score_curves
from ethica.mitigation._tradeoff_curves import hull_indices, operating_points

pytest.importorskip("numba")

from ethica.mitigation._compiled import compiled_count, upper_hull_indices  # noqa: E402

COMPILED = "ethica.mitigation._compiled"


def _without_numba(monkeypatch: pytest.MonkeyPatch, count: Callable[[], Any]) -> Any:
    """Run ``count`` as on an install without numba: importing the compiled kernels fails."""
    with monkeypatch.context() as patch:
        patch.setitem(sys.modules, COMPILED, None)
        return count()


def _cases() -> dict[str, dict[str, Any]]:
    rng = np.random.default_rng(11)
    rows = 40_000
    frame = generated(rows)
    base = {
        "label": frame["y"].to_numpy(),
        "prediction": frame["pred"].to_numpy(),
        "score": frame["score"].to_numpy(),
    }
    continuous = generated(rows, decimals=None)["score"].to_numpy()
    return {
        "one-character text": {**base, "sensitive_features": frame["group"].to_numpy("U1")},
        "negative integers, booleans": {
            **base,
            "sensitive_features": rng.choice([-7, -1, 3], rows),
            "label": base["label"] == 1,
            "prediction": base["prediction"].astype(np.int8),
        },
        "one score": {
            **base,
            "sensitive_features": rng.choice([0, 1], rows),
            "score": 0.4 + 0 * base["score"],
        },
        "continuous scores": {
            **base,
            "sensitive_features": frame["group"].to_numpy("U1"),
            "score": continuous,
        },
        "negative scores, zero of either sign": {
            **base,
            "sensitive_features": frame["group"].to_numpy("U1"),
            "score": np.where(base["score"] < 0.2, -0.0, base["score"] - 0.6),
        },
        "keys past the first rows' range": {
            **base,
            # The first rows' keys are 0 and 1; later ones from -2 to 5.
            "sensitive_features": np.where(
                np.arange(rows) < 5_000, rng.choice([0, 1], rows), rng.choice(range(-2, 6), rows)
            ),
        },
        "scores past the first rows' grid": {
            **base,
            "sensitive_features": frame["group"].to_numpy("U1"),
            # The first rows' scores within [0.45, 0.55]; later ones from -3 to 4.
            "score": np.where(
                np.arange(rows) < 5_000,
                np.clip(np.round(base["score"], 2), 0.45, 0.55),
                np.round(base["score"], 2) * 7 - 3,
            ),
        },
        "scores in one slot of the first rows' grid only": {
            **base,
            "sensitive_features": frame["group"].to_numpy("U1"),
            # The first rows' scores are 0 and 1: their grid spans [-1, 2], in steps wider than
            # the later scores' gaps (0.0005); the grid of all rows' scores, [0, 1], narrower.
            "score": np.where(
                np.arange(rows) < 5_000,
                np.where(base["score"] < 0.5, 0.0, 1.0),
                np.round(np.clip(continuous, 0.3, 0.7) * 2000) / 2000,
            ),
        },
        "scores too close for the grid": {
            **base,
            "sensitive_features": frame["group"].to_numpy("U1"),
            "score": np.where(base["score"] < 0.5, 0.25, 0.25 + 1e-9) + (np.arange(rows) == 0),
        },
    }


@pytest.mark.parametrize("case", list(_cases()))
def test_the_compiled_count_gives_the_numpy_counts(
    case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    arrays = _cases()[case]
    compiled = count_arrays(**arrays)
    numpy_count = _without_numba(monkeypatch, lambda: count_arrays(**arrays))
    _identical(compiled, numpy_count)
    policy = group_thresholds(compiled, criterion="equalized_odds")
    again = _without_numba(
        monkeypatch, lambda: group_thresholds(numpy_count, criterion="equalized_odds")
    )
    assert policy.rules == again.rules


def test_the_compiled_count_applies_where_meant_and_leaves_the_rest() -> None:
    cases = _cases()
    for case, applies in [
        ("one-character text", True),
        ("negative integers, booleans", True),
        ("one score", True),
        ("negative scores, zero of either sign", True),
        ("keys past the first rows' range", True),
        ("scores past the first rows' grid", True),
        ("scores in one slot of the first rows' grid only", True),
        ("continuous scores", False),  # more distinct scores than kept exactly
        ("scores too close for the grid", False),  # two scores in one slot
    ]:
        arrays = cases[case]
        keys = np.asarray(arrays["sensitive_features"])
        keys = keys.view(np.uint32) if keys.dtype.kind == "U" else keys
        labels = np.asarray(arrays["label"]).astype(np.int64)
        decisions = np.asarray(arrays["prediction"]).astype(np.int64)
        counted = compiled_count(keys, labels, decisions, np.asarray(arrays["score"]), 1000)
        assert (counted is not None) == applies, case


def test_the_compiled_count_refuses_what_the_numpy_count_refuses(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    good = _cases()["one-character text"]
    for change, said in [
        ({"label": np.r_[2, good["label"][1:]]}, "label must be 0/1"),
        ({"prediction": np.r_[good["prediction"][:-1], -1]}, "prediction must be 0/1"),
        ({"score": np.r_[np.nan, good["score"][1:]]}, "scores must be finite"),
        ({"score": np.r_[good["score"][:-9], -np.nan, good["score"][-8:]]}, "must be finite"),
        ({"score": np.r_[good["score"][:-1], np.inf]}, "scores must be finite"),
        ({"score": np.r_[-np.inf, good["score"][1:]]}, "scores must be finite"),
    ]:
        arrays = {**good, **change}
        with pytest.raises(InputError, match=said):
            count_arrays(**arrays)
        with pytest.raises(InputError, match=said):
            _without_numba(monkeypatch, lambda arrays=arrays: count_arrays(**arrays))


@pytest.mark.parametrize("criterion", ["demographic_parity", "equalized_odds"])
def test_the_compiled_hull_keeps_the_points_the_python_chain_keeps(criterion: str) -> None:
    frame = generated(20_000)
    table = count_arrays(
        sensitive_features=frame["group"].to_numpy("U1"),
        label=frame["y"].to_numpy(),
        prediction=frame["pred"].to_numpy(),
        score=frame["score"].to_numpy(),
    )
    x, y = (
        ("selection_rate", "accuracy_score")
        if criterion == "demographic_parity"
        else ("false_positive_rate", "true_positive_rate")
    )
    rng = np.random.default_rng(5)
    for curve in score_curves(table):
        points = operating_points(curve, x, y)
        np.testing.assert_array_equal(
            upper_hull_indices(points.x, points.y), hull_indices(points.x, points.y)
        )
    # Ties and collinear points: a lattice with repeated x and y.
    xs = np.sort(rng.integers(0, 6, 300)).astype(np.float64)
    ys = rng.integers(0, 4, 300).astype(np.float64)
    order = np.lexsort((ys, xs))
    np.testing.assert_array_equal(
        upper_hull_indices(xs[order], ys[order]), hull_indices(xs[order], ys[order])
    )


def _identical(ours: CountTable, theirs: CountTable) -> None:
    """The same table to the last bit: the same cells in the same order."""
    fields = ("kind", "keys", "classes", "bins", "sensitive_features")
    assert [getattr(ours, f) for f in fields] == [getattr(theirs, f) for f in fields]
    pd.testing.assert_frame_equal(ours.cells, theirs.cells, check_exact=True)
