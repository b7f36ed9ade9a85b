"""Database engine, typed table base, session-per-request (one commit), and migrations.

SQLite runs in WAL mode with ``synchronous=FULL``: a commit is on disk before it returns, so
what the gateway answered survives a crash. PostgreSQL is used through psycopg 3.

:func:`claim_shard` gives each process that records decisions its own partition of the ledger's
chains, so that several worker processes (or replicas) append without contending for one head.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, Engine, MetaData, String, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import StaticPool
from sqlalchemy.types import TypeDecorator

from ethica._gil import random_uuid

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Base of every table; portable column types only (SQLite and PostgreSQL)."""

    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every database (SQLite stores naive text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("timestamps must be timezone-aware")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def new_id() -> str:
    """A new random identifier (UUID4 as text, portable)."""
    return str(random_uuid())


def utcnow() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


ID = String(36)


def make_engine(url: str, *, echo: bool = False, background_checkpoints: bool = False) -> Engine:
    """An engine for ``url`` with the pragmas the service relies on.

    ``background_checkpoints`` (SQLite): commits never checkpoint the write-ahead log
    themselves; a :class:`~ethica.service.wal.WalCheckpoints` thread must, or the log grows.
    """
    url = _driver(url)
    if url.startswith("sqlite"):
        memory = url in ("sqlite://", "sqlite:///:memory:")
        engine = create_engine(
            url,
            echo=echo,
            connect_args={"check_same_thread": False, "timeout": 30},
            poolclass=StaticPool if memory else None,
        )
        pragmas = functools.partial(_sqlite_pragmas, autocheckpoint=not background_checkpoints)
        event.listen(engine, "connect", pragmas)
        return engine
    return create_engine(url, echo=echo, pool_size=10, max_overflow=20, pool_pre_ping=True)


def _driver(url: str) -> str:
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def _sqlite_pragmas(connection: Any, _record: Any, *, autocheckpoint: bool = True) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    if not autocheckpoint:
        # Otherwise the commit that fills the log copies it into the database and syncs it:
        # tens of milliseconds for everyone waiting on that commit, every few thousand rows.
        cursor.execute("PRAGMA wal_autocheckpoint=0")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # Erasure and retention delete personal data: overwrite it on disk, not just free the space
    # (Debian builds SQLite with this on; other builds do not).
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def beside_database_file(database_url: str, suffix: str) -> Path | None:
    """``<database file><suffix>`` for a SQLite database file; None for any other database."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return Path(f"{url.database}{suffix}")
    return None


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that never expire objects on commit (responses are built after commit)."""
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction: commit once at the end, roll back everything on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest migration (Alembic)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


MAX_SHARDS = 64
"""Most processes that hold a shard of the ledger's chains at once; more share shard 0."""
_ADVISORY_LOCK_BASE = 0x65746869_00000000  # "ethi": keeps clear of other advisory lock users


@dataclass
class ShardLease:
    """A shard of the ledger's chains that this process alone appends to while it holds it."""

    number: int
    _release: Callable[[], None] = lambda: None

    def release(self) -> None:
        """Give the shard back (also done by the operating system when the process dies)."""
        release, self._release = self._release, lambda: None
        release()


def claim_shard(engine: Engine) -> ShardLease:
    """The lowest shard that no other live writer holds.

    A lock file next to a SQLite database (``<file>.shard-<n>.lock``, ``flock``), a session
    advisory lock on PostgreSQL; an in-memory database, or every shard taken, gives shard 0.
    A lease only spreads the appends: two writers on one chain stay correct (the chain's unique
    ``(chain, sequence)`` makes the later one retry on the new head), just slower.
    """
    if engine.dialect.name == "postgresql":
        return _advisory_shard(engine)
    database = engine.url.database
    if engine.dialect.name == "sqlite" and database and database != ":memory:":
        return _file_shard(database)
    return ShardLease(0)


def _file_shard(database: str) -> ShardLease:
    try:
        import fcntl
    except ImportError:  # not a POSIX system
        return ShardLease(0)
    for number in range(MAX_SHARDS):
        handle = os.open(f"{database}.shard-{number}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(handle)
            continue
        return ShardLease(number, functools.partial(os.close, handle))
    return ShardLease(0)


def _advisory_shard(engine: Engine) -> ShardLease:
    connection = engine.connect()  # held for the lease: the lock lives as long as its session
    for number in range(MAX_SHARDS):
        key = _ADVISORY_LOCK_BASE + number
        taken = connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key})
        if taken.scalar():
            connection.commit()  # the session-level lock outlives the transaction

            def release(key: int = key) -> None:
                with contextlib.suppress(Exception):  # a lost connection released it already
                    connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                    connection.commit()
                connection.close()

            return ShardLease(number, release)
    connection.close()
    return ShardLease(0)
