"""SQLite's write-ahead log, checkpointed by a thread of its own instead of by commits.

By default the commit that grows the log past a thousand pages copies the log into the database
file and syncs it, which holds up that commit (and the decisions waiting on it) for tens of
milliseconds. The service's engine turns that off (``make_engine(background_checkpoints=True)``)
and this thread checkpoints in ``PASSIVE`` mode instead: it copies what no reader still needs,
never waits for readers or writers, and leaves the rest to its next round. Durability does not
change: a commit is durable once it is in the log.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy import Engine

log = logging.getLogger("ethica.service.wal")


class WalCheckpoints:
    """Checkpoints a SQLite database's write-ahead log every ``every_seconds``.

    Use :meth:`start_for`, which starts one only for a SQLite database file.
    """

    def __init__(self, engine: Engine, *, every_seconds: float = 0.5) -> None:
        self._engine = engine
        self._every = every_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ethica-wal", daemon=True)

    @classmethod
    def start_for(cls, engine: Engine, *, every_seconds: float = 0.5) -> WalCheckpoints | None:
        """Start checkpointing ``engine``'s database; None when it is not a SQLite file."""
        url = engine.url
        if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
            return None
        checkpoints = cls(engine, every_seconds=every_seconds)
        checkpoints._thread.start()
        return checkpoints

    def checkpoint(self) -> tuple[int, int, int]:
        """Checkpoint once: (busy, frames in the log, frames checkpointed), as SQLite reports."""
        with self._engine.connect() as connection:
            row = connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").one()
        return int(row[0]), int(row[1]), int(row[2])

    def close(self) -> None:
        """Stop the thread, checkpointing once more."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.wait(self._every):
            self._round()
        self._round()

    def _round(self) -> None:
        try:
            self.checkpoint()
        except Exception:  # the next round tries again; commits are unaffected
            log.exception("checkpointing the write-ahead log failed")
