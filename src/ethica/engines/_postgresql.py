"""The PostgreSQL engine: audits a table (such as the service's decision log) where it lives."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ethica.engines._aggregation import Aggregation, ColumnProfile, SqlQuery
from ethica.engines._sql import (
    POSTGRESQL,
    aggregation_sql,
    hashes_cells,
    profile_row,
    profile_sql,
)
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
        sql = aggregation_sql(aggregation, self._table(source), POSTGRESQL)
        hashed = hashes_cells(aggregation, POSTGRESQL)
        rows, names = self._fetch(sql, settings=(HASHED_CELLS,) if hashed else ())
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

    def batches(self, source: Any, columns: Sequence[str], *, rows: int = 1 << 20) -> Iterator[Any]:
        """Stream numeric ``columns`` of ``source`` as Arrow batches of doubles (NULL as NaN).

        For counts no ``GROUP BY`` makes cheaply (many histograms of one scan, which
        PostgreSQL hashes at several hundred nanoseconds a value): one binary ``COPY``, where
        the server only reads and sends, and the caller counts each batch with numpy.
        """
        table = self._table(source)
        names = [POSTGRESQL.identifier(c) for c in columns]
        kinds = self._types(f"SELECT {', '.join(names)} FROM {table} AS t LIMIT 0")
        # REAL stays four bytes on the wire (its double is exact); anything else is cast, as
        # the in-memory engine reads every number as a double. NULL becomes NaN, so that each
        # row has the same length and a batch is one fixed-width numpy record array.
        values = [
            f"COALESCE({name}, CAST('NaN' AS REAL))"
            if kind == _REAL
            else f"COALESCE(CAST({name} AS DOUBLE PRECISION), CAST('NaN' AS DOUBLE PRECISION))"
            for name, kind in zip(names, kinds, strict=True)
        ]
        layout = copy_layout([">f4" if kind == _REAL else ">f8" for kind in kinds])
        sql = f"COPY (SELECT {', '.join(values)} FROM {table} AS t) TO STDOUT (FORMAT binary)"
        import pyarrow  # type: ignore[import-untyped]  # DuckDB's batches are Arrow's too

        for read in self._copied(sql, layout, rows):
            arrays = [pyarrow.array(values) for values in read]
            yield pyarrow.RecordBatch.from_arrays(arrays, names=list(columns))

    def _copied(
        self, sql: str, layout: np.dtype[Any], rows: int
    ) -> Iterator[list[np.ndarray[Any, np.dtype[np.float64]]]]:
        """Run a binary ``COPY ... TO STDOUT``; yield its columns as doubles, ``rows`` at most.

        libpq hands over one message per row: psycopg's ``Copy.read`` spends about a
        microsecond of Python on each, the bare libpq loop half that (10^7 rows: 5 s).
        """
        psycopg = self._psycopg
        # A buffer of a few megabytes is reused from batch to batch; a larger one would be
        # new memory each time, as costly to fault in as to fill.
        batch = min(rows, max(1, COPY_BATCH_BYTES // layout.itemsize)) * layout.itemsize
        try:
            with psycopg.connect(self.url, autocommit=True) as connection:
                pgconn = connection.pgconn
                encoding = connection.info.encoding
                started = pgconn.exec_(sql.encode())
                if started.status != psycopg.pq.ExecStatus.COPY_OUT:
                    raise psycopg.errors.error_from_result(started, encoding=encoding)
                buffer, start = bytearray(), -1
                try:
                    while (got := pgconn.get_copy_data(0))[0] > 0:
                        buffer += got[1]
                        if start < 0 and len(buffer) >= COPY_HEADER.itemsize:
                            start = copy_header_size(buffer)
                        if start >= 0 and len(buffer) - start >= batch:
                            yield _records(buffer, start, layout)
                            start = 0
                except BaseException:
                    # Mid-COPY (an error, or the caller stopped reading): the connection can
                    # take no other command, not even psycopg's rollback; close it as it is.
                    pgconn.finish()
                    raise
                finished = pgconn.get_result()
                while pgconn.get_result() is not None:
                    pass
                if finished is None or finished.status != psycopg.pq.ExecStatus.COMMAND_OK:
                    raise psycopg.errors.error_from_result(finished or started, encoding=encoding)
        except psycopg.Error as error:
            raise self._error(error) from error
        if start < 0 or not buffer.endswith(COPY_TRAILER):
            raise EngineError("PostgreSQL's binary COPY ended without its trailer")
        del buffer[-len(COPY_TRAILER) :]
        yield _records(buffer, start, layout)
        if buffer:
            raise EngineError("PostgreSQL's binary COPY ended in the middle of a row")

    def _types(self, sql: str) -> list[int]:
        psycopg = self._psycopg
        try:
            with psycopg.connect(self.url) as connection, connection.cursor() as cursor:
                cursor.execute(sql)
                return [c.type_code for c in cursor.description or []]
        except psycopg.Error as error:
            raise self._error(error) from error

    def _error(self, error: Exception) -> Exception:
        errors = self._psycopg.errors
        if isinstance(error, errors.UndefinedTable):
            return InputError(f"PostgreSQL has no such table: {error}".strip())
        if isinstance(error, errors.UndefinedColumn):
            return InputError(f"PostgreSQL has no such column: {error}".strip())
        if isinstance(error, (errors.DataError, errors.CannotCoerce)):
            return InputError(f"a column read as numbers must hold numbers: {error}".strip())
        return EngineError(f"PostgreSQL could not read the rows: {error}")

    def _table(self, source: Any) -> str:
        if isinstance(source, SqlQuery):
            return f"({source.sql})"
        if not isinstance(source, str) or not source:
            raise InputError(
                "the PostgreSQL engine audits a table or view by name (e.g. 'public.decisions'); "
                f"got a {type(source).__name__}"
            )
        return ".".join(POSTGRESQL.identifier(part) for part in source.split("."))

    def _fetch(
        self, sql: str, *, settings: Sequence[str] = ()
    ) -> tuple[list[tuple[Any, ...]], list[str]]:
        psycopg = self._psycopg
        try:
            with psycopg.connect(self.url) as connection, connection.cursor() as cursor:
                for setting in settings:
                    cursor.execute(setting)
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


#: Set first, for the hashed cells' statement only (in its transaction; see ``hashes_cells``):
#: sorting discouraged, and JIT's thresholds raised by what discourages it. PostgreSQL before
#: 18 adds 10^10 to a disabled sort's cost (18 counts disabled nodes apart), which would
#: otherwise compile and optimise every such statement with LLVM: 0.4 s of server CPU on one
#: day of 10^5 decisions, which it counts in 0.2 s; at 10^7 the optimisation pays (5.8 -> 4.2 s).
HASHED_CELLS = """SELECT set_config('enable_sort', 'off', true), set_config(name,
    CASE WHEN current_setting(name)::float8 < 0
           OR current_setting('server_version_num')::int >= 180000
         THEN current_setting(name)
         ELSE (current_setting(name)::float8 + 1e10)::text END, true)
  FROM unnest(ARRAY['jit_above_cost', 'jit_inline_above_cost', 'jit_optimize_above_cost'])
    AS name"""
#: Bytes of COPY data parsed at a time (at most).
COPY_BATCH_BYTES = 8 << 20
#: PostgreSQL's type identifier of REAL (four-byte floats).
_REAL = 700
#: A binary COPY's signature, flags and header-extension length; a row count of -1 ends it.
COPY_HEADER = np.dtype([("signature", "S11"), ("flags", ">i4"), ("extension", ">i4")])
COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
COPY_TRAILER = b"\xff\xff"


def copy_layout(values: Sequence[str]) -> np.dtype[Any]:
    """One binary COPY row of fixed-width values: a field count, then each length and value."""
    fields: list[tuple[str, str]] = [("fields", ">i2")]
    for i, kind in enumerate(values):
        fields += [(f"n{i}", ">i4"), (f"v{i}", kind)]
    return np.dtype(fields)


def copy_header_size(buffer: bytearray) -> int:
    """Bytes of a binary COPY's header (checked), where its first row starts."""
    header = np.frombuffer(buffer, COPY_HEADER, count=1)[0]
    if bytes(buffer[: len(COPY_SIGNATURE)]) != COPY_SIGNATURE:
        raise EngineError("PostgreSQL's COPY did not answer in its binary format")
    return COPY_HEADER.itemsize + int(header["extension"])


def _records(
    buffer: bytearray, start: int, layout: np.dtype[Any]
) -> list[np.ndarray[Any, np.dtype[np.float64]]]:
    """Each value's column, as doubles, of the whole rows of ``buffer`` from ``start``.

    Only the rest of a row stays in ``buffer``. Every value has a fixed width (no NULL: the
    query made them NaN), which each row's field count and lengths confirm.
    """
    count = (len(buffer) - start) // layout.itemsize
    records = np.frombuffer(buffer, layout, count=count, offset=start)
    widths = len(layout.names or ()) // 2
    if count and (records["fields"] != widths).any():
        raise EngineError("PostgreSQL's COPY sent rows of another shape than asked for")
    for i in range(widths):
        if count and (records[f"n{i}"] != layout[f"v{i}"].itemsize).any():
            raise EngineError("PostgreSQL's COPY sent a value of another width than asked for")
    values = [records[f"v{i}"].astype(np.float64) for i in range(widths)]
    del records  # the view into the buffer, which may not shrink while it is there
    del buffer[: start + count * layout.itemsize]
    return values
