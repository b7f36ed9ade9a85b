"""Read and hash the second half of a long chain in a process of its own, for verification.

The process is started afresh, never forked: the fork of a process with threads (a server, a
test worker, a browser driver) holds whatever locks those threads held at that moment. It is
given connection parameters, not objects, and an environment without the service's secrets;
it imports the ledger library and the database driver only (no SQLAlchemy, no settings).

    python -m ethica.service.ledger.second_half   # a request on stdin, the answer on stdout
"""

from __future__ import annotations

import itertools
import json
import os
import sqlite3
import subprocess
import sys
import threading
import weakref
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from ethica.ledger import HalfTask, ParallelReading, StoredEntry

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

RECORDS_QUERY = (
    "SELECT sequence, recorded_at, kind, subject, public, sealed_nonce, sealed_ciphertext, "
    "key_id, previous_hash, hash FROM ledger_entries "
    "WHERE chain = :chain AND sequence >= :start ORDER BY sequence"
)
"""The stored text of a chain's entries, as the ledger library hashes it (its StoredEntry
order), with ``:chain`` and ``:start`` parameters."""

_BATCH_ROWS = 500  # as ethica.service.ledger.reading.BATCH_ROWS, measured there
_SQLITE_MAP_BYTES = 1 << 32
# What the started process may see of this one's environment: where Python and its packages
# are, and the PostgreSQL client's own settings (a password file, SSL files). Nothing else.
_PASSED_ON = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")


def spawned_reading(session: Session) -> ParallelReading | None:
    """Read a long chain's second half in a started process, from the session's database.

    The first process starts now: it imports what it needs and connects while this one reads
    the heads and checks their signatures, and waits for its task (a process never given one
    ends when the reading is collected). None when the database cannot be opened a second
    time (SQLite in memory, another driver).
    """
    database = connection_parameters(session)
    if database is None:
        return None
    ready = [_start(database)]

    def begin(task: HalfTask) -> Callable[[], bytes | None]:
        child = ready.pop() if ready else _start(database)
        request = json.dumps(task.to_json()).encode() + b"\n"
        # A long request would fill the pipe before the process reads it: this process must
        # not wait for that, it has the first half to read.
        sender = threading.Thread(target=_send, args=(child, request), daemon=True)
        sender.start()

        def wait() -> bytes | None:
            assert child.stdout is not None
            with child.stdout:
                answer = child.stdout.read()
            sender.join()
            return answer if child.wait() == 0 and answer else None

        return wait

    weakref.finalize(begin, _end_unused, ready)
    return ParallelReading(begin)


def _start(database: dict[str, Any]) -> subprocess.Popen[bytes]:
    """Start a process that connects to ``database``, then waits for a task on its stdin."""
    child = subprocess.Popen(
        [sys.executable, "-m", __name__],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=_environment(),
    )
    assert child.stdin is not None
    try:  # one short line: the pipe holds it
        child.stdin.write(json.dumps(database).encode() + b"\n")
        child.stdin.flush()
    except BrokenPipeError:  # it ended already; waiting for it tells the failure
        pass
    return child


def _end_unused(ready: list[subprocess.Popen[bytes]]) -> None:
    """End a started process that was never given a task: no task, it reads no database."""
    for child in ready:
        for pipe in (child.stdin, child.stdout):
            if pipe is not None:
                pipe.close()
        child.kill()
        child.wait()
    ready.clear()


def connection_parameters(session: Session) -> dict[str, Any] | None:
    """What opens the session's database again: a SQLite file, or PostgreSQL's parameters."""
    connection = session.connection()
    dbapi: Any = connection.connection.dbapi_connection
    if connection.dialect.name == "sqlite":
        files = {name: path for _, name, path in dbapi.execute("PRAGMA database_list")}
        return {"sqlite": files["main"]} if files.get("main") else None
    if connection.dialect.name == "postgresql" and connection.dialect.driver == "psycopg":
        parameters = dict(dbapi.info.get_parameters())
        if dbapi.info.password:
            parameters["password"] = dbapi.info.password
        return {"postgresql": parameters}
    return None


def connect(database: dict[str, Any]) -> Any:
    """Open ``database`` (the parameters :func:`connection_parameters` gave) from this process."""
    if "sqlite" in database:
        connection = sqlite3.connect(database["sqlite"], timeout=30)
        connection.execute(f"PRAGMA mmap_size={_SQLITE_MAP_BYTES}")
        return connection
    import psycopg

    return psycopg.connect(**database["postgresql"])


def records(connection: Any, task: HalfTask) -> Iterator[StoredEntry]:
    """The task's records, read over ``connection`` (one of :func:`connect`)."""
    values = {"chain": task.chain, "start": task.start}
    if isinstance(connection, sqlite3.Connection):
        cursor = connection.execute(RECORDS_QUERY, values)
    else:
        cursor = connection.cursor(name="ethica_second_half")
        cursor.itersize = _BATCH_ROWS
        query = RECORDS_QUERY.replace(":chain", "%(chain)s").replace(":start", "%(start)s")
        cursor.execute(query, values)
    batches = iter(lambda: cursor.fetchmany(_BATCH_ROWS), [])
    return itertools.chain.from_iterable(batches)


def _send(child: subprocess.Popen[bytes], request: bytes) -> None:
    assert child.stdin is not None
    try:
        with child.stdin:
            child.stdin.write(request)
    except BrokenPipeError:  # the process ended early; waiting for it tells the failure
        pass


def _environment() -> dict[str, str]:
    passed = {k: v for k, v in os.environ.items() if k in _PASSED_ON or k.startswith("PG")}
    return passed | {"PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}


def main() -> None:
    """Connect, then answer one task: read the half, hash it, write the answer.

    The first line on stdin names the database, the second is the task; a process whose stdin
    ends before the task ends quietly.
    """
    connection = connect(json.loads(sys.stdin.buffer.readline()))
    line = sys.stdin.buffer.readline()
    if not line:
        return
    task = HalfTask.from_json(json.loads(line))
    sys.stdout.buffer.write(task.answer(records(connection, task)))


if __name__ == "__main__":
    main()
