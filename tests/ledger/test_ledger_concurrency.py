"""Concurrent appends: gap-free chains, and chains that do not wait for each other."""

from __future__ import annotations

import threading
from collections.abc import Iterator

from ethica.ledger import (
    Entry,
    KeyRing,
    Ledger,
    MasterKey,
    MemoryEntryStore,
    SequenceConflictError,
)

APPENDS_PER_THREAD = 40


def test_four_threads_on_two_chains_make_gap_free_chains_that_verify() -> None:
    ledger = Ledger(keyring=KeyRing(MasterKey.generate()))
    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            start.wait()
            for i in range(APPENDS_PER_THREAD):
                ledger.append(
                    "decision",
                    chain=f"system-{worker % 2}",
                    # Two threads share a subject, so its key is created under contention.
                    subject=f"subject-{i % 3}",
                    public={"worker": worker, "i": i},
                    personal={"note": f"{worker}/{i}"},
                )
        except BaseException as error:  # collected: a thread's exception is otherwise lost
            errors.append(error)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert ledger.chains() == ["system-0", "system-1"]
    for chain in ledger.chains():
        entries = list(ledger.entries(chain))
        assert [e.sequence for e in entries] == list(range(2 * APPENDS_PER_THREAD))
        expected_workers = {0, 2} if chain == "system-0" else {1, 3}
        assert {e.public["worker"] for e in entries} == expected_workers
    report = ledger.verify()
    assert report.ok, str(report)
    assert report.entries_checked == 4 * APPENDS_PER_THREAD
    keyring = ledger.keyring
    assert keyring is not None
    for entry in ledger.entries("system-1"):
        assert keyring.open(entry) == {"note": f"{entry.public['worker']}/{entry.public['i']}"}


class StallingStore(MemoryEntryStore):
    """Holds every append to one chain until released, like a slow disk on one partition."""

    def __init__(self, stalled_chain: str) -> None:
        super().__init__()
        self.stalled_chain = stalled_chain
        self.entered = threading.Event()
        self.release = threading.Event()

    def append(self, entry: Entry) -> None:
        if entry.chain == self.stalled_chain:
            self.entered.set()
            assert self.release.wait(timeout=30)
        super().append(entry)


def test_a_stalled_chain_does_not_block_another_chain() -> None:
    store = StallingStore("slow")
    ledger = Ledger(store=store)
    slow = threading.Thread(target=ledger.append, args=("decision",), kwargs={"chain": "slow"})
    slow.start()
    assert store.entered.wait(timeout=10)
    fast = threading.Thread(target=ledger.append, args=("decision",), kwargs={"chain": "fast"})
    fast.start()
    fast.join(timeout=10)
    finished_while_stalled = not fast.is_alive()
    store.release.set()
    slow.join(timeout=10)
    assert finished_while_stalled
    assert [e.chain for e in store.entries("fast")] == ["fast"]
    assert [e.sequence for e in store.entries("slow")] == [0]


class RacingStore(MemoryEntryStore):
    """Lets a writer from 'another process' take the next sequence once, before ours lands."""

    def __init__(self) -> None:
        super().__init__()
        self.rival: Ledger | None = None
        self.conflicts = 0

    def append(self, entry: Entry) -> None:
        if self.rival is not None:
            rival, self.rival = self.rival, None
            rival.append("review", chain=entry.chain, public={"by": "rival"})
        try:
            super().append(entry)
        except SequenceConflictError:
            self.conflicts += 1
            raise

    def entries(self, chain: str) -> Iterator[Entry]:
        return super().entries(chain)


def test_append_retries_on_a_sequence_taken_by_another_writer() -> None:
    store = RacingStore()
    ours = Ledger(store=store)
    ours.append("decision", chain="c", public={"by": "us"})
    store.rival = Ledger(store=store)
    entry = ours.append("decision", chain="c", public={"by": "us"})
    assert store.conflicts == 1
    assert entry.sequence == 2
    assert [e.public["by"] for e in store.entries("c")] == ["us", "rival", "us"]
    assert ours.verify().ok
