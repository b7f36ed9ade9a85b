"""SQLite's write-ahead log is checkpointed by a thread of its own, not by commits."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from sqlalchemy import create_engine, text

from ethica.service.db import make_engine
from ethica.service.wal import WalCheckpoints

MEGABYTE = 1 << 20


def test_commits_leave_checkpoints_to_the_checkpoint_thread(tmp_path: Path) -> None:
    path = tmp_path / "wal.db"
    engine = make_engine(f"sqlite:///{path}", background_checkpoints=True)
    with engine.begin() as connection:
        assert connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
        connection.execute(text("CREATE TABLE t (x INTEGER)"))
    for start in range(0, 3000, 100):  # well past the 1000 pages that would checkpoint
        with engine.begin() as connection:
            connection.execute(
                text("INSERT INTO t VALUES (:x)"),
                [{"x": x} for x in range(start, start + 100)],
            )
            connection.execute(text("INSERT INTO t SELECT zeroblob(4000) FROM t LIMIT 40"))
    log = path.with_name("wal.db-wal")
    # Everything is still in the log: no commit copied it into the database file.
    assert path.stat().st_size < MEGABYTE < 4 * MEGABYTE < log.stat().st_size
    checkpoints = WalCheckpoints.start_for(engine, every_seconds=0.05)
    assert checkpoints is not None
    deadline = time.monotonic() + 30
    while path.stat().st_size < 4 * MEGABYTE and time.monotonic() < deadline:
        time.sleep(0.05)
    checkpoints.close()
    assert path.stat().st_size > 4 * MEGABYTE  # the thread copied the log in
    busy, logged, copied = checkpoints.checkpoint()
    assert busy == 0 and logged == copied
    engine.dispose()
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT count(*) FROM t").fetchone()[0] == 4200


def test_other_engines_keep_sqlite_checkpointing_on_commit(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'plain.db'}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 1000
    assert WalCheckpoints.start_for(make_engine("sqlite://", background_checkpoints=True)) is None
    postgresql = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    assert WalCheckpoints.start_for(postgresql) is None
    engine.dispose()
