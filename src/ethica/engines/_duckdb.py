"""The DuckDB engine: the default for files (Parquet, CSV) and for tables of any size.

DuckDB streams Parquet and CSV files through its group-by, so an audit of a file larger than
memory stays within the engine's memory limit.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from ethica.engines._aggregation import Aggregation, ColumnProfile, SqlQuery
from ethica.engines._sql import DUCKDB, aggregation_sql, profile_row, profile_sql
from ethica.errors import EngineError, InputError

if TYPE_CHECKING:
    import pandas as pd

_VIEW = "ethica_source"
_FILE_READERS = {
    ".parquet": "read_parquet",
    ".pq": "read_parquet",
    ".csv": "read_csv_auto",
    ".tsv": "read_csv_auto",
    ".gz": "read_csv_auto",
    ".json": "read_json_auto",
    ".jsonl": "read_json_auto",
    ".ndjson": "read_json_auto",
}


class DuckDBEngine:
    """Aggregate in DuckDB: in-memory tables, Parquet/CSV/JSON files, or tables of a database file.

    Parameters
    ----------
    database
        A DuckDB database file whose tables can be audited by name; in-memory when omitted.
    memory_limit
        DuckDB's memory limit (e.g. ``"2GB"``); DuckDB spills to disk beyond it.
    threads
        Worker threads; DuckDB's default (one per core) when omitted.
    """

    name = "duckdb"

    def __init__(
        self,
        database: str | None = None,
        *,
        memory_limit: str | None = None,
        threads: int | None = None,
    ) -> None:
        self._connection = duckdb.connect(database or ":memory:", read_only=database is not None)
        # The bar would draw on a terminal's stderr in the middle of the command line's output.
        self._connection.execute("SET enable_progress_bar = false")
        if memory_limit is not None:
            self._connection.execute(f"SET memory_limit = '{memory_limit}'")
        if threads is not None:
            self._connection.execute(f"SET threads = {int(threads)}")
        self._lock = threading.Lock()
        #: A query run ahead by :meth:`prefetch`: the relation, the aggregation, its result.
        self._prefetched: tuple[str, Aggregation, duckdb.DuckDBPyConnection] | None = None

    def columns(self, source: Any) -> list[str]:
        """Column names of ``source``."""
        with self._lock:
            return self._describe(self._source_sql(source))

    def profile(
        self, source: Any, column: str, *, distinct: bool = True, distinct_limit: int | None = None
    ) -> ColumnProfile:
        """Rows, non-null values, range and (when asked) distinct values of ``column``."""
        with self._lock:
            relation = self._source_sql(source)
            self._require(relation, {column})
            sql = profile_sql(
                column, relation, DUCKDB, distinct=distinct, distinct_limit=distinct_limit
            )
            row = self._run(sql).fetchall()
        return profile_row(row[0])

    def aggregate(self, source: Any, aggregation: Aggregation) -> pd.DataFrame:
        """Run ``aggregation`` over ``source`` in DuckDB (or take the result of its prefetch)."""
        with self._lock:
            relation = self._source_sql(source)
            ahead, self._prefetched = self._prefetched, None
            if isinstance(source, (str, Path)) and ahead and ahead[:2] == (relation, aggregation):
                return self._frame(ahead[2])
            self._require(relation, aggregation.columns())
            return self._frame(self._run(aggregation_sql(aggregation, relation, DUCKDB)))

    def prefetch(self, source: str | Path, aggregation: Aggregation) -> None:
        """Run ``aggregation`` over a file or table now, for the next :meth:`aggregate` to take.

        DuckDB lets go of the GIL while it aggregates, so a caller with other work does it
        meanwhile in another thread (the command line loads pandas and the assessment). The
        result waits on a connection of its own, while this one answers other questions.
        """
        with self._lock:
            relation = self._source_sql(source)
            self._require(relation, aggregation.columns())
            cursor = self._connection.cursor()
            cursor.execute("SET enable_progress_bar = false")
            self._run(aggregation_sql(aggregation, relation, DUCKDB), cursor)
            self._prefetched = (relation, aggregation, cursor)

    def batches(self, source: Any, columns: Sequence[str], *, rows: int = 1 << 20) -> Iterator[Any]:
        """Stream ``columns`` of ``source`` as Arrow record batches of at most ``rows`` rows.

        For counts no ``GROUP BY`` makes cheaply (e.g. many histograms of one scan): DuckDB
        reads and decodes once, and the caller counts each batch as it comes.
        """
        with self._lock:
            relation = self._source_sql(source)
            self._require(relation, set(columns))
            names = ", ".join(DUCKDB.identifier(name) for name in columns)
            try:
                reader = self._connection.sql(f"SELECT {names} FROM {relation} AS t")
                yield from reader.to_arrow_reader(rows)
            except duckdb.Error as error:
                raise EngineError(f"DuckDB could not read the rows: {error}") from error

    def _frame(self, result: duckdb.DuckDBPyConnection) -> pd.DataFrame:
        """Return a query's result as pandas, its text columns by way of Arrow.

        DuckDB's own conversion makes a Python string of every text value (a count table's
        group names: three per cell, some 220,000 at 10^7 scored rows), which pandas
        then turns into its own text column again; Arrow hands the text over as it is. The
        other columns keep DuckDB's conversion (nullable integers, decimals as floats).
        """
        import pandas as pd

        with warnings.catch_warnings():
            # "makes an extra copy of the rows": of the cells of a count table, not the data's.
            warnings.filterwarnings("ignore", "Arrow output", UserWarning)
            # to_arrow_table since DuckDB 1.4; fetch_arrow_table before.
            to_arrow = getattr(result, "to_arrow_table", None) or result.fetch_arrow_table  # type: ignore[attr-defined]
            table = to_arrow()
        names = table.column_names
        # A column with no text at all (no rows, or every value NULL) is an object column in
        # DuckDB's conversion, not a text column: it stays with DuckDB.
        text = [
            i
            for i, f in enumerate(table.schema)
            if str(f.type) in ("string", "large_string")
            and table.column(i).null_count < table.num_rows
        ]
        others = table.select([i for i in range(len(names)) if i not in text])
        frame = self._connection.from_arrow(others).df() if others.num_columns else None
        if frame is None:
            frame = pd.DataFrame(index=pd.RangeIndex(table.num_rows))
        for i in text:
            frame.insert(i, names[i], table.column(i).to_pandas())
        return frame

    def _describe(self, relation: str) -> list[str]:
        described = self._run(f"DESCRIBE SELECT * FROM {relation}").fetchall()
        return [str(row[0]) for row in described]

    def _require(self, relation: str, needed: set[str]) -> None:
        # DuckDB's own message for a missing column names the wrong thing (a GROUP BY alias).
        available = self._describe(relation)
        missing = sorted(needed - set(available))
        if missing:
            raise InputError(f"column(s) {missing} not found; the input has {available[:30]}")

    def _run(
        self, sql: str, connection: duckdb.DuckDBPyConnection | None = None
    ) -> duckdb.DuckDBPyConnection:
        try:
            return (connection or self._connection).execute(sql)
        except duckdb.CatalogException as error:
            raise InputError(f"DuckDB has no such table: {error}") from error
        except duckdb.ConversionException as error:
            raise InputError(f"a column the audit sums must be numeric: {error}") from error
        except duckdb.Error as error:
            raise EngineError(f"DuckDB could not run the audit query: {error}") from error

    def _source_sql(self, source: Any) -> str:
        if isinstance(source, SqlQuery):
            return f"({source.sql})"
        if isinstance(source, (str, Path)):
            return self._path_or_table(str(source))
        try:
            self._connection.register(_VIEW, source)
        except (duckdb.Error, TypeError, ValueError) as error:
            raise InputError(
                f"DuckDB cannot read a {type(source).__name__}; pass a pandas, polars or pyarrow "
                "table, a Parquet/CSV file path, or a table name"
            ) from error
        return _VIEW

    def _path_or_table(self, text: str) -> str:
        path = Path(text)
        suffix = path.suffix.lower()
        if suffix in _FILE_READERS or any(ch in text for ch in "*?"):
            if not any(ch in text for ch in "*?") and not path.exists():
                raise InputError(f"no such file: {text}")
            reader = _FILE_READERS.get(suffix, "read_parquet")
            return f"{reader}('{text.replace(chr(39), chr(39) * 2)}')"
        if path.exists():
            raise InputError(
                f"cannot tell the format of {text}: name it .parquet, .csv, .tsv or .json"
            )
        return ".".join(DUCKDB.identifier(part) for part in text.split("."))
