"""The SQL store hands out the stored text that the library verifies, and keeps signed heads."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from service_testing import Service
from sqlalchemy import update

from ethica.ledger import (
    EMPTY_ROOT,
    Frontier,
    entry_record,
    generate_signing_key,
    sign_head,
    verify,
    verify_store,
)
from ethica.service.app import state_of
from ethica.service.db import unit_of_work
from ethica.service.ledger import reading
from ethica.service.ledger.store import SqlEntryStore, newest_heads, save_head, stored_heads
from ethica.service.ledger.tables import LedgerEntry


def _decided(service: Callable[..., Service], count: int) -> Service:
    running = service()
    running.register("credit")
    running.register("support")
    for i in range(count):
        body = {"subject_id": f"cust-{i % 3}", "features": {"income": 1000.0 + i}, "score": 0.6}
        assert running.decide("credit" if i % 2 else "support", body).status_code == 201
    return running


def test_records_are_the_entries_text_and_verify_alike(service: Callable[..., Service]) -> None:
    running = _decided(service, 9)
    key = generate_signing_key()
    with unit_of_work(state_of(running.app).sessions) as session:
        store = SqlEntryStore(session)
        assert store.chains() == ["credit", "support"]
        entries = list(store.entries("credit"))
        records = list(store.records("credit"))
        assert records == [entry_record(e) for e in entries]
        assert list(store.records("credit", start=2)) == records[2:]
        frontier = Frontier()
        for record in records[:3]:
            frontier.append(bytes.fromhex(record[-1]))
        # Signed right after the third entry was recorded, as the service would have.
        moment = datetime.fromisoformat(records[2][1]) + timedelta(microseconds=1)
        head = sign_head("credit", 3, frontier.root(), key, signed_at=moment)
        save_head(session, head)
        empty = sign_head("credit", 0, EMPTY_ROOT, key, signed_at=moment - timedelta(seconds=1))
        save_head(session, empty)
    with unit_of_work(state_of(running.app).sessions) as session:
        assert stored_heads(session, chain="credit") == [empty, head]
        assert newest_heads(session) == [head]
        heads = stored_heads(session)
        report = verify_store(SqlEntryStore(session), heads=heads, public_key=key.public_key())
        assert report.ok, str(report)
        assert report.entries_checked == 9
        assert report.progress["credit"].head == head
        session.execute(
            update(LedgerEntry)
            .where(LedgerEntry.chain == "credit", LedgerEntry.sequence == 1)
            .values(kind="review")
        )
    with unit_of_work(state_of(running.app).sessions) as session:
        store = SqlEntryStore(session)
        from_records = verify_store(store, public_key=key.public_key(), heads=[head])
        from_entries = verify(
            [e for chain in store.chains() for e in store.entries(chain)],
            public_key=key.public_key(),
            heads=[head],
        )
        problems = [(p.kind, p.chain, p.sequence) for p in from_records.problems]
        assert problems == [("edited", "credit", 1)]
        assert [(p.kind, p.chain, p.sequence) for p in from_entries.problems] == problems


def test_records_read_across_batches_and_a_reader_that_stops_early_leaves_no_cursor(
    service: Callable[..., Service], monkeypatch: pytest.MonkeyPatch
) -> None:
    running = _decided(service, 9)
    monkeypatch.setattr(reading, "BATCH_ROWS", 2)  # 9 entries: batches of 2, 2, 1 per chain
    with unit_of_work(state_of(running.app).sessions) as session:
        store = SqlEntryStore(session)
        expected = [entry_record(e) for e in store.entries("credit")]
        assert list(store.records("credit")) == expected
        assert list(store.records("credit", start=3)) == expected[3:]
        partial = store.records("credit")
        assert next(partial) == expected[0]
        del partial  # on PostgreSQL, a server-side cursor that must be closed
        assert [r[0] for r in store.records("support")] == list(range(5))
        assert verify_store(store).ok
