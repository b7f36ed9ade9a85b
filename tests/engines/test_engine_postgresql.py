"""The PostgreSQL engine gives the same count tables as the in-memory engine."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import pytest
from engine_cases import AGGREGATIONS, assert_same_table, decisions

from ethica.engines import Aggregation, Col, MemoryEngine, get_engine
from ethica.engines._postgresql import PostgreSQLEngine
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
