"""The ledger writer: one thread that commits ledger-affecting work in groups (group commit).

Every change that appends to the ledger (a decision, an outcome, a review action, a consent
change) is a job run by this thread, or, for a batch a caller gathered itself (the gateway's
decisions), by the caller's thread in its turn (:meth:`LedgerWriter.write_now`). Jobs that
arrive together share one transaction and one durable commit, so a burst of concurrent
decisions costs one fsync, not one each; every caller gets its answer only after the commit
that holds its work. One writer per process also keeps each chain's head in memory, so appends
never re-read it.

A writer created with ``partitioned=True`` (the gateway's) claims a shard of the chains
(:func:`~ethica.service.db.claim_shard`) before its first group, and appends decisions to its
own partition of each system's chain (:meth:`Batch.partition`): worker processes and replicas
then never contend for one head. The first writer holds shard 0, whose partitions are the plain
system chains.

Performance notes (measured with ``bench/gateway_load.py``): a new subject's wrapped data key is
cached and its row inserted with the group instead of one flush per key; the keys that the jobs
of a group declare (:meth:`LedgerWriter.submit`) are looked up in one query for the whole group;
queued rows go in as one multi-row Core insert per table (the ORM's bulk insert costs several
times more per row; see :func:`_insert`); jobs that write only through the :class:`Batch`
(decisions) skip the per-job savepoint, since undoing them is a matter of dropping their queued
rows, heads and cached keys.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import insert, inspect
from sqlalchemy.orm import Session, sessionmaker

from ethica.ledger import Entry, KeyRing, Ledger, MasterKey, WrappedKey
from ethica.service.db import ShardLease, claim_shard
from ethica.service.decisions.tables import ProtectedValue
from ethica.service.ledger.conflicts import check_epochs, conflict_error, retry_may_pass
from ethica.service.ledger.group_stores import CachedKeyStore, GroupEntryStore
from ethica.service.ledger.naming import resolve_request, subject_of_part
from ethica.service.ledger.seals import WriterSeal
from ethica.service.ledger.store import SqlKeyStore
from ethica.service.ledger.tables import LedgerEntry, SubjectKey

log = logging.getLogger("ethica.service.ledger")
T = TypeVar("T")


@dataclass
class Batch:
    """What the jobs of one group write, beyond their own statements: rows inserted at the end."""

    session: Session
    ledger: Ledger
    rows: dict[Any, list[dict[str, Any]]] = field(default_factory=dict)
    shard: int = 0
    #: The key names the group's prefetch resolved, by the request that named them
    #: (:func:`~ethica.service.ledger.naming.key_request`): a job need not resolve them again.
    resolved: dict[str, str] = field(default_factory=dict)

    def partition(self, chain: str) -> str:
        """This writer's partition of ``chain``: ``chain`` itself on shard 0, else ``chain/<n>``."""
        return chain if self.shard == 0 else f"{chain}/{self.shard}"

    def insert_later(self, table: Any, row: dict[str, Any]) -> None:
        """Queue a row for one multi-row insert when the group commits (ordered by table)."""
        self.rows.setdefault(table, []).append(row)


