"""Where count tables are aggregated: in memory, in DuckDB, in PostgreSQL or in Apache Spark.

Every engine runs the same :class:`Aggregation` (a group-by with counts and sums) and returns
the same table, so an audit gives identical results wherever the data lives.
"""

from ethica.engines._aggregation import (
    Aggregation,
    Apply,
    Col,
    ColumnProfile,
    Expr,
    SqlQuery,
    binned,
)
from ethica.engines._duckdb import DuckDBEngine
from ethica.engines._memory import MemoryEngine
from ethica.engines._registry import Engine, get_engine

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
