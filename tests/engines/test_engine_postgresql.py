"""The PostgreSQL engine gives the same count tables as the in-memory engine."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import numpy as np
import pandas as pd
import pytest
from engine_cases import AGGREGATIONS, assert_same_table, decisions

from ethica.engines import (
    Aggregation,
    Col,
    MemoryEngine,
    SqlQuery,
    _postgresql,
    binned,
    get_engine,
)
from ethica.engines._postgresql import PostgreSQLEngine
from ethica.engines._sql import POSTGRESQL, aggregation_sql
from ethica.errors import EngineError, InputError

pytestmark = pytest.mark.postgresql


@pytest.fixture
def decisions_table(postgresql_table: Callable[[pd.DataFrame], str]) -> str:
    return postgresql_table(decisions())


@pytest.mark.parametrize("case", sorted(AGGREGATIONS))
def test_postgresql_matches_memory(postgresql_url: str, decisions_table: str, case: str) -> None:
    aggregation = AGGREGATIONS[case]
    engine = get_engine(postgresql_url)
    assert isinstance(engine, PostgreSQLEngine)
    expected = MemoryEngine().aggregate(decisions(), aggregation)
    assert_same_table(engine.aggregate(decisions_table, aggregation), expected, aggregation)


def test_postgresql_columns_and_profile(postgresql_url: str, decisions_table: str) -> None:
    frame = decisions()
    engine = PostgreSQLEngine(postgresql_url)
    assert engine.columns(decisions_table) == list(frame.columns)
    assert engine.profile(f"public.{decisions_table}", "score_missing") == MemoryEngine().profile(
        frame, "score_missing"
    )


def test_unknown_table_is_an_input_error(postgresql_url: str) -> None:
    engine = PostgreSQLEngine(postgresql_url)
    with pytest.raises(InputError, match="no such table"):
        engine.aggregate("ethica_no_such_table", Aggregation(keys=(("a", Col("a")),)))
    with pytest.raises(InputError, match="no such table"):
        engine.columns("ethica_no_such_table")


def test_unknown_column_is_an_input_error(postgresql_url: str, decisions_table: str) -> None:
    engine = PostgreSQLEngine(postgresql_url)
    with pytest.raises(InputError, match="no such column"):
        engine.aggregate(decisions_table, Aggregation(keys=(("nope", Col("nope")),)))


def test_a_frame_is_not_a_postgresql_table(postgresql_url: str) -> None:
    with pytest.raises(InputError, match="table or view by name"):
        PostgreSQLEngine(postgresql_url).columns(decisions())


def test_unreachable_server_is_an_engine_error() -> None:
    # Port 9 (discard) on the loopback interface: nothing listens there.
    engine = PostgreSQLEngine("postgresql://postgres@127.0.0.1:9/test?connect_timeout=2")
    with pytest.raises(EngineError, match="PostgreSQL"):
        engine.columns("decisions")


def test_summing_text_is_an_input_error(postgresql_url: str, decisions_table: str) -> None:
    aggregation = Aggregation(keys=(), sums=(("sex", Col("sex")),))
    with pytest.raises(InputError, match="numeric"):
        PostgreSQLEngine(postgresql_url).aggregate(decisions_table, aggregation)


@pytest.fixture
def numbers_table(postgresql_url: str) -> Iterator[str]:
    """REAL, INTEGER and NUMERIC columns with NULL, NaN and infinities, in a table of its own."""
    import psycopg

    name = f"ethica_test_numbers_{uuid.uuid4().hex[:12]}"
    rows = [
        (i, None if i % 7 == 0 else i / 3, None if i % 5 == 0 else i - 50, f"{i}.25")
        for i in range(100)
    ]
    rows += [(100, float("nan"), 1, "NaN"), (101, float("inf"), 2, "-1e300")]
    with psycopg.connect(postgresql_url) as connection, connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {name} (i INTEGER, r REAL, n INTEGER, d NUMERIC)")
        cursor.executemany(f"INSERT INTO {name} VALUES (%s, %s, %s, %s)", rows)
    yield name
    with psycopg.connect(postgresql_url, autocommit=True) as connection:
        connection.execute(f"DROP TABLE IF EXISTS {name}")


def test_batches_read_numbers_as_doubles_with_nan_for_null(
    postgresql_url: str, numbers_table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = PostgreSQLEngine(postgresql_url)
    # A few rows at a time: rows are cut across the COPY's messages and the batches.
    monkeypatch.setattr(_postgresql, "COPY_BATCH_BYTES", 100)
    batches = list(engine.batches(numbers_table, ["i", "r", "n", "d"], rows=1000))
    assert len(batches) > 5 and all(b.num_rows <= 3 for b in batches)
    read = {name: np.concatenate([b.column(name).to_numpy() for b in batches]) for name in "irnd"}
    order = np.argsort(read["i"])
    i = np.arange(102, dtype=np.float64)
    np.testing.assert_array_equal(read["i"][order], i)
    real = np.where(i % 7 == 0, np.nan, (i / 3).astype(np.float32).astype(np.float64))
    real[100:] = [np.nan, np.inf]
    np.testing.assert_array_equal(read["r"][order], real)
    assert read["r"].dtype == np.float64
    whole = np.where(i % 5 == 0, np.nan, i - 50)
    whole[100:] = [1, 2]
    np.testing.assert_array_equal(read["n"][order], whole)
    decimal = i + 0.25
    decimal[100:] = [np.nan, -1e300]
    np.testing.assert_array_equal(read["d"][order], decimal)


def test_batches_of_text_are_an_input_error(postgresql_url: str, decisions_table: str) -> None:
    engine = PostgreSQLEngine(postgresql_url)
    with pytest.raises(InputError, match="numbers"):
        list(engine.batches(decisions_table, ["region"]))
    with pytest.raises(InputError, match="no such column"):
        list(engine.batches(decisions_table, ["nowhere"]))


@pytest.fixture
def timed_table(postgresql_url: str) -> Iterator[str]:
    """2 * 10^5 decisions, one every 13 seconds, in a table of its own (with statistics)."""
    import psycopg

    name = f"ethica_test_timed_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgresql_url) as connection:
        connection.execute(
            f"CREATE TABLE {name} AS SELECT TIMESTAMPTZ '2026-01-01' + g * INTERVAL '13 s' AS at, "
            "g % 2 AS approved, (g % 1000) / 1000.0 AS score FROM generate_series(1, 200000) AS g"
        )
        connection.execute(f"ANALYZE {name}")
    yield name
    with psycopg.connect(postgresql_url, autocommit=True) as connection:
        connection.execute(f"DROP TABLE IF EXISTS {name}")


def test_cells_of_a_computed_key_are_hashed_then_sorted(
    postgresql_url: str, timed_table: str
) -> None:
    # PostgreSQL expects a cell per row of a key computed from a timestamp (a window): left
    # to itself, it sorts every row into ordered cells. The engine has it hash the rows and
    # sort the cells only, which gives the very same cells in the same order.
    import psycopg

    window = f"CAST(FLOOR(date_part('epoch', at) / 86400) AS BIGINT) AS w FROM {timed_table}"
    source = SqlQuery(f"SELECT *, {window}")
    aggregation = Aggregation(
        keys=(("w", Col("w")), ("prediction", Col("approved")), ("bin", binned("score", 0, 1, 10))),
        exact_sums=(("score_sum", Col("score")),),
    )
    hashed = aggregation_sql(aggregation, f"({source.sql})", POSTGRESQL)
    group_by = ", ".join(str(i + 1) for i in range(len(aggregation.keys)))
    plain = hashed.split("WITH cells AS MATERIALIZED (", 1)[1].rsplit(") SELECT", 1)[0]
    with psycopg.connect(postgresql_url) as connection:
        sorted_rows = connection.execute(f"{plain} ORDER BY {group_by}").fetchall()
        connection.execute(_postgresql.HASHED_CELLS)
        plan = "\n".join(row[0] for row in connection.execute(f"EXPLAIN {hashed}").fetchall())
    assert "HashAggregate" in plan and "GroupAggregate" not in plan
    # Nor does sorting's penalty make a statement this small worth compiling (JIT).
    assert "JIT" not in plan
    cells = PostgreSQLEngine(postgresql_url).aggregate(source, aggregation)
    assert len(cells) == len(sorted_rows) > 100
    assert [tuple(row) for row in cells.itertuples(index=False)] == sorted_rows
