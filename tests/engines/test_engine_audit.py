"""A full binary audit gives the same comparisons and summary on every engine."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from engine_cases import AUDIT_ARGUMENTS, assert_same_audit, audit_frame

from ethica.fairness import MissingGroupWarning, audit


def run_audit(data: Any, *, engine: str, score_bins: int) -> Any:
    with pytest.warns(MissingGroupWarning) as warned:
        result = audit(data, engine=engine, score_bins=score_bins, **AUDIT_ARGUMENTS)
    messages = " ".join(str(w.message) for w in warned)
    assert "'sex' is missing on 40 rows" in messages
    assert "'flag' is missing on 30 rows" in messages
    return result


# 1000 keeps every distinct score (exact bins); 40 bins them between the profiled min and max.
BINS = pytest.mark.parametrize("score_bins", [1000, 40], ids=["exact", "binned"])


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return audit_frame()


@pytest.fixture(scope="module")
def expected(frame: pd.DataFrame) -> dict[int, Any]:
    return {bins: run_audit(frame, engine="memory", score_bins=bins) for bins in (1000, 40)}


def test_the_reference_audit_covers_missing_and_boolean_groups(expected: dict[int, Any]) -> None:
    groups = set(expected[1000].comparisons["group"])
    assert {"missing", "True", "False", "female", "male", "non-binary"} <= groups
    assert "1" not in groups and "0" not in groups


@BINS
def test_duckdb_audit_matches_memory(
    frame: pd.DataFrame, expected: dict[int, Any], score_bins: int
) -> None:
    assert_same_audit(
        run_audit(frame, engine="duckdb", score_bins=score_bins), expected[score_bins]
    )


@BINS
def test_parquet_audit_matches_memory(
    frame: pd.DataFrame, expected: dict[int, Any], tmp_path: Path, score_bins: int
) -> None:
    path = tmp_path / "decisions.parquet"
    frame.to_parquet(path, index=False)
    assert_same_audit(run_audit(path, engine="auto", score_bins=score_bins), expected[score_bins])


@pytest.mark.postgresql
@BINS
def test_postgresql_audit_matches_memory(
    frame: pd.DataFrame,
    expected: dict[int, Any],
    postgresql_url: str,
    postgresql_table: Callable[[pd.DataFrame], str],
    score_bins: int,
) -> None:
    table = postgresql_table(frame)
    actual = run_audit(table, engine=postgresql_url, score_bins=score_bins)
    assert_same_audit(actual, expected[score_bins])