Job = Callable[[Batch], T]
# A job, its caller's future, whether to savepoint, the key subjects it will seal with.
_Item = tuple[Job[Any], Future[Any], bool, Sequence[str]]


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
        partitioned: bool = False,
    ) -> None:
        self._sessions = sessions
        self._partitioned = partitioned
        self._lease: ShardLease | None = None
        self._master = MasterKey(master_key)
        self._seal = WriterSeal(master_key)
        self._max_group = max_group
        self._wait = wait_seconds
        self._after_commit = after_commit
        self._queue: queue.Queue[_Item | None] = queue.Queue()
        self._heads: dict[str, Entry | None] = {}
        self._keys: dict[str, WrappedKey] = {}
        self._added: list[str] = []
        self._turn = threading.Lock()  # one group at a time: the thread's or a caller's
        self._thread = threading.Thread(target=self._run, name="ethica-ledger-writer", daemon=True)
        self._thread.start()

    def submit(self, job: Job[T], *, savepoint: bool = True, keys: Sequence[str] = ()) -> Future[T]:
        """Queue a job; its future resolves after the commit that holds its work.

        ``savepoint=False`` is for jobs that write only through the batch (``batch.ledger`` and
        ``batch.insert_later``), never with ``batch.session``: a failure is then undone without
        a savepoint, which saves two statements per job. ``keys`` names the key subjects the
        job will seal personal fields with: the group looks them up in one query instead of
        one query per job (a job may still seal with others; they are looked up one by one).
        They are named as :func:`~ethica.service.ledger.naming.key_request` names them (by
        subject id): the group resolves their pseudonyms first.
        """
        future: Future[T] = Future()
        self._queue.put((job, future, savepoint, keys))
        return future

    def write_now(self, jobs: Sequence[tuple[Job[Any], Sequence[str], Future[Any]]]) -> None:
        """Run jobs as one group committed on the caller's thread, resolving their futures.

        Each is a job that writes only through the batch (no savepoint), the key subjects it
        seals with, and the future that gets its result after the commit; one failing does not
        fail the others. For a caller that already gathered a batch (the gateway's decision
        thread): no hand-over to the writer thread and back, which under load cost more in
        passing the GIL between threads than the work itself. Groups of the writer thread and
        of callers take turns (one lock), so heads and cached keys stay consistent.
        """
        if jobs:
            group: list[_Item] = [(job, future, False, keys) for job, keys, future in jobs]
            with self._turn:
                self._commit(group)

    @property
    def sessions(self) -> sessionmaker[Session]:
        """The sessions the writer commits with."""
        return self._sessions

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
        if self._lease is not None:
            self._lease.release()

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            group = [first]
            stop = collect_queued(self._queue, group, limit=self._max_group, wait=self._wait)
            with self._turn:
                self._commit(group)
            if stop:
                return

    def _shard(self) -> int:
        if not self._partitioned:
            return 0
        if self._lease is None:
            bind = self._sessions.kw.get("bind")
            try:
                self._lease = claim_shard(bind) if bind is not None else ShardLease(0)
            except Exception:  # shard 0 is correct too, only contended
                log.exception("no shard of the ledger could be claimed; using shard 0")
                self._lease = ShardLease(0)
        return self._lease.number

    def _commit(self, group: list[_Item], *, retried: bool = False) -> None:
        heads = dict(self._heads)
        results: list[tuple[Future[Any], Any, BaseException | None]] = []
        session = self._sessions()
        try:
            if session.get_bind().dialect.name == "sqlite":
                # Python's sqlite3 opens a transaction only before a write: a job's SAVEPOINT
                # would start one of its own, and its RELEASE commit it, outside the group's
                # (a job of a group that is then rolled back and retried stayed committed).
                # A retry takes the write lock first (IMMEDIATE), waiting out the busy timeout:
                # one that read first would fail at once again when another process (an
                # erasure's compaction) committed since its read (SQLITE_BUSY_SNAPSHOT).
                session.connection().exec_driver_sql("BEGIN IMMEDIATE" if retried else "BEGIN")
            batch, keys = self._batch(session, heads)
            _prefetch(batch, keys, [request for item in group for request in item[3]])
            for job, future, savepoint, _ in group:
                results.append(self._run_job(batch, job, future, heads, savepoint=savepoint))
            self._flush(batch)
            session.commit()
        except BaseException as error:
            session.rollback()
            session.close()
            self._heads.clear()
            self._keys.clear()
            if not retry_may_pass(error):
                self._failed(group, error)
                return
            if not retried:
                # Most often another writer (a second process, the command line's monitor)
                # appended to one of our chains, so the heads we kept are stale: run the group
                # again on heads and keys read afresh. Nothing of the failed try was committed,
                # so each entry links to the chain's true last entry and nothing is written twice.
                self._commit(group, retried=True)
                return
            if len(group) > 1:
                for item in group:  # isolate the job that conflicts (e.g. another replica)
                    self._commit([item], retried=True)
                return
            future = group[0][1]
            future.set_exception(conflict_error())
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

    def _failed(self, group: list[_Item], error: BaseException) -> None:
        """The database failed the group: nobody's work was committed."""
        if len(group) > 1 and isinstance(error, Exception):
            # One job's data may be what the database refused: only that job should fail.
            log.warning("ledger group failed (%s); committing its jobs one by one", error)
            for item in group:
                self._commit([item])
            return
        log.exception("ledger group failed")
        for _, future, _, _ in group:
            if not future.done():
                future.set_exception(error)

    def _batch(
        self, session: Session, heads: dict[str, Entry | None]
    ) -> tuple[Batch, CachedKeyStore]:
        rows: list[dict[str, Any]] = []
        key_rows: list[dict[str, Any]] = []
        self._added = []
        store = CachedKeyStore(SqlKeyStore(session), self._keys, key_rows, self._added)
        keyring = KeyRing(self._master, store=store)
        entries = GroupEntryStore(session, heads, rows, self._seal)
        ledger = Ledger(store=entries, keyring=keyring)
        batch = Batch(session, ledger, shard=self._shard())
        batch.rows[SubjectKey] = key_rows  # before the entries sealed with them
        batch.rows[LedgerEntry] = rows
        return batch, store

    def _run_job(
        self,
        batch: Batch,
        job: Job[Any],
        future: Future[Any],
        heads: dict[str, Entry | None],
        *,
        savepoint: bool,
    ) -> tuple[Future[Any], Any, BaseException | None]:
        """Run one job (in a savepoint if asked): a job that fails leaves no trace in the group."""
        saved_heads = dict(heads)
        saved_rows = {table: len(rows) for table, rows in batch.rows.items()}
        saved_added = len(self._added)
        nested = batch.session.begin_nested() if savepoint else None
        try:
            value = job(batch)
            if nested is not None:
                nested.commit()
            return future, value, None
        except Exception as error:
            if nested is not None:
                nested.rollback()
            heads.clear()
            heads.update(saved_heads)
            for table, rows in batch.rows.items():
                del rows[saved_rows.get(table, 0) :]
            for subject in self._added[saved_added:]:
                self._keys.pop(subject, None)
            del self._added[saved_added:]
            return future, None, error

    def _flush(self, batch: Batch) -> None:
        batch.session.flush()
        connection = batch.session.connection()
        ledger_rows = batch.rows.pop(LedgerEntry)
        protected = batch.rows.pop(ProtectedValue, None)
        many = connection.dialect.insert_executemany_returning
        for table, rows in batch.rows.items():
            if rows:
                connection.execute(_insert(table, many), rows)
        if protected:
            # After the decisions' rows: on SQLite this transaction holds the write lock now.
            check_epochs(batch.session, protected)
            connection.execute(_insert(ProtectedValue, many), protected)
        if ledger_rows:
            connection.execute(_insert(LedgerEntry, many), ledger_rows)


