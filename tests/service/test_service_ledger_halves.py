"""A long chain verified in two halves on two processes reports exactly what one pass does.

The halves join only when both are whole; every tampering is then found by the one pass that
follows, so the report names it as always. Checked in memory (the second half in a thread) and
on SQLite and PostgreSQL, where the second half is read by a started process (never a fork) on
a connection of its own.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, delete, insert
from sqlalchemy.orm import Session

from ethica.ledger import (
    GENESIS_HASH,
    Frontier,
    HalfTask,
    MemoryEntryStore,
    ParallelReading,
    SignedHead,
    StoredEntry,
    VerificationReport,
    canonical_json,
    generate_signing_key,
    rfc3339,
    sign_head,
    stored_hash,
    verify_store,
)
from ethica.ledger import _verify as verification
from ethica.service.db import make_engine
from ethica.service.ledger.second_half import spawned_reading
from ethica.service.ledger.store import SqlEntryStore
from ethica.service.ledger.tables import LedgerEntry

CHAIN = "credit"
COUNT = 3000  # heads up to 3,000: the halves split at 1,024, the second crosses block 2,048
START = datetime(2026, 1, 1, tzinfo=UTC)
Chain = tuple[list[StoredEntry], list[SignedHead]]


def _draft(sequence: int, previous: str, *, subject: str | None = None) -> StoredEntry:
    return (
        sequence,
        rfc3339(START + timedelta(milliseconds=sequence + 1)),
        "decision",
        subject or f"subject-{sequence % 7}",
        canonical_json({"i": sequence, "outcome": "approved"}).decode(),
        "bm9uY2Vub25jZQ==",
        "Y2lwaGVydGV4dA==",
        f"key-{sequence % 7}",
        previous,
        "",
    )


def _hashed(records: list[StoredEntry], start: int, previous: str) -> list[StoredEntry]:
    """Records ``start`` on, each re-linked to ``previous`` and re-hashed (a forger's work)."""
    out = records[:start]
    for record in records[start:]:
        draft = (*record[:8], previous, "")
        previous = stored_hash(CHAIN, draft)
        out.append((*draft[:-1], previous))
    return out


def _heads(
    records: list[StoredEntry], key: Ed25519PrivateKey, every: int = 100
) -> list[SignedHead]:
    frontier, heads = Frontier(), []
    for record in records:
        frontier.append(bytes.fromhex(record[-1]))
        if frontier.size % 100 == 0:
            moment = datetime.fromisoformat(record[1]) + timedelta(microseconds=500)
            heads.append(sign_head(CHAIN, frontier.size, frontier.root(), key, signed_at=moment))
    return heads


@pytest.fixture(scope="module")
def key() -> Ed25519PrivateKey:
    return generate_signing_key()


@pytest.fixture(scope="module")
def chain(key: Ed25519PrivateKey) -> Chain:
    # One subject holds a quote: its entry is hashed the slow way, with every string escaped.
    drafts = [_draft(i, "", subject='o"brien' if i == 1500 else None) for i in range(COUNT)]
    records = _hashed(drafts, 0, GENESIS_HASH)
    return records, _heads(records, key)


def _edit(records: list[StoredEntry], at: int, column: int, value: str) -> list[StoredEntry]:
    changed = list(records[at])
    changed[column] = value
    return [*records[:at], tuple(changed), *records[at + 1 :]]  # type: ignore[list-item]


def _forged_append(records: list[StoredEntry], heads: list[SignedHead]) -> Chain:
    draft = _draft(COUNT, records[-1][-1])
    draft = (COUNT, records[10][1], *draft[2:])  # dated before the newest head was signed
    return [*records, (*draft[:-1], stored_hash(CHAIN, draft))], heads


SQL_TAMPERING: dict[str, Callable[[list[StoredEntry], list[SignedHead]], Chain]] = {
    "edited, first half": lambda r, h: (_edit(r, 700, 4, '{"i":1}'), h),
    "edited, second half": lambda r, h: (_edit(r, 2500, 6, "Zm9yZ2Vk"), h),
    "link edited where the halves meet": lambda r, h: (_edit(r, 1024, 8, "0" * 64), h),
    "deleted where the halves meet": lambda r, h: (r[:1024] + r[1025:], h),
    "deleted, second half": lambda r, h: (r[:2500] + r[2501:], h),
    "tail cut off": lambda r, h: (r[:2750], h),
    "tail rewritten and re-hashed": lambda r, h: (
        _hashed(_edit(r, 2100, 4, '{"i":0}'), 2100, r[2099][-1]),
        h,
    ),
    "forged entry appended": _forged_append,
}
TAMPERING = {
    **SQL_TAMPERING,
    "inserted, second half": lambda r, h: (r[:2000] + [r[1999]] + r[2000:], h),
    "reordered, second half": lambda r, h: (r[:1800] + [r[1801], r[1800]] + r[1802:], h),
}


def _reports(
    store: object, heads: list[SignedHead], key: Ed25519PrivateKey, reading: ParallelReading
) -> tuple[VerificationReport, VerificationReport]:
    public_key = key.public_key()
    # The halves first: the one pass after them reads on the same connection, which the
    # forked process must have left alone.
    halves = verify_store(store, heads=heads, public_key=public_key, parallel=reading)  # type: ignore[arg-type]
    one = verify_store(store, heads=heads, public_key=public_key)  # type: ignore[arg-type]
    return one, halves


@pytest.fixture
def one_passes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The chains verified in one pass (those the halves did not vouch for)."""
    passes: list[str] = []
    check_chain = verification.check_chain

    def counted(chain: str, *args: object) -> object:
        passes.append(chain)
        return check_chain(chain, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(verification, "check_chain", counted)
    return passes


def _memory(records: list[StoredEntry]) -> tuple[MemoryEntryStore, ParallelReading]:
    store = MemoryEntryStore()
    store.stored(CHAIN).extend(records)

    def begin(task: HalfTask) -> Callable[[], bytes | None]:
        answers: list[bytes] = []
        reader = threading.Thread(
            target=lambda: answers.append(task.answer(store.records(task.chain, start=task.start)))
        )
        reader.start()

        def wait() -> bytes | None:
            reader.join()
            return answers[0] if answers else None

        return wait

    return store, ParallelReading(begin, min_entries=1000)


def test_a_whole_chain_verifies_in_halves_with_the_same_report(
    chain: Chain, key: Ed25519PrivateKey, one_passes: list[str]
) -> None:
    records, heads = chain
    store, reading = _memory(records)
    one, halves = _reports(store, heads, key, reading)
    assert one.ok, str(one)
    assert one_passes == [CHAIN]  # only the call without ``parallel``
    assert halves == one
    assert halves.progress[CHAIN].head == heads[-1]
    assert halves.entries_checked == COUNT


def test_a_short_chain_takes_one_pass(
    chain: Chain, key: Ed25519PrivateKey, one_passes: list[str]
) -> None:
    records, heads = chain
    store, reading = _memory(records)
    _, halves = _reports(store, heads, key, replace(reading, min_entries=COUNT + 1))
    assert halves.ok
    assert one_passes == [CHAIN, CHAIN]


@pytest.mark.parametrize(("share", "start"), [(0.52, 1024), (0.2, 2048), (0.9, 0)])
def test_the_other_process_reads_its_share_from_a_block_boundary(
    share: float, start: int, chain: Chain, key: Ed25519PrivateKey, one_passes: list[str]
) -> None:
    records, heads = chain
    store, reading = _memory(records)
    starts: list[int] = []

    def begin(task: HalfTask) -> Callable[[], bytes | None]:
        starts.append(task.start)
        return reading.begin(task)

    one, halves = _reports(store, heads, key, replace(reading, begin=begin, second_share=share))
    # 3,000 covered: the first part is what the share leaves, rounded down to 1,024s; none
    # left (a share of 0.9) is one pass, as a short chain.
    assert starts == ([start] if start else [])
    assert halves == one
    assert one_passes == ([CHAIN] if start else [CHAIN, CHAIN])


@pytest.mark.parametrize("share", [0.0, 1.0, -0.5, 1.5])
def test_a_share_outside_zero_to_one_is_refused(share: float) -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        ParallelReading(lambda task: lambda: None, second_share=share)


@pytest.mark.parametrize("tampering", sorted(TAMPERING))
def test_every_tampering_is_named_as_one_pass_names_it(
    tampering: str, chain: Chain, key: Ed25519PrivateKey, one_passes: list[str]
) -> None:
    records, heads = TAMPERING[tampering](*chain)
    store, reading = _memory(records)
    one, halves = _reports(store, heads, key, reading)
    assert not one.ok
    assert halves == one
    assert one_passes == [CHAIN, CHAIN]  # the halves did not vouch: one pass named it


# --- SQLite and PostgreSQL: the second half read by a started process -------------------


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    LedgerEntry.__table__.create(engine, checkfirst=True)  # type: ignore[attr-defined]
    yield engine
    engine.dispose()


def _load(engine: Engine, records: list[StoredEntry]) -> None:
    # The table's columns after ``chain`` are the record's fields, in order.
    names = [c.name for c in LedgerEntry.__table__.columns][1:11]  # type: ignore[attr-defined]
    with engine.begin() as connection:
        connection.execute(delete(LedgerEntry))
        rows = [{"chain": CHAIN, **dict(zip(names, r, strict=True))} for r in records]
        connection.execute(insert(LedgerEntry), rows)


@pytest.mark.parametrize("tampering", [None, *sorted(SQL_TAMPERING)])
def test_sql_halves_report_what_one_pass_does(
    tampering: str | None,
    engine: Engine,
    chain: Chain,
    key: Ed25519PrivateKey,
    one_passes: list[str],
) -> None:
    records, heads = chain if tampering is None else SQL_TAMPERING[tampering](*chain)
    _load(engine, records)
    with Session(engine) as session:
        reading = spawned_reading(session)
        assert reading is not None
        one, halves = _reports(
            SqlEntryStore(session), heads, key, replace(reading, min_entries=1000)
        )
    assert one.ok is (tampering is None), str(one)
    assert halves == one
    assert one_passes == ([CHAIN] if tampering is None else [CHAIN, CHAIN])


_forks: list[int] = []
os.register_at_fork(before=lambda: _forks.append(os.getpid()))


def test_sql_halves_fork_nothing_while_other_threads_run(
    engine: Engine, chain: Chain, key: Ed25519PrivateKey, one_passes: list[str]
) -> None:
    """A process with threads (a server, a test worker) is never forked: a started one reads.

    A fork would copy this lock held by another thread, and the copy would stay held.
    """
    records, heads = chain
    _load(engine, records)
    held, stop = threading.Lock(), threading.Event()

    def busy() -> None:
        with held:
            while not stop.wait(0.001):
                pass

    worker = threading.Thread(target=busy)
    worker.start()
    forks_before = len(_forks)
    try:
        with Session(engine) as session:
            reading = spawned_reading(session)
            assert reading is not None
            one, halves = _reports(
                SqlEntryStore(session), heads, key, replace(reading, min_entries=1000)
            )
        assert held.locked() and worker.is_alive()
    finally:
        stop.set()
        worker.join()
    assert len(_forks) == forks_before
    assert one.ok, str(one)
    assert halves == one
    assert one_passes == [CHAIN]  # the halves vouched: the chain took no one pass


@pytest.mark.parametrize("failure", ["another chain", "no database"])
def test_a_second_half_that_fails_falls_back_to_one_pass(
    failure: str,
    engine: Engine,
    chain: Chain,
    key: Ed25519PrivateKey,
    one_passes: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ethica.service.ledger import second_half

    records, heads = chain
    _load(engine, records)
    if failure == "no database":  # the started process fails to connect, and exits with 1
        monkeypatch.setattr(
            second_half, "connection_parameters", lambda _: {"sqlite": "/nonexistent/x.db"}
        )
    with Session(engine) as session:
        reading = spawned_reading(session)
        assert reading is not None

        def begin(task: HalfTask) -> Callable[[], bytes | None]:
            if failure == "another chain":
                task = replace(task, chain="another")
            return reading.begin(task)

        one, halves = _reports(
            SqlEntryStore(session), heads, key, ParallelReading(begin, min_entries=1000)
        )
    assert one.ok, str(one)
    assert halves == one
    assert one_passes == [CHAIN, CHAIN]


def test_the_started_process_sees_no_secret_of_this_one(monkeypatch: pytest.MonkeyPatch) -> None:
    from ethica.service.ledger import second_half

    monkeypatch.setenv("ETHICA__APP__SECRET_KEY", "s" * 40)
    monkeypatch.setenv("ETHICA__LEDGER__MASTER_KEY", "m" * 44)
    passed = second_half._environment()  # noqa: SLF001 (what the started process is given)
    assert not [name for name in passed if name.startswith("ETHICA")]
    assert "PATH" in passed and "PYTHONPATH" in passed
