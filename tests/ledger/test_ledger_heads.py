"""Signed tree heads, witnesses, proofs and resumable verification catch every tampering."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ethica.errors import InputError
from ethica.ledger import (
    ChainProgress,
    ConsistencyProof,
    Entry,
    FileWitness,
    InclusionProof,
    KeyRing,
    Ledger,
    LedgerError,
    MasterKey,
    MemoryEntryStore,
    SignedHead,
    StoredEntry,
    VerificationReport,
    entry_hash,
    entry_record,
    generate_signing_key,
    sign_head,
    stored_hash,
    verify,
    verify_store,
)

CHAIN = "credit-limit"
KEY = generate_signing_key()
PUBLIC = KEY.public_key()


def _append(ledger: Ledger, count: int, *, chain: str = CHAIN) -> None:
    for i in range(count):
        ledger.append(
            "decision",
            chain=chain,
            subject=f"subject-{i % 3}",
            public={"outcome": "declined" if i % 3 else "approved", "i": i},
            personal={"income": 40_000 + i},
        )


@pytest.fixture
def store() -> MemoryEntryStore:
    return MemoryEntryStore()


@pytest.fixture
def ledger(
    store: MemoryEntryStore, tmp_path: Path, ticking_clock: Callable[[], datetime]
) -> Ledger:
    witness = FileWitness(tmp_path / "witness.jsonl", public_key=PUBLIC)
    ledger = Ledger(
        store=store, keyring=KeyRing(MasterKey.generate()), clock=ticking_clock, witness=witness
    )
    _append(ledger, 10)
    return ledger


def _problems(report: VerificationReport) -> list[tuple[str, str, int]]:
    return [(p.kind, p.chain, p.sequence) for p in report.problems]


def _both(ledger: Ledger, store: MemoryEntryStore, **kwargs: object) -> list[tuple[str, str, int]]:
    """Verify the store as records and as entries; both must name the same problems."""
    from_store = verify_store(store, public_key=PUBLIC, **kwargs)  # type: ignore[arg-type]
    entries = [e for name in store.chains() for e in store.entries(name)]
    from_entries = verify(entries, public_key=PUBLIC, **kwargs)  # type: ignore[arg-type]
    assert _problems(from_store) == _problems(from_entries)
    assert from_store.ok == from_entries.ok
    return _problems(from_store)


def _rehashed(chain: str, record: StoredEntry, **changes: object) -> StoredEntry:
    fields = list(record)
    names = [
        "sequence",
        "recorded_at",
        "kind",
        "subject",
        "public",
        "nonce",
        "ciphertext",
        "key_id",
        "previous_hash",
        "hash",
    ]
    for name, value in changes.items():
        fields[names.index(name)] = value
    draft: StoredEntry = tuple(fields)  # type: ignore[assignment]
    return (*draft[:-1], stored_hash(chain, draft))  # type: ignore[return-value]


def _rechain(chain: str, records: list[StoredEntry], start: int) -> None:
    """Recompute hashes and links from ``start`` on, as a careful forger would."""
    for i in range(start, len(records)):
        link = records[i - 1][-1] if i else "0" * 64
        records[i] = _rehashed(chain, records[i], previous_hash=link)


text = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"]) | st.sampled_from('"\\\n\x00\x7fé€'),
    max_size=12,
)


@settings(max_examples=60, deadline=None)
@given(kind=text.filter(bool), subject=st.none() | text.filter(bool), chain=text.filter(bool))
def test_stored_records_hash_exactly_as_entries_do(
    kind: str, subject: str | None, chain: str
) -> None:
    ledger = Ledger(keyring=KeyRing(MasterKey.generate()))
    personal = {"name": "Ana"} if subject is not None else None
    entry = ledger.append(
        kind, chain=chain, subject=subject, public={"k": kind, "n": [1, 2.5]}, personal=personal
    )
    record = entry_record(entry)
    assert stored_hash(chain, record) == entry_hash(entry) == entry.hash
    assert ledger.verify().ok


def test_heads_verify_and_record_progress(ledger: Ledger, store: MemoryEntryStore) -> None:
    first = ledger.sign_head(CHAIN, private_key=KEY)
    _append(ledger, 5)
    second = ledger.sign_head(CHAIN, private_key=KEY)
    _append(ledger, 2)
    assert (first.size, second.size) == (10, 15)
    assert ledger.witness is not None and ledger.witness.heads() == [first, second]
    report = ledger.verify(public_key=PUBLIC, heads=[first, second])
    assert report.ok, str(report)
    assert report.signed_heads_checked == 2
    assert report.unsigned == {CHAIN: 2}
    assert report.progress[CHAIN].head == second
    assert _both(ledger, store, heads=[first, second]) == []


def test_truncation_after_the_newest_head_is_named(ledger: Ledger, store: MemoryEntryStore) -> None:
    head = ledger.sign_head(CHAIN, private_key=KEY)
    del store.stored(CHAIN)[7:]
    assert _both(ledger, store) == []  # a shorter chain is a valid chain on its own
    assert _both(ledger, store, heads=[head]) == [("truncated", CHAIN, 7)]


def test_a_rewritten_and_rechained_tail_differs_from_the_signed_root(
    ledger: Ledger, store: MemoryEntryStore
) -> None:
    early = ledger.sign_head(CHAIN, private_key=KEY)  # 10 entries
    _append(ledger, 6)
    head = ledger.sign_head(CHAIN, private_key=KEY)  # 16 entries
    records = store.stored(CHAIN)
    records[12] = _rehashed(CHAIN, records[12], public='{"i":12,"outcome":"approved"}')
    _rechain(CHAIN, records, 13)
    assert _both(ledger, store) == []  # every hash and link is consistent again
    problems = _both(ledger, store, heads=[early, head])
    assert problems == [("rewritten", CHAIN, 10)]
    report = ledger.verify(public_key=PUBLIC, heads=[early, head])
    assert "from sequence 10 to 15 was rewritten" in report.problems[0].detail


def test_a_forged_entry_appended_with_a_correct_hash_is_named(
    ledger: Ledger, store: MemoryEntryStore
) -> None:
    head = ledger.sign_head(CHAIN, private_key=KEY)
    records = store.stored(CHAIN)
    last = records[-1]
    # Backdated, so that it looks like it was recorded before the head was signed.
    forged = _rehashed(
        CHAIN,
        last,
        sequence=last[0] + 1,
        previous_hash=last[-1],
        public='{"i":99,"outcome":"approved"}',
        nonce=None,
        ciphertext=None,
        key_id=None,
    )
    records.append(forged)
    assert _both(ledger, store) == []
    problems = _both(ledger, store, heads=[head])
    assert problems == [("forged", CHAIN, 10)]
    report = verify_store(store, public_key=PUBLIC, heads=[head])
    assert "appended after the fact" in report.problems[0].detail


def test_deleted_head_rows_and_removed_witness_lines_are_named(
    ledger: Ledger, store: MemoryEntryStore
) -> None:
    heads = [ledger.sign_head(CHAIN, private_key=KEY)]
    for _ in range(2):
        _append(ledger, 3)
        heads.append(ledger.sign_head(CHAIN, private_key=KEY))
    witness = ledger.witness
    assert witness is not None
    kept = witness.heads()
    assert kept == heads
    assert _both(ledger, store, heads=heads, witnessed=kept) == []
    # Head rows deleted from the database: the witness still has them.
    assert _both(ledger, store, heads=heads[2:], witnessed=kept) == [
        ("deleted", CHAIN, 10),
        ("deleted", CHAIN, 13),
    ]
    # A line removed from the witness: the database has a head between two the witness kept.
    assert _both(ledger, store, heads=heads, witnessed=[kept[0], kept[2]]) == [
        ("deleted", CHAIN, 13)
    ]
    # Truncation with every database head deleted is still caught against the witness.
    del store.stored(CHAIN)[14:]
    assert ("truncated", CHAIN, 14) in _both(ledger, store, heads=[], witnessed=kept)


def test_forged_altered_and_rolled_back_heads_are_named(
    ledger: Ledger, store: MemoryEntryStore
) -> None:
    genuine = ledger.sign_head(CHAIN, private_key=KEY)
    impostor = sign_head(CHAIN, 10, genuine.root, generate_signing_key())
    altered = replace(genuine, size=9)
    assert _both(ledger, store, heads=[genuine, impostor]) == [("forged", CHAIN, 10)]
    assert _both(ledger, store, heads=[genuine, altered]) == [("forged", CHAIN, 9)]
    # A later head covering fewer entries: the chain was cut back and signed again.
    tree = ledger.tree(CHAIN)
    later = sign_head(
        CHAIN, 8, tree.root(8), KEY, signed_at=genuine.signed_at + timedelta(seconds=5)
    )
    problems = _both(ledger, store, heads=[genuine, later])
    assert ("rewritten", CHAIN, 8) in problems
    with pytest.raises(InputError, match="public key"):
        verify_store(store, heads=[genuine])


def test_a_deleted_chain_is_caught_against_its_witnessed_head(
    ledger: Ledger, store: MemoryEntryStore
) -> None:
    ledger.append("erasure", chain="erasure", subject="subject-1", public={"reason": "Art. 17"})
    erasure_head = ledger.sign_head("erasure", private_key=KEY)
    store.stored("erasure").clear()
    assert _both(ledger, store) == []
    report = verify_store(store, public_key=PUBLIC, witnessed=[erasure_head], heads=[erasure_head])
    assert _problems(report) == [("truncated", "erasure", 0)]
    assert "has no entries" in report.problems[0].detail


def test_entry_tampering_is_named_the_same_on_records_and_entries(
    ledger: Ledger, store: MemoryEntryStore
) -> None:
    head = ledger.sign_head(CHAIN, private_key=KEY)
    original = list(store.stored(CHAIN))
    cases: dict[str, tuple[object, tuple[str, str, int]]] = {
        "edit": (
            lambda r: r.__setitem__(4, (*r[4][:4], '{"i":4}', *r[4][5:])),
            ("edited", CHAIN, 4),
        ),
        "delete": (lambda r: r.__delitem__(3), ("deleted", CHAIN, 4)),
        "insert": (lambda r: r.insert(5, r[4]), ("inserted", CHAIN, 4)),
        "reorder": (lambda r: r.__setitem__(slice(2, 4), [r[3], r[2]]), ("reordered", CHAIN, 3)),
        "escape": (
            lambda r: r.__setitem__(6, (*r[6][:2], 'decision","x":"', *r[6][3:])),
            ("edited", CHAIN, 6),
        ),
    }
    for name, (change, expected) in cases.items():
        records = store.stored(CHAIN)
        records[:] = original
        change(records)  # type: ignore[operator]
        assert _both(ledger, store, heads=[head])[0] == expected, name


def test_incremental_verification_reads_only_what_came_after_the_last_head(
    ledger: Ledger, store: MemoryEntryStore
) -> None:
    head = ledger.sign_head(CHAIN, private_key=KEY)
    full = ledger.verify(public_key=PUBLIC, heads=[head])
    progress = {
        CHAIN: ChainProgress.from_dict(json.loads(json.dumps(full.progress[CHAIN].to_dict())))
    }
    _append(ledger, 7)
    newer = ledger.sign_head(CHAIN, private_key=KEY)
    _append(ledger, 2)
    again = ledger.verify(public_key=PUBLIC, heads=[head, newer], since=progress)
    assert again.ok, str(again)
    assert again.entries_checked == 1 + 7 + 2  # the head's last entry, then the new ones
    assert again.heads == {CHAIN: 18}
    assert again.progress[CHAIN].head == newer
    # A new entry edited: caught. An entry before the resumed head: left to full verification.
    records = store.stored(CHAIN)
    saved = list(records)
    records[12] = (*records[12][:4], '{"i":1}', *records[12][5:])
    assert _problems(ledger.verify(public_key=PUBLIC, since=progress)) == [("edited", CHAIN, 12)]
    records[:] = saved
    records[3] = (*records[3][:4], '{"i":1}', *records[3][5:])
    assert ledger.verify(public_key=PUBLIC, since=progress).ok
    assert _problems(ledger.verify(public_key=PUBLIC)) == [("edited", CHAIN, 3)]
    # Cut back below the resumed head: named.
    records[:] = saved[:8]
    assert _problems(ledger.verify(public_key=PUBLIC, since=progress)) == [("rewritten", CHAIN, 9)]
    damaged = replace(progress[CHAIN], frontier=progress[CHAIN].frontier[::-1] + ("00" * 32,))
    with pytest.raises(InputError, match="progress"):
        ledger.verify(public_key=PUBLIC, since={CHAIN: damaged})


def test_inclusion_proof_verifies_offline_and_fails_after_any_change(ledger: Ledger) -> None:
    head = ledger.sign_head(CHAIN, private_key=KEY)
    proof = ledger.prove(CHAIN, 6, head=head)
    assert proof.verify(PUBLIC)
    offline = InclusionProof.from_dict(json.loads(json.dumps(proof.to_dict())))
    assert offline.verify(PUBLIC) and offline.entry is not None
    assert offline.entry.public["i"] == 6
    entry = offline.entry
    changed = {
        "entry": replace(offline, entry=replace(entry, public={**entry.public, "outcome": "x"})),
        "sequence": replace(offline, sequence=5),
        "hash": replace(offline, entry=None, entry_hash="0" * 64),
        "path": replace(offline, path=(offline.path[0][::-1], *offline.path[1:])),
        "head": replace(offline, head=replace(head, root="0" * 64)),
        "key": offline,
    }
    for name, bad in changed.items():
        key = generate_signing_key().public_key() if name == "key" else PUBLIC
        assert bad.problem(key) is not None, name
    with pytest.raises(LedgerError, match="does not cover"):
        ledger.prove(CHAIN, 10, head=head)


def test_proofs_after_a_rewrite_no_longer_hold(ledger: Ledger, store: MemoryEntryStore) -> None:
    old = ledger.sign_head(CHAIN, private_key=KEY)
    _append(ledger, 5)
    new = ledger.sign_head(CHAIN, private_key=KEY)
    consistency = ledger.prove_consistency(old, new)
    assert consistency.verify(PUBLIC)
    assert ConsistencyProof.from_dict(json.loads(json.dumps(consistency.to_dict()))).verify(PUBLIC)
    records = store.stored(CHAIN)
    records[2] = _rehashed(CHAIN, records[2], public='{"i":2,"outcome":"approved"}')
    _rechain(CHAIN, records, 3)
    with pytest.raises(LedgerError, match="no longer has the root"):
        ledger.prove(CHAIN, 2, head=old)
    # A head signed over the rewritten chain is not consistent with the witnessed one.
    rewritten = sign_head(CHAIN, 15, ledger.tree(CHAIN).root(15), KEY)
    forged_proof = ledger.prove_consistency(old, rewritten)
    assert "does not extend" in (forged_proof.problem(PUBLIC) or "")


def test_file_witness_appends_syncs_and_names_an_edited_line(tmp_path: Path) -> None:
    path = tmp_path / "audit" / "heads.jsonl"
    witness = FileWitness(path, public_key=PUBLIC)
    assert witness.heads() == []
    head = sign_head(CHAIN, 3, "ab" * 32, KEY)
    witness.record(head)
    witness.record(head)
    assert witness.heads() == [head, head]
    with pytest.raises(InputError, match="does not verify"):
        witness.record(sign_head(CHAIN, 4, "ab" * 32, generate_signing_key()))
    lines = path.read_text().splitlines()
    path.write_text(lines[0] + "\n" + lines[1][:40] + "\n")
    with pytest.raises(InputError, match="line 2"):
        witness.heads()
    edited = json.loads(lines[0]) | {"size": 2}
    path.write_text(json.dumps(edited) + "\n")
    (kept,) = witness.heads()
    assert kept.size == 2 and _problems(verify([], public_key=PUBLIC, witnessed=[kept])) == [
        ("forged", CHAIN, 2)
    ]
    with pytest.raises(InputError, match="not a signed head"):
        SignedHead.from_dict({"chain": CHAIN, "size": -1})


def test_entries_round_trip_through_records(ledger: Ledger, store: MemoryEntryStore) -> None:
    entries: list[Entry] = list(ledger.entries(CHAIN))
    assert [entry_record(e) for e in entries] == list(store.records(CHAIN))
    assert list(store.records(CHAIN, start=8)) == [entry_record(e) for e in entries[8:]]
