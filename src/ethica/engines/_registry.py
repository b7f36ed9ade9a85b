"""Choosing an engine by name or URL, and the protocol every engine follows."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from ethica.engines._aggregation import Aggregation, ColumnProfile
from ethica.errors import InputError

if TYPE_CHECKING:
    import pandas as pd


@runtime_checkable
class Engine(Protocol):
    """Where a count table is aggregated: in memory, DuckDB, PostgreSQL or Spark."""

    name: str

    def columns(self, source: Any) -> list[str]:
        """Column names of ``source``."""

    def profile(
        self, source: Any, column: str, *, distinct: bool = True, distinct_limit: int | None = None
    ) -> ColumnProfile:
        """Range and (when ``distinct``) cardinality of one column of ``source``.

        With ``distinct_limit``, distinct values are counted up to ``distinct_limit + 1`` only.
        """

    def aggregate(self, source: Any, aggregation: Aggregation) -> pd.DataFrame:
        """One row per non-empty cell: the key columns, ``n`` and the sums."""


def get_engine(engine: str | Engine, source: Any = None) -> Engine:
    """Resolve an engine name (``"auto"``, ``"memory"``, ``"duckdb"``, ``"spark"``) or URL.

    ``"auto"`` picks DuckDB for files and table names and the in-memory engine for tables that
    are already in memory. A ``postgresql://`` URL selects the PostgreSQL engine on that database
    and a ``duckdb:///path.db`` URL a DuckDB database file.
    """
    if not isinstance(engine, str):
        return engine
    from ethica.engines._duckdb import DuckDBEngine
    from ethica.engines._memory import MemoryEngine

    if engine == "auto":
        if isinstance(source, (str, Path)) or _is_spark_frame(source):
            return get_engine("spark" if _is_spark_frame(source) else "duckdb")
        return MemoryEngine()
    if engine == "memory":
        return MemoryEngine()
    if engine == "duckdb":
        return DuckDBEngine()
    if engine.startswith("duckdb:///"):
        return DuckDBEngine(engine.removeprefix("duckdb:///"))
    if engine.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
        from ethica.engines._postgresql import PostgreSQLEngine

        return PostgreSQLEngine(engine)
    if engine == "spark":
        from ethica.engines._spark import SparkEngine

        return SparkEngine()
    raise InputError(
        f"unknown engine {engine!r}: use 'memory', 'duckdb', 'spark', a postgresql:// URL or a "
        "duckdb:///file.db URL"
    )


def _is_spark_frame(source: Any) -> bool:
    return type(source).__module__.startswith("pyspark.")
