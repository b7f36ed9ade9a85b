"""count_arrays counts arrays in memory chunk by chunk into the table count_table builds."""

from __future__ import annotations

import copy
import pickle
import warnings
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fairlearn_peer import fairlearn_rules, fairlearn_thresholds
from test_thresholds_vs_fairlearn import generated

from ethica.errors import InputError
from ethica.fairness import CountTable, MissingGroupWarning, count_table
from ethica.fairness._rollup import factorize_sorted
from ethica.mitigation import count_arrays, group_thresholds, reweighing


def _same(ours: CountTable, theirs: CountTable) -> None:
    assert (ours.kind, ours.keys, ours.classes, ours.bins) == (
        theirs.kind,
        theirs.keys,
        theirs.classes,
        theirs.bins,
    )
    assert ours.sensitive_features == theirs.sensitive_features
    by = [*theirs.sensitive_features, *theirs.keys]
    mine = ours.cells.sort_values(by).reset_index(drop=True)
    expected = theirs.cells.sort_values(by).reset_index(drop=True)
    assert list(mine.columns) == list(expected.columns)
    pd.testing.assert_frame_equal(mine, expected, check_dtype=False, rtol=1e-12)
    _codes_kept(ours)


def _codes_kept(table: CountTable) -> None:
    """The group and score codes count_arrays keeps are those the table's cells give."""
    for feature in (*table.sensitive_features, *(k for k in table.keys if k == "score_bin")):
        kept, read = table.factorized(feature), factorize_sorted(table.cells[feature])
        assert kept is not None and read is not None
        assert kept.size == read.size
        np.testing.assert_array_equal(kept.codes, read.codes)
        assert list(kept.values) == list(read.values)


@pytest.mark.parametrize("chunk_rows", [1_000, 7_777, 1 << 16])
@pytest.mark.parametrize("decimals", [3, None])
def test_the_table_equals_count_tables_whatever_the_chunks(
    chunk_rows: int, decimals: int | None
) -> None:
    frame = generated(30_000, decimals=decimals)
    arrays: dict[str, Any] = {
        "sensitive_features": frame["group"].to_numpy(dtype="U1"),
        "label": frame["y"].to_numpy(),
        "prediction": frame["pred"].to_numpy(),
        "score": frame["score"].to_numpy(),
    }
    ours = count_arrays(**arrays, chunk_rows=chunk_rows)
    _same(ours, count_table(**arrays))
    # Continuous scores pass the 1000 exact values: both bin them in the same 1000 bins.
    assert ours.bins is not None
    assert ours.bins.method == ("exact" if decimals else "equal_width")


def test_several_features_text_of_any_length_booleans_and_no_scores() -> None:
    rng = np.random.default_rng(3)
    rows = 5_000
    features = {
        "region": rng.choice(["north", "south-east", "west"], rows).astype(object),
        "age": rng.choice([25, 40, 65], rows),
    }
    label, decided = rng.random(rows) < 0.4, (rng.random(rows) < 0.5).astype(float)
    ours = count_arrays(
        sensitive_features=features, label=label, prediction=decided, chunk_rows=999
    )
    theirs = count_table(sensitive_features=features, label=label, prediction=decided)
    _same(ours, theirs)
    weights = reweighing(ours).weights
    pd.testing.assert_frame_equal(weights, reweighing(theirs).weights, check_dtype=False)


