"""After an erasure: make the database files drop what the erasure deleted or overwrote.

SQLite keeps deleted rows in its write-ahead log until a checkpoint, and in free pages until a
``VACUUM`` (``secure_delete`` zeroes most of them already); PostgreSQL keeps old row versions
in its data files until ``VACUUM`` and writes every change to ``pg_wal``. What stays behind,
and for how long, is documented in ``docs/erasure.md``; what each step did is returned so the
erasure request can record it.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

log = logging.getLogger("ethica.service.erasure")

ERASED_TABLES = (
    "subject_keys",
    "key_epochs",
    "protected_values",
    "concerns",
    "appeals",
    "reviews",
    "consent_records",
    "objections",
    "rights_requests",
    "notifications",
    "webhook_attempts",
)
"""Tables an erasure deletes from or overwrites (beside ``decisions``, which it unlinks)."""

CHECKPOINT_ATTEMPTS = 20
"""Tries of SQLite's truncating checkpoint while a reader still uses the log (0.1 s apart)."""


def compact_after_erasure(engine: Engine) -> dict[str, Any]:
    """Checkpoint and vacuum ``engine``'s database after an erasure; returns what was done."""
    name = engine.url.get_backend_name()
    if name == "sqlite":
        return _compact_sqlite(engine)
    if name == "postgresql":
        return _compact_postgresql(engine)
    return {}


def _compact_sqlite(engine: Engine) -> dict[str, Any]:
    if engine.url.database in (None, "", ":memory:"):
        return {}
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        _truncate_log(connection)
        connection.exec_driver_sql("VACUUM")  # rebuilds the file: no page keeps old rows
        truncated = _truncate_log(connection)  # VACUUM itself went through the log
    return {"wal_truncated": truncated, "vacuumed": True}


def _truncate_log(connection: Any) -> bool:
    """Copy the whole log into the database and empty it; False if readers kept it busy."""
    for _ in range(CHECKPOINT_ATTEMPTS):
        busy, *_ = connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
        if not busy:
            return True
        time.sleep(0.1)
    log.warning("the write-ahead log stayed in use; the next erasure or checkpoint empties it")
    return False


SNAPSHOT_WAIT_SECONDS = 10.0
"""How long PostgreSQL's compaction waits for transactions older than the erasure to end."""

# Transactions of this database whose snapshot is older than ``:xmax`` (the next transaction
# id when the wait began): VACUUM must keep every row version such a snapshot may still read.
_OLDER_SNAPSHOTS = text(
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
    "AND pid <> pg_backend_pid() AND ("
    "age(backend_xmin) > age(CAST(:xmax AS xid)) OR age(backend_xid) > age(CAST(:xmax AS xid)))"
)
_NEXT_XID = text(
    "SELECT CAST(CAST(CAST(pg_snapshot_xmax(pg_current_snapshot()) AS text) AS numeric) "
    "% 4294967296 AS text)"
)


def _compact_postgresql(engine: Engine) -> dict[str, Any]:
    done: dict[str, Any] = {}
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        done["older_snapshots_ended"] = _wait_for_older_snapshots(connection)
        # FULL rewrites each table into a new file and removes the old one; these tables are
        # small beside ``decisions``, which a plain VACUUM frees without locking the gateway.
        tables = ", ".join(ERASED_TABLES)
        done["vacuum_full"] = _try(connection, f"VACUUM (FULL) {tables}")
        done["vacuum"] = _try(connection, "VACUUM decisions")
        # A checkpoint lets PostgreSQL recycle the WAL segments written before it; but not
        # the segment being written, which holds the erasure's own changes and the row
        # versions just before. Closing it (pg_switch_wal) and checkpointing again moves the
        # redo point past it, so it too may be recycled (docs/erasure.md: for how long not).
        done["checkpoint"] = _try(connection, "CHECKPOINT")
        done["wal_switched"] = done["checkpoint"] and _try(connection, "SELECT pg_switch_wal()")
        if done["wal_switched"]:
            done["checkpoint_after_switch"] = _try(connection, "CHECKPOINT")
    return done


def _wait_for_older_snapshots(connection: Any) -> bool:
    """Wait (up to SNAPSHOT_WAIT_SECONDS) until no transaction can still see erased rows."""
    xmax = connection.execute(_NEXT_XID).scalar()
    deadline = time.monotonic() + SNAPSHOT_WAIT_SECONDS
    while connection.execute(_OLDER_SNAPSHOTS, {"xmax": xmax}).scalar():
        if time.monotonic() > deadline:
            log.warning(
                "a transaction older than the erasure is still open: VACUUM keeps the rows it "
                "may read until the next VACUUM"
            )
            return False
        time.sleep(0.1)
    return True


def _try(connection: Any, statement: str) -> bool:
    try:
        connection.exec_driver_sql(statement)
    except DBAPIError as error:  # e.g. CHECKPOINT without pg_checkpoint, pg_switch_wal unGRANTed
        log.warning("after an erasure, %s failed: %s", statement.split(" (")[0], error)
        return False
    return True
