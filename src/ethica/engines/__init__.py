"""Where count tables are aggregated: in memory, in DuckDB, in PostgreSQL or in Apache Spark.

Every engine runs the same :class:`Aggregation` (a group-by with counts and sums) and returns
the same table, so an audit gives identical results wherever the data lives.

Importing this package loads neither pandas nor an engine's driver: the command line starts
DuckDB's query first and loads pandas while DuckDB aggregates.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ethica._lazy import lazy_attributes
from ethica.engines._aggregation import (
    Aggregation,
    Apply,
    Col,
    ColumnProfile,
    Expr,
    SqlQuery,
    binned,
)
from ethica.engines._registry import Engine, get_engine

if TYPE_CHECKING:
    from ethica.engines._duckdb import DuckDBEngine
    from ethica.engines._memory import MemoryEngine

_WHERE = {"DuckDBEngine": "_duckdb", "MemoryEngine": "_memory"}

__all__ = [
    "Aggregation",
    "Apply",
    "Col",
    "ColumnProfile",
    "DuckDBEngine",
    "Engine",
    "Expr",
    "MemoryEngine",
    "SqlQuery",
    "binned",
    "get_engine",
]

__getattr__, __dir__ = lazy_attributes("ethica.engines", _WHERE, globals(), __all__)