def _scores(case: str, rows: int, rng: np.random.Generator) -> Any:
    if case == "few exact":  # 201 values, all kept exactly
        return np.round(rng.random(rows), 2) * 2 - 0.5
    if case == "too close":  # two scores closer than a step of the lookup's grid: a collision
        return np.where(rng.random(rows) < 0.5, 0.25, 0.25 + 1e-9) + (np.arange(rows) == 0)
    # Exact for the first chunks, then more distinct scores than kept: counted again in bins.
    late = np.round(rng.random(rows), 2)
    late[rows // 2 :] = rng.random(rows - rows // 2)
    return late


@pytest.mark.parametrize("case", ["few exact", "too close", "many late"])
def test_short_text_and_integer_features_count_as_count_table_does(case: str) -> None:
    rng = np.random.default_rng(7)
    rows = 9_000
    arrays: dict[str, Any] = {
        "sensitive_features": {
            "sex": rng.choice(["F", "M"], rows),  # one character: read as an integer
            "band": rng.choice([1, 2, 3], rows),
        },
        "label": rng.random(rows) < 0.4,
        "prediction": (rng.random(rows) < 0.5).astype(np.int8),
        "score": _scores(case, rows, rng),
    }
    ours = count_arrays(**arrays, chunk_rows=1_000)
    theirs = count_table(**arrays)
    _same(ours, theirs)
    assert ours.bins is not None
    assert ours.bins.method == ("equal_width" if case == "many late" else "exact")


def test_one_score_negative_groups_and_the_largest_integers() -> None:
    rng = np.random.default_rng(8)
    rows = 3_000
    arrays: dict[str, Any] = {
        "sensitive_features": rng.choice([-5, -2, 0], rows),
        "label": rng.random(rows) < 0.5,
        "prediction": rng.random(rows) < 0.5,
        "score": np.full(rows, 0.3),
    }
    _same(count_arrays(**arrays, chunk_rows=500), count_table(**arrays))
    # Integers past the signed 64-bit range are counted (hashed), not offset.
    huge = np.array([2**63 + 1, 2**63 + 5] * 5, dtype=np.uint64)
    table = count_arrays(sensitive_features=huge, label=np.tile([0, 1], 5), prediction=np.ones(10))
    assert sorted(table.cells["sensitive_feature_0"]) == [str(2**63 + 1), str(2**63 + 5)]
    assert table.cells["n"].tolist() == [5, 5]
    _codes_kept(table)


def test_group_codes_follow_the_names_not_the_values() -> None:
    rng = np.random.default_rng(9)
    rows = 4_000
    label, decided = rng.random(rows) < 0.5, rng.random(rows) < 0.5
    score = np.round(rng.random(rows), 2)
    for values in [
        rng.choice(["ab", "ba", "b", "a"], rows),  # read as integers, they sort otherwise
        rng.choice([9, 10, 100, -3], rows),  # "10" sorts before "9"
        rng.choice(np.array([1, 1.0, "x", None, np.nan], dtype=object), rows),  # shared names
    ]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", MissingGroupWarning)  # None and NaN: "missing"
            table = count_arrays(
                sensitive_features={"g": values}, label=label, prediction=decided, score=score
            )
        _codes_kept(table)


def test_thresholds_from_it_equal_fairlearns() -> None:
    frame = generated(20_000)
    table = count_arrays(
        sensitive_features=frame["group"].to_numpy(dtype="U1"),
        label=frame["y"].to_numpy(),
        prediction=frame["pred"].to_numpy(),
        score=frame["score"].to_numpy(),
        chunk_rows=4_096,
    )
    ours = group_thresholds(table, criterion="equalized_odds")
    theirs = fairlearn_thresholds(
        frame, criterion="equalized_odds", group="group", label="y", score="score"
    )
    for group, rule in fairlearn_rules(theirs).items():
        mine = ours.rules[group]
        got = (mine.p0, mine.threshold0, mine.p1, mine.threshold1, mine.p_ignore)
        assert got == pytest.approx(rule, abs=1e-12)


def test_its_cells_are_built_when_first_read_and_equal_its_arrays() -> None:
    frame = generated(20_000)
    arrays: dict[str, Any] = {
        "sensitive_features": frame["group"].to_numpy(dtype="U1"),
        "label": frame["y"].to_numpy(),
        "prediction": frame["pred"].to_numpy(),
        "score": frame["score"].to_numpy(),
    }
    table = count_arrays(**arrays)
    policy = group_thresholds(table, criterion="equalized_odds")
    assert "cells" not in vars(table)  # the thresholds read the arrays, no data frame
    columns = ("label", "prediction", "score_bin", "n", "score_sum")
    read = {column: table.column(column) for column in columns}
    assert table.column("n", np.float64).dtype == np.float64
    # Pickled and copied with its cells; the cells, once built, hold the very arrays.
    again = pickle.loads(pickle.dumps(table))
    assert copy.copy(table).cells.equals(again.cells)
    for column, values in read.items():
        np.testing.assert_array_equal(values, table.cells[column].to_numpy())
        np.testing.assert_array_equal(table.column(column), again.column(column))
    _same(table, count_table(**arrays))
    _same(again, table)
    assert group_thresholds(again, criterion="equalized_odds").rules == policy.rules
    assert replace(table, classes=(0, 1)).cells.equals(table.cells)


def test_bad_arrays_are_refused_with_what_to_fix() -> None:
    good: dict[str, Any] = {
        "sensitive_features": np.array(["a", "b", "a"]),
        "label": np.array([0, 1, 1]),
        "prediction": np.array([1, 1, 0]),
        "score": np.array([0.2, 0.9, 0.4]),
    }
    assert count_arrays(**good).rows == 3
    cases = [
        ({"label": np.array([0, 2, 1])}, "label must be 0/1"),
        ({"label": np.array([0, -1, 1])}, "label must be 0/1"),
        ({"prediction": np.array([1, 3, 0], dtype=np.uint8)}, "prediction must be 0/1"),
        ({"prediction": np.array([0.5, 1.0, 0.0])}, "prediction must be 0/1"),
        ({"label": np.array(["yes", "no", "yes"])}, "label must be one-dimensional 0/1"),
        ({"score": np.array([0.2, np.nan, 0.4])}, "scores must be finite"),
        ({"score": np.array([0.2, 0.4])}, "differ in length"),
        ({"sensitive_features": np.array(["a", "b"])}, "differ in length"),
    ]
    for change, said in cases:
        with pytest.raises(InputError, match=said):
            count_arrays(**{**good, **change})
    with pytest.raises(InputError, match="at least 1"):
        count_arrays(**good, chunk_rows=0)