def _prefetch(batch: Batch, keys: CachedKeyStore, requests: Sequence[str]) -> None:
    """Look up the keys a group's jobs declared: their subjects' pseudonym keys in one query,
    then the data keys named after those pseudonyms in one more.

    A subject without a pseudonym key gets one now (inserted with the group): their data
    keys, named after a pseudonym that did not exist, cannot exist either, so they cost no
    lookup.
    """
    keyring = batch.ledger.keyring
    keys.prefetch([name for name in requests if "#" not in name])  # a key named as it is
    requests = [request for request in requests if "#" in request]
    if not requests or keyring is None:
        return
    subjects = {request: subject_of_part(request.split("#", 1)[0]) for request in requests}
    key_names = {subject: keyring.pseudonym_key_name(subject) for subject in subjects.values()}
    keys.prefetch(list(key_names.values()))
    new = {subject for subject, name in key_names.items() if not keys.cached(name)}
    names = {request: resolve_request(keyring, request) for request in requests}
    keys.assume_absent([names[r] for r, subject in subjects.items() if subject in new])
    keys.prefetch(list(names.values()))
    batch.resolved.update(names)


def collect_queued(
    source: queue.Queue[Any] | queue.SimpleQueue[Any], group: list[Any], *, limit: int, wait: float
) -> bool:
    """Add to ``group`` what ``source`` holds within ``wait`` seconds, up to ``limit`` items.

    The wait is one deadline for the group, not one per item: under load, items that keep
    arriving must not hold back those already here. Return True when the stop marker
    (``None``) came: the caller finishes the group, then stops.
    """
    deadline = time.monotonic() + wait
    while len(group) < limit:
        left = deadline - time.monotonic()
        try:
            item = source.get(timeout=left) if left > 0 else source.get_nowait()
        except queue.Empty:
            return False
        if item is None:
            return True
        group.append(item)
    return False


def collect_arriving(
    source: queue.Queue[Any] | queue.SimpleQueue[Any],
    group: list[Any],
    *,
    limit: int,
    pause: float,
    most: float,
) -> bool:
    """Add to ``group`` what keeps arriving in ``source``: pause, take what came, and again.

    The wait ends when a pause brings nothing (arrivals stopped), after ``most`` seconds, or at
    ``limit`` items. Pausing (not waiting on the queue) lets the threads that put items run
    without being interrupted at each one. Return True when the stop marker (``None``) came.
    """
    deadline = time.monotonic() + most
    while len(group) < limit:
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        time.sleep(min(pause, left))
        before = len(group)
        if collect_queued(source, group, limit=limit, wait=0.0):
            return True
        if len(group) == before:
            return False
    return False


@cache
def _insert(table: Any, multirow: bool) -> Any:
    """An insert of ``table``; ``multirow`` where the database has INSERT … RETURNING for many
    rows: RETURNING then makes SQLAlchemy send one statement per page of rows
    ("insertmanyvalues"), not one per row.

    SQLite's driver releases the GIL for every statement step, and a plain executemany steps
    once per row. Under load each release waits for the thread serving HTTP to give the GIL
    back (up to the 5 ms switch interval): 50 rows took 83 ms beside a busy thread, against
    6 ms as one multi-row statement. On PostgreSQL it saves the round trips. SQLite before
    3.35 has no RETURNING, so there the rows go in one step each, as before.
    """
    statement = insert(table)
    return statement.returning(*inspect(table).primary_key) if multirow else statement
