"""The in-memory and DuckDB engines give identical count tables from every kind of input."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from engine_cases import AGGREGATIONS, assert_same_table, decisions

from ethica.engines import Aggregation, Apply, Col, DuckDBEngine, MemoryEngine

CASES = sorted(AGGREGATIONS)


def _inputs(frame: pd.DataFrame) -> dict[str, Any]:
    return {
        "pandas": frame,
        "polars": pl.from_pandas(frame),
        "pyarrow": pa.Table.from_pandas(frame, preserve_index=False),
    }


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return decisions()


@pytest.fixture(scope="module")
def expected(frame: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The in-memory engine on the pandas frame: what every other run must reproduce."""
    return {name: MemoryEngine().aggregate(frame, agg) for name, agg in AGGREGATIONS.items()}


def test_memory_engine_matches_pandas_groupby(frame: pd.DataFrame) -> None:
    """An independent computation: pandas' own group-by with NumPy arithmetic."""
    keys = ["sex", "approved", "flag", "age band"]
    aggregation = Aggregation(
        keys=tuple((k, Col(k)) for k in keys),
        sums=(
            ("score", Col("score")),
            ("discount", Apply("discount", (Col("position"),))),
            ("gain", Apply("gain", (Col("relevance"),))),
            ("missing", Col("score_missing")),
        ),
    )
    with_terms = frame.assign(
        discount=1.0 / np.log2(frame["position"] + 1.0),
        gain=2.0 ** frame["relevance"] - 1.0,
        missing=frame["score_missing"],
    )
    grouped = with_terms.groupby(keys, dropna=False, sort=False)
    peer = grouped.size().rename("n").to_frame()
    peer = peer.join(grouped[["score", "discount", "gain"]].sum())
    # SQL's SUM skips missing values and is NULL when every value is missing.
    peer = peer.join(grouped["missing"].sum(min_count=1)).reset_index()
    assert_same_table(MemoryEngine().aggregate(frame, aggregation), peer, aggregation)


@pytest.mark.parametrize("source", ["pandas", "polars", "pyarrow"])
@pytest.mark.parametrize("engine", [MemoryEngine, DuckDBEngine], ids=["memory", "duckdb"])
@pytest.mark.parametrize("case", CASES)
def test_in_memory_inputs_give_identical_tables(
    frame: pd.DataFrame,
    expected: dict[str, pd.DataFrame],
    engine: type[MemoryEngine | DuckDBEngine],
    source: str,
    case: str,
) -> None:
    aggregation = AGGREGATIONS[case]
    table = engine().aggregate(_inputs(frame)[source], aggregation)
    assert_same_table(table, expected[case], aggregation)


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
@pytest.mark.parametrize("case", CASES)
def test_files_in_duckdb_give_identical_tables(
    frame: pd.DataFrame,
    expected: dict[str, pd.DataFrame],
    tmp_path: Path,
    suffix: str,
    case: str,
) -> None:
    path = tmp_path / f"decisions{suffix}"
    if suffix == ".parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False)
    aggregation = AGGREGATIONS[case]
    assert_same_table(DuckDBEngine().aggregate(path, aggregation), expected[case], aggregation)
    assert_same_table(DuckDBEngine().aggregate(str(path), aggregation), expected[case], aggregation)


def test_boolean_keys_stay_booleans(frame: pd.DataFrame) -> None:
    """A boolean group reads True/False on every engine, never 1/0."""
    aggregation = Aggregation(keys=(("approved", Col("approved")),))
    for engine in (MemoryEngine(), DuckDBEngine()):
        values = engine.aggregate(frame, aggregation)["approved"].tolist()
        assert sorted(values) == [False, True]
        assert all(isinstance(v, bool | np.bool_) for v in values)


def test_missing_values_stay_missing_through_bins_and_caps() -> None:
    """NULL is neither clipped into the first bin nor replaced by the cap."""
    frame = pd.DataFrame({"score": [np.nan, -1.0, 0.5, 2.0]})
    aggregation = Aggregation(
        keys=(("bin", Apply("bin", (Col("score"),), (0.0, 1.0, 4.0))),),
        sums=(("capped", Apply("cap", (Col("score"),), (1.0,))),),
    )
    for engine in (MemoryEngine(), DuckDBEngine()):
        table = engine.aggregate(frame, aggregation)
        missing = table[table["bin"].isna()]
        assert missing["n"].tolist() == [1]
        assert missing["capped"].isna().all()
        present = table.dropna(subset=["bin"]).sort_values("bin")
        assert present["bin"].tolist() == [0.0, 2.0, 3.0]
        assert present["capped"].tolist() == [-1.0, 0.5, 1.0]


def test_no_keys_on_an_empty_table_is_one_row_of_zero() -> None:
    empty = pd.DataFrame({"score": pd.Series([], dtype="float64")})
    aggregation = Aggregation(keys=(), sums=(("score", Col("score")),))
    for engine in (MemoryEngine(), DuckDBEngine()):
        table = engine.aggregate(empty, aggregation)
        assert table["n"].tolist() == [0]
        assert table["score"].isna().all()
