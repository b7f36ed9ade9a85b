"""The ledger writer's group commit: keys declared by the jobs of a group are looked up together."""

from __future__ import annotations

import os
import queue
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from ethica.ledger import KeyRing, Ledger
from ethica.service.db import make_engine, session_factory, upgrade
from ethica.service.ledger.store import SqlEntryStore, SqlKeyStore, row_entry
from ethica.service.ledger.tables import LedgerEntry, SubjectKey
from ethica.service.ledger.writer import Batch, LedgerWriter, collect_arriving

MASTER = os.urandom(32)


@pytest.fixture
def sessions(database_url: str) -> Iterator[sessionmaker[Session]]:
    engine: Engine = make_engine(database_url)
    upgrade(engine)
    yield session_factory(engine)
    engine.dispose()


def _seal(subject: str, value: int) -> Callable[[Batch], int]:
    def job(batch: Batch) -> int:
        entry = batch.ledger.append(
            "note", chain="notes", subject=subject, personal={"value": value}
        )
        return entry.sequence

    return job


def _keys(sessions: sessionmaker[Session]) -> dict[str, str]:
    with sessions() as session:
        rows = session.execute(select(SubjectKey.subject, SubjectKey.key_id))
        return {row.subject: row.key_id for row in rows}


def test_a_group_reuses_stored_keys_and_creates_missing_ones(
    sessions: sessionmaker[Session],
) -> None:
    first = LedgerWriter(sessions, MASTER)
    first.submit(_seal("stored", 0), savepoint=False, keys=["stored"]).result()
    first.close()
    stored_key = _keys(sessions)["stored"]

    # A new writer has nothing cached; a long wait puts every job in one group.
    writer = LedgerWriter(sessions, MASTER, wait_seconds=0.2)
    futures = [
        writer.submit(_seal("stored", 1), savepoint=False, keys=["stored"]),
        writer.submit(_seal("new", 2), savepoint=False, keys=["new", "stored"]),
        writer.submit(_seal("new", 3), savepoint=False, keys=["new"]),
        writer.submit(_seal("undeclared", 4), savepoint=False),
    ]
    assert [f.result(timeout=30) for f in futures] == [1, 2, 3, 4]
    writer.close()

    keys = _keys(sessions)
    assert sorted(keys) == ["new", "stored", "undeclared"]
    assert keys["stored"] == stored_key  # found in the table, not replaced
    with sessions() as session:
        keyring = KeyRing(MASTER, store=SqlKeyStore(session))
        rows = session.scalars(select(LedgerEntry).order_by(LedgerEntry.sequence)).all()
        opened = [(row.subject, row.key_id, keyring.open(row_entry(row))) for row in rows]
    assert opened == [
        ("stored", stored_key, {"value": 0}),
        ("stored", stored_key, {"value": 1}),
        ("new", keys["new"], {"value": 2}),
        ("new", keys["new"], {"value": 3}),
        ("undeclared", keys["undeclared"], {"value": 4}),
    ]


def _append_to_partition(batch: Batch) -> tuple[str, int]:
    entry = batch.ledger.append("note", chain=batch.partition("credit"), public={"n": 1})
    return entry.chain, entry.sequence


def test_each_live_writer_appends_to_its_own_shard_of_a_chain(
    sessions: sessionmaker[Session],
) -> None:
    first = LedgerWriter(sessions, MASTER, partitioned=True)
    second = LedgerWriter(sessions, MASTER, partitioned=True)
    try:
        assert first.run(_append_to_partition) == ("credit", 0)
        assert second.run(_append_to_partition) == ("credit/1", 0)
        assert first.run(_append_to_partition) == ("credit", 1)
    finally:
        first.close()
    # Shard 0 is free again: the next writer takes it and continues its chain.
    third = LedgerWriter(sessions, MASTER, partitioned=True)
    try:
        assert third.run(_append_to_partition) == ("credit", 2)
        assert second.run(_append_to_partition) == ("credit/1", 1)
    finally:
        third.close()
        second.close()
    # A writer that is not partitioned (the command line's) appends to the chain itself.
    plain = LedgerWriter(sessions, MASTER)
    try:
        assert plain.run(_append_to_partition) == ("credit", 3)
    finally:
        plain.close()


def _append_alert(batch: Batch) -> int:
    return batch.ledger.append("monitoring_alert", chain="credit", public={"rule": "gap"}).sequence


def test_a_writer_continues_a_chain_another_writer_appended_to(
    sessions: sessionmaker[Session],
) -> None:
    # The service's writer and the monitor's (another process, or the CLI) share the chain:
    # each keeps the head it last wrote in memory, and the other's append makes it stale.
    service = LedgerWriter(sessions, MASTER)
    monitor = LedgerWriter(sessions, MASTER)
    try:
        assert service.run(_append_alert) == 0
        assert monitor.run(_append_alert) == 1
        assert service.run(_append_alert) == 2  # not a conflict: the head is read again
        assert monitor.run(_append_alert) == 3
        assert service.run(_seal("someone", 5)) == 0  # another chain, unaffected
    finally:
        service.close()
        monitor.close()
    with sessions() as session:
        rows = session.scalars(
            select(LedgerEntry).where(LedgerEntry.chain == "credit").order_by(LedgerEntry.sequence)
        ).all()
    entries = [row_entry(row) for row in rows]
    assert [e.sequence for e in entries] == [0, 1, 2, 3]
    # Each entry links to the one before it as stored, so the chain still verifies.
    assert [e.previous_hash for e in entries[1:]] == [e.hash for e in entries[:-1]]
    with sessions() as session:
        report = Ledger(store=SqlEntryStore(session)).verify()
    assert report.ok, report


def test_collecting_arrivals_takes_what_came_and_stops_when_a_pause_brings_nothing() -> None:
    source: queue.SimpleQueue[int | None] = queue.SimpleQueue()
    for item in range(5):
        source.put(item)
    group = [-1]
    assert collect_arriving(source, group, limit=10, pause=0.0001, most=60.0) is False
    assert group == [-1, 0, 1, 2, 3, 4]
    assert source.empty()


def test_collecting_arrivals_keeps_to_the_limit_and_sees_the_stop_marker() -> None:
    source: queue.SimpleQueue[int | None] = queue.SimpleQueue()
    for item in range(5):
        source.put(item)
    group: list[int | None] = []
    assert collect_arriving(source, group, limit=3, pause=0.0001, most=60.0) is False
    assert group == [0, 1, 2]
    source.put(None)
    assert collect_arriving(source, group, limit=10, pause=0.0001, most=60.0) is True
    assert group == [0, 1, 2, 3, 4]


def test_collecting_arrivals_without_time_to_wait_takes_nothing() -> None:
    source: queue.SimpleQueue[int | None] = queue.SimpleQueue()
    source.put(1)
    group: list[int | None] = []
    assert collect_arriving(source, group, limit=10, pause=0.0001, most=0.0) is False
    assert group == []
