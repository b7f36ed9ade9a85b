"""Fixtures shared by the whole test tree.

``postgresql_url``
    URL of the real PostgreSQL test server (``ETHICA_TEST_POSTGRESQL_URL``, default
    ``postgresql://postgres@127.0.0.1:5432/test``). Tests that use it skip, with the reason,
    when the server cannot be reached. Mark such tests ``@pytest.mark.postgresql``.
``postgresql_table``
    A factory: ``postgresql_table(frame)`` copies a pandas frame into a uniquely named table
    of that server (with ``COPY``) and returns its name; every table is dropped afterwards.
``spark``
    One local ``SparkSession`` per test process (``local[2]``, no UI, few shuffle partitions),
    as ethica's Spark engine would start it. Mark such tests ``@pytest.mark.spark``; put them
    in an ``xdist_group`` so that a run with ``--dist loadgroup`` starts Spark only once.
"""

from __future__ import annotations

import math
import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest

POSTGRESQL_URL_VARIABLE = "ETHICA_TEST_POSTGRESQL_URL"
DEFAULT_POSTGRESQL_URL = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture(scope="session")
def postgresql_url() -> str:
    """URL of the PostgreSQL test server; skips the test when it is unreachable."""
    url = os.environ.get(POSTGRESQL_URL_VARIABLE, DEFAULT_POSTGRESQL_URL)
    psycopg = pytest.importorskip("psycopg", reason="psycopg is not installed")
    try:
        with psycopg.connect(url, connect_timeout=3) as connection:
            connection.execute("SELECT 1")
    except psycopg.Error as error:
        pytest.skip(f"PostgreSQL is unreachable at {url} (set {POSTGRESQL_URL_VARIABLE}): {error}")
    return url


@pytest.fixture
def postgresql_table(postgresql_url: str) -> Iterator[Callable[[pd.DataFrame], str]]:
    """Factory copying a pandas frame into a fresh table; drops every table it made."""
    import psycopg
    from psycopg import sql

    made: list[str] = []

    def load(frame: pd.DataFrame) -> str:
        name = f"ethica_test_{uuid.uuid4().hex[:16]}"
        columns = sql.SQL(", ").join(
            sql.SQL("{} {}").format(sql.Identifier(str(c)), sql.SQL(_postgresql_type(frame[c])))
            for c in frame.columns
        )
        names = sql.SQL(", ").join(sql.Identifier(str(c)) for c in frame.columns)
        with psycopg.connect(postgresql_url) as connection, connection.cursor() as cursor:
            cursor.execute(sql.SQL("CREATE TABLE {} ({})").format(sql.Identifier(name), columns))
            made.append(name)
            copy = sql.SQL("COPY {} ({}) FROM STDIN").format(sql.Identifier(name), names)
            with cursor.copy(copy) as writer:
                for row in frame.itertuples(index=False, name=None):
                    writer.write_row([_plain(value) for value in row])
        return name

    yield load
    with psycopg.connect(postgresql_url, autocommit=True) as connection:
        for name in made:
            connection.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def spark() -> Any:
    """A local SparkSession for the whole test process; skips when Spark cannot start."""
    pytest.importorskip("pyspark", reason="pyspark is not installed")
    from ethica.engines._spark import local_session
    from ethica.errors import EngineError

    try:
        session = local_session("local[2]", app_name="ethica-tests")
    except EngineError as error:
        pytest.skip(str(error))
    session.sparkContext.setLogLevel("ERROR")
    # Test tables are small: two partitions (one per core) instead of the engine's default.
    session.conf.set("spark.sql.shuffle.partitions", "2")
    yield session
    session.stop()


def _postgresql_type(column: pd.Series[Any]) -> str:
    kind = column.dtype.kind
    present = column.dropna()
    if kind == "b" or (len(present) and all(isinstance(v, bool | np.bool_) for v in present)):
        return "BOOLEAN"
    if kind in "iu":
        return "BIGINT"
    if kind == "f":
        return "DOUBLE PRECISION"
    if kind == "M":
        return "TIMESTAMPTZ" if getattr(column.dtype, "tz", None) is not None else "TIMESTAMP"
    return "TEXT"


def _plain(value: Any) -> Any:
    """A Python value for COPY, with every kind of missing value as NULL."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value
