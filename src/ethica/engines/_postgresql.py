"""The PostgreSQL engine: audits a table (such as the service's decision log) where it lives."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ethica.engines._aggregation import Aggregation, ColumnProfile, SqlQuery
from ethica.engines._sql import POSTGRESQL, aggregation_sql, profile_row, profile_sql
from ethica.errors import EngineError, InputError


class PostgreSQLEngine:
    """Aggregate a table or view in PostgreSQL; only the count table crosses the network.

    Parameters
    ----------
    url
        A libpq connection string or ``postgresql://`` URL.
    """

    name = "postgresql"

    def __init__(self, url: str) -> None:
        try:
            import psycopg
        except ImportError as error:  # pragma: no cover - exercised without the extra
            raise EngineError(
                "the PostgreSQL engine needs psycopg: pip install 'ethica[postgresql]'"
            ) from error
        self._psycopg = psycopg
        self.url = url.replace("postgresql+psycopg://", "postgresql://", 1)

    def columns(self, source: Any) -> list[str]:
        """Column names of the table ``source``."""
        return self._fetch(f"SELECT * FROM {self._table(source)} AS t LIMIT 0")[1]

    def profile(
        self, source: Any, column: str, *, distinct: bool = True, distinct_limit: int | None = None
    ) -> ColumnProfile:
        """Rows, non-null values, range and (when asked) distinct values of ``column``."""
        table = self._table(source)
        sql = profile_sql(
            column, table, POSTGRESQL, distinct=distinct, distinct_limit=distinct_limit
        )
        return profile_row(self._fetch(sql)[0][0])

    def aggregate(self, source: Any, aggregation: Aggregation) -> pd.DataFrame:
        """Run ``aggregation`` over the table ``source`` in PostgreSQL."""
        rows, names = self._fetch(aggregation_sql(aggregation, self._table(source), POSTGRESQL))
        frame = pd.DataFrame(rows, columns=names)
        for name in aggregation.value_columns():
            frame[name] = frame[name].astype("float64")
        frame["n"] = frame["n"].astype("int64")
        return frame

    def rows(self, source: Any, columns: list[str]) -> pd.DataFrame:
        """Read ``columns`` of the table ``source`` (for work that needs rows, not counts)."""
        names = ", ".join(POSTGRESQL.identifier(c) for c in columns)
        rows, _ = self._fetch(f"SELECT {names} FROM {self._table(source)} AS t")
        return pd.DataFrame(rows, columns=columns)

    def _table(self, source: Any) -> str:
        if isinstance(source, SqlQuery):
            return f"({source.sql})"
        if not isinstance(source, str) or not source:
            raise InputError(
                "the PostgreSQL engine audits a table or view by name (e.g. 'public.decisions'); "
                f"got a {type(source).__name__}"
            )
        return ".".join(POSTGRESQL.identifier(part) for part in source.split("."))

    def _fetch(self, sql: str) -> tuple[list[tuple[Any, ...]], list[str]]:
        psycopg = self._psycopg
        try:
            with psycopg.connect(self.url) as connection, connection.cursor() as cursor:
                cursor.execute(sql)
                names = [c.name for c in cursor.description or []]
                rows = cursor.fetchall()
        except psycopg.errors.UndefinedTable as error:
            raise InputError(f"PostgreSQL has no such table: {error}".strip()) from error
        except psycopg.errors.UndefinedColumn as error:
            raise InputError(f"PostgreSQL has no such column: {error}".strip()) from error
        except psycopg.errors.DataError as error:
            raise InputError(f"a column the audit sums must be numeric: {error}".strip()) from error
        except psycopg.Error as error:
            raise EngineError(f"PostgreSQL could not run the audit query: {error}") from error
        return rows, names
