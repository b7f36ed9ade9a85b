"""Reading many rows fast: the driver's own tuples, fetched in large batches.

Verification reads every entry and every served row once. Through the ORM (or SQLAlchemy's
result rows) a row costs several microseconds, more than hashing it; here the statement goes
to the driver as it is, rows come back as the driver's tuples in batches of hundreds
(PostgreSQL: a server-side cursor, so memory stays flat), and SQLite reads its file through a
memory map instead of one system call per page.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy.orm import Session

BATCH_ROWS = 500
"""Rows per fetch: enough that per-fetch costs vanish, few enough that they stay in the CPU's
cache while they are hashed (10,000 rows of ~1 KB cost 0.6-1 us more per row to read and hash,
on SQLite and PostgreSQL alike, measured with ``bench/ledger_verify.py``)."""

_SQLITE_MAP_BYTES = 1 << 32  # the most SQLite maps (it maps no more than the file's size)
_NAMED = re.compile(r":(\w+)")
_cursor_names = itertools.count()


def read_rows(
    session: Session, statement: str, params: Mapping[str, Any] | None = None
) -> Iterator[tuple[Any, ...]]:
    """Return the rows of ``statement`` (``:name`` parameters) as the driver's tuples.

    Runs in the session's transaction, so it sees what the session sees. The batches are
    chained in C, without a Python frame per row; a reader that stops early closes the cursor
    when the iterator is collected.
    """
    return itertools.chain.from_iterable(read_batches(session, statement, params))


def read_batches(
    session: Session, statement: str, params: Mapping[str, Any] | None = None
) -> Iterator[Sequence[tuple[Any, ...]]]:
    """Yield the rows of ``statement`` in lists of up to :data:`BATCH_ROWS`."""
    connection = session.connection()
    dbapi = connection.connection.dbapi_connection
    if dbapi is None:
        raise RuntimeError("the session's connection is closed")
    values = dict(params or {})
    cursor: Any  # the driver's own: psycopg's named cursor has more than the DBAPI's
    if connection.dialect.name == "postgresql":
        sql = _NAMED.sub(r"%(\1)s", statement.replace("%", "%%"))
        cursor = dbapi.cursor(name=f"ethica_read_{next(_cursor_names)}")
        cursor.itersize = BATCH_ROWS
    else:
        sql = statement
        cursor = dbapi.cursor()
        if connection.dialect.name == "sqlite":
            cursor.execute(f"PRAGMA mmap_size={_SQLITE_MAP_BYTES}")
    try:
        cursor.execute(sql, values)
        while batch := cursor.fetchmany(BATCH_ROWS):
            yield batch
    finally:
        cursor.close()
