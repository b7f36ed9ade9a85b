"""DuckDB's results reach pandas with their text by way of Arrow: the same frame as ``df()``."""

from __future__ import annotations

import pandas as pd

from ethica.engines import DuckDBEngine

MIXED = """
SELECT * FROM (VALUES
    (1::INTEGER, 1.5::DECIMAL(10, 2), TRUE, 'x', DATE '2020-01-01', 1::UTINYINT, 2.0::DOUBLE),
    (NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    (3, 2.25, FALSE, 'y', DATE '2021-01-01', 3, NULL)
) AS t(i, d, flag, name, day, small, x)
"""


def test_a_result_is_the_frame_duckdb_would_give() -> None:
    engine = DuckDBEngine()
    connection = engine._connection
    expected = connection.execute(MIXED).df()
    actual = engine._frame(connection.execute(MIXED))
    pd.testing.assert_frame_equal(actual, expected)


def test_a_result_of_text_only_or_without_text() -> None:
    engine = DuckDBEngine()
    connection = engine._connection
    for sql in ("SELECT 'a' AS s, NULL::VARCHAR AS t", "SELECT 1 AS n", "SELECT 'a' AS s LIMIT 0"):
        pd.testing.assert_frame_equal(
            engine._frame(connection.execute(sql)), connection.execute(sql).df()
        )
