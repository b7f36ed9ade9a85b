"""The ledger writer: one thread that commits ledger-affecting work in groups (group commit).

Every change that appends to the ledger (a decision, an outcome, a review action, a consent
change) is a job run by this thread. Jobs that arrive together share one transaction and one
durable commit, so a burst of concurrent decisions costs one fsync, not one each; every caller
gets its answer only after the commit that holds its work. One writer per process also keeps
each chain's head in memory, so appends never re-read it.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ethica.ledger import Entry, KeyRing, Ledger, MasterKey, WrappedKey
from ethica.service.ledger.store import SqlEntryStore, SqlKeyStore, entry_row
from ethica.service.ledger.tables import LedgerEntry

log = logging.getLogger("ethica.service.ledger")
T = TypeVar("T")


@dataclass
class Batch:
    """What the jobs of one group write, beyond their own statements: rows inserted at the end."""

    session: Session
    ledger: Ledger
    rows: dict[Any, list[dict[str, Any]]] = field(default_factory=dict)

    def insert_later(self, table: Any, row: dict[str, Any]) -> None:
        """Queue a row for one multi-row insert when the group commits (ordered by table)."""
        self.rows.setdefault(table, []).append(row)


Job = Callable[[Batch], T]


class _BatchEntryStore:
    """Entries of a group: heads served from memory, rows inserted with the group."""

    def __init__(self, session: Session, heads: dict[str, Entry | None], batch_rows: list[dict[str, Any]]) -> None:
        self._sql = SqlEntryStore(session)
        self._heads = heads
        self._rows = batch_rows

    def append(self, entry: Entry) -> None:
        self._rows.append(entry_row(entry))
        self._heads[entry.chain] = entry

    def entries(self, chain: str) -> Iterator[Entry]:
        return self._sql.entries(chain)

    def head(self, chain: str) -> Entry | None:
        if chain not in self._heads:
            self._heads[chain] = self._sql.head(chain)
        return self._heads[chain]

    def chains(self) -> list[str]:
        return self._sql.chains()


class _CachedKeyStore:
    """Wrapped keys cached by subject; erasures go through :meth:`delete` here or the cache is dropped."""

    def __init__(self, inner: SqlKeyStore, cache: dict[str, WrappedKey]) -> None:
        self._inner = inner
        self._cache = cache

    def get(self, subject: str) -> WrappedKey | None:
        if subject in self._cache:
            return self._cache[subject]
        key = self._inner.get(subject)
        if key is not None:
            self._cache[subject] = key
        return key

    def put(self, subject: str, key: WrappedKey) -> None:
        self._inner.put(subject, key)

    def delete(self, subject: str) -> bool:
        self._cache.pop(subject, None)
        return self._inner.delete(subject)


class LedgerWriter:
    """Runs ledger jobs on one thread, committing each group of jobs once."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        master_key: bytes,
        *,
        max_group: int = 256,
        wait_seconds: float = 0.001,
        after_commit: Callable[[Session, dict[str, Entry | None]], None] | None = None,
    ) -> None:
        self._sessions = sessions
        self._master = MasterKey(master_key)
        self._max_group = max_group
        self._wait = wait_seconds
        self._after_commit = after_commit
        self._queue: queue.Queue[tuple[Job[Any], Future[Any]] | None] = queue.Queue()
        self._heads: dict[str, Entry | None] = {}
        self._keys: dict[str, WrappedKey] = {}
        self._thread = threading.Thread(target=self._run, name="ethica-ledger-writer", daemon=True)
        self._thread.start()

    def submit(self, job: Job[T]) -> Future[T]:
        """Queue a job; its future resolves after the commit that holds its work."""
        future: Future[T] = Future()
        self._queue.put((job, future))
        return future

    def run(self, job: Job[T]) -> T:
        """Run a job and wait for its commit."""
        return self.submit(job).result()

    def forget_key(self, subject: str) -> None:
        """Drop a cached key (after an erasure made elsewhere)."""
        self.submit(lambda batch: self._keys.pop(subject, None)).result()

    def close(self) -> None:
        """Finish queued jobs and stop the thread."""
        self._queue.put(None)
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            group = [first]
            stop = self._collect(group)
            self._commit(group)
            if stop:
                return

    def _collect(self, group: list[tuple[Job[Any], Future[Any]]]) -> bool:
        while len(group) < self._max_group:
            try:
                item = self._queue.get(timeout=self._wait) if self._wait else self._queue.get_nowait()
            except queue.Empty:
                return False
            if item is None:
                return True
            group.append(item)
        return False

    def _commit(self, group: list[tuple[Job[Any], Future[Any]]]) -> None:
        heads = dict(self._heads)
        results: list[tuple[Future[Any], Any, BaseException | None]] = []
        session = self._sessions()
        try:
            batch = self._batch(session, heads)
            for job, future in group:
                results.append(self._run_job(batch, job, future, heads))
            self._flush(batch)
            session.commit()
        except IntegrityError:
            session.rollback()
            session.close()
            self._heads.clear()
            if len(group) > 1:
                for item in group:  # isolate the job that conflicts (e.g. another replica)
                    self._commit([item])
                return
            _, future = group[0]
            future.set_exception(_conflict())
            return
        except BaseException as error:  # the database failed: nobody's work was committed
            session.rollback()
            session.close()
            self._heads.clear()
            log.exception("ledger group failed")
            for _, future in group:
                if not future.done():
                    future.set_exception(error)
            return
        self._heads = heads
        if self._after_commit is not None:
            try:
                self._after_commit(session, heads)
                session.commit()
            except Exception:  # checkpoints are retried with the next group
                session.rollback()
                log.exception("ledger checkpoint failed")
        session.close()
        for future, value, failure in results:
            if failure is not None:
                future.set_exception(failure)
            else:
                future.set_result(value)

    def _batch(self, session: Session, heads: dict[str, Entry | None]) -> Batch:
        rows: list[dict[str, Any]] = []
        keyring = KeyRing(self._master, store=_CachedKeyStore(SqlKeyStore(session), self._keys))
        ledger = Ledger(store=_BatchEntryStore(session, heads, rows), keyring=keyring)
        batch = Batch(session, ledger)
        batch.rows[LedgerEntry] = rows
        return batch

    def _run_job(
        self, batch: Batch, job: Job[Any], future: Future[Any], heads: dict[str, Entry | None]
    ) -> tuple[Future[Any], Any, BaseException | None]:
        """Run one job in a savepoint: a job that fails leaves no trace in the group."""
        saved_heads = dict(heads)
        saved_rows = {table: len(rows) for table, rows in batch.rows.items()}
        savepoint = batch.session.begin_nested()
        try:
            value = job(batch)
            savepoint.commit()
            return future, value, None
        except Exception as error:
            savepoint.rollback()
            heads.clear()
            heads.update(saved_heads)
            for table, rows in batch.rows.items():
                del rows[saved_rows.get(table, 0) :]
            return future, None, error

    def _flush(self, batch: Batch) -> None:
        session = batch.session
        session.flush()
        ledger_rows = batch.rows.pop(LedgerEntry)
        for table, rows in batch.rows.items():
            if rows:
                session.execute(insert(table), rows)
        if ledger_rows:
            session.execute(insert(LedgerEntry), ledger_rows)


def _conflict() -> Exception:
    from ethica.service.errors import ConflictError

    return ConflictError("the write conflicted with another writer; retry the request")
