"""Every kind of tampering with a chain is detected and named at the right sequence."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

import pytest

from ethica.errors import InputError
from ethica.ledger import (
    GENESIS_HASH,
    Entry,
    KeyRing,
    Ledger,
    MasterKey,
    MemoryEntryStore,
    Sealed,
    TamperedError,
    entry_hash,
    generate_signing_key,
    sign_checkpoint,
    verify,
)

CHAIN = "credit-limit"


@pytest.fixture
def keyring() -> KeyRing:
    return KeyRing(MasterKey.generate())


@pytest.fixture
def ledger(keyring: KeyRing, ticking_clock: Callable[[], datetime]) -> Ledger:
    ledger = Ledger(keyring=keyring, clock=ticking_clock)
    for i in range(6):
        subject = "alice" if i % 2 == 0 else "bob"
        ledger.append(
            "decision",
            chain=CHAIN,
            subject=subject,
            public={"outcome": "declined" if i % 3 else "approved", "model": "v3", "i": i},
            personal={"name": f"{subject.title()} Example", "income": 40_000 + i},
        )
    return ledger


@pytest.fixture
def entries(ledger: Ledger) -> list[Entry]:
    return list(ledger.entries(CHAIN))


def _rehash(entry: Entry) -> Entry:
    return replace(entry, hash=entry_hash(replace(entry, hash="")))


def _only_problem(entries: list[Entry], **kwargs: object) -> tuple[str, int, str]:
    report = verify(entries, **kwargs)  # type: ignore[arg-type]
    assert not report.ok
    problem = report.first_problem
    assert problem is not None
    assert problem.chain == CHAIN
    return problem.kind, problem.sequence, problem.detail


def test_untouched_chain_verifies(ledger: Ledger, entries: list[Entry]) -> None:
    report = verify(entries)
    assert report.ok, str(report)
    assert report.entries_checked == 6
    assert report.heads == {CHAIN: 5}
    assert [e.sequence for e in entries] == list(range(6))
    assert entries[0].previous_hash == GENESIS_HASH
    assert all(b.previous_hash == a.hash for a, b in zip(entries, entries[1:], strict=False))
    assert ledger.verify().ok


def test_hash_is_sha256_of_the_documented_canonical_json(entries: list[Entry]) -> None:
    for entry in entries:
        record = entry.to_dict()
        stored_hash = record.pop("hash")
        spelled_out = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert hashlib.sha256(spelled_out.encode("utf-8")).hexdigest() == stored_hash


def test_records_survive_json_storage_and_still_verify(entries: list[Entry]) -> None:
    stored = [json.loads(json.dumps(entry.to_dict())) for entry in entries]
    restored = [Entry.from_dict(record) for record in stored]
    assert restored == entries
    assert verify(restored).ok
    with pytest.raises(InputError, match="not a ledger entry"):
        Entry.from_dict({"chain": "x"})


def test_personal_fields_are_not_stored_in_the_clear(
    entries: list[Entry], keyring: KeyRing
) -> None:
    text = json.dumps([entry.to_dict() for entry in entries])
    assert "Alice Example" not in text and "40000" not in text
    assert keyring.open(entries[0]) == {"name": "Alice Example", "income": 40_000}
    assert keyring.open(entries[1]) == {"name": "Bob Example", "income": 40_001}


def test_edited_public_field_is_named(entries: list[Entry]) -> None:
    entries[2] = replace(entries[2], public={**entries[2].public, "outcome": "approved"})
    kind, sequence, detail = _only_problem(entries)
    assert (kind, sequence) == ("edited", 2)
    assert "hash does not match" in detail


def test_edited_ciphertext_is_named_and_does_not_open(
    entries: list[Entry], keyring: KeyRing
) -> None:
    sealed = entries[3].sealed
    assert sealed is not None
    flipped = bytes([sealed.ciphertext[0] ^ 1]) + sealed.ciphertext[1:]
    entries[3] = replace(entries[3], sealed=Sealed(nonce=sealed.nonce, ciphertext=flipped))
    assert _only_problem(entries)[:2] == ("edited", 3)
    with pytest.raises(TamperedError, match="do not authenticate"):
        keyring.open(entries[3])


def test_ciphertext_moved_to_another_entry_is_caught_twice(
    entries: list[Entry], keyring: KeyRing
) -> None:
    # Same subject, same key: only the associated data (chain, sequence, kind) tells them apart.
    moved = _rehash(replace(entries[4], sealed=entries[0].sealed))
    with pytest.raises(TamperedError):
        keyring.open(moved)
    entries[4] = moved
    assert _only_problem(entries)[:2] == ("deleted", 5)


def test_deleted_entry_in_the_middle_is_named(entries: list[Entry]) -> None:
    del entries[3]
    kind, sequence, detail = _only_problem(entries)
    assert (kind, sequence) == ("deleted", 4)
    assert "sequence 3 is missing" in detail


def test_inserted_forged_entry_with_recomputed_hash_is_caught(entries: list[Entry]) -> None:
    forged = _rehash(
        replace(entries[2], public={"outcome": "approved", "model": "v3", "i": 2}, sealed=None)
    )
    assert forged.previous_hash == entries[1].hash  # a careful forger links it correctly
    assert verify([*entries[:2], forged]).ok  # on its own the forgery is consistent
    entries.insert(2, forged)
    kind, sequence, detail = _only_problem(entries)
    assert (kind, sequence) == ("inserted", 2)
    assert "appears again" in detail


def test_replaced_entry_with_recomputed_hash_breaks_the_next_link(entries: list[Entry]) -> None:
    entries[2] = _rehash(replace(entries[2], public={"outcome": "approved"}))
    kind, sequence, detail = _only_problem(entries)
    assert (kind, sequence) == ("deleted", 3)
    assert "previous_hash" in detail


def test_swapped_entries_are_named_reordered(entries: list[Entry]) -> None:
    entries[2], entries[3] = entries[3], entries[2]
    kind, sequence, detail = _only_problem(entries)
    assert (kind, sequence) == ("reordered", 3)
    assert "comes before sequence 2" in detail


def test_truncated_tail_is_caught_only_with_a_checkpoint(entries: list[Entry]) -> None:
    key = generate_signing_key()
    checkpoint = sign_checkpoint(entries[-1], key)
    truncated = entries[:-2]
    assert verify(truncated).ok  # a shorter chain is still a valid chain
    kind, sequence, detail = _only_problem(
        truncated, checkpoint=checkpoint, public_key=key.public_key()
    )
    assert (kind, sequence) == ("truncated", 4)
    assert "ends at sequence 3" in detail
    assert verify(entries, checkpoint=checkpoint, public_key=key.public_key()).ok


def test_truncated_and_regrown_chain_differs_from_the_checkpoint(
    ledger: Ledger, entries: list[Entry]
) -> None:
    key = generate_signing_key()
    checkpoint = ledger.checkpoint(CHAIN, private_key=key)
    store = MemoryEntryStore()
    for entry in entries[:4]:
        store.append(entry)
    regrown = Ledger(store=store, keyring=ledger.keyring)
    for _ in range(3):
        regrown.append("decision", chain=CHAIN, public={"outcome": "approved"})
    rewritten = list(regrown.entries(CHAIN))
    assert verify(rewritten).ok
    kind, sequence, _ = _only_problem(rewritten, checkpoint=checkpoint, public_key=key.public_key())
    assert (kind, sequence) == ("truncated", 5)


def test_forged_and_altered_checkpoints_are_reported(entries: list[Entry]) -> None:
    key, impostor = generate_signing_key(), generate_signing_key()
    genuine = sign_checkpoint(entries[3], key)
    forged = sign_checkpoint(entries[5], impostor)
    altered = replace(genuine, sequence=5, head_hash=entries[5].hash)
    for bad in (forged, altered):
        report = verify(entries, checkpoint=[genuine, bad], public_key=key.public_key())
        assert [(p.kind, p.chain, p.sequence) for p in report.problems] == [("forged", CHAIN, 5)]
        assert report.checkpoints_checked == 2
    with pytest.raises(InputError, match="public key"):
        verify(entries, checkpoint=genuine)


def test_anchor_catches_a_truncated_partition(ledger: Ledger) -> None:
    ledger.append("outcome", chain="support-routing", public={"tier": 2})
    ledger.append("outcome", chain="support-routing", public={"tier": 1})
    anchor = ledger.anchor()
    assert anchor.chain == "root"
    assert anchor.public["heads"]["support-routing"]["sequence"] == 1
    assert set(anchor.public["heads"]) == {CHAIN, "support-routing"}
    assert ledger.verify().ok
    everything = [e for name in ledger.chains() for e in ledger.entries(name)]
    cut = [e for e in everything if not (e.chain == "support-routing" and e.sequence == 1)]
    report = verify(cut)
    assert [(p.kind, p.chain, p.sequence) for p in report.problems] == [
        ("truncated", "support-routing", 1)
    ]
    assert "anchor root#0" in report.problems[0].detail


def test_first_problem_follows_input_order_across_chains(ledger: Ledger) -> None:
    for i in range(3):
        ledger.append("consent", chain="marketing", subject="carol", public={"opt_in": i == 0})
    credit, marketing = list(ledger.entries(CHAIN)), list(ledger.entries("marketing"))
    del marketing[1]
    credit[4] = replace(credit[4], kind="review")
    report = verify(marketing + credit)
    assert [(p.kind, p.chain, p.sequence) for p in report.problems] == [
        ("deleted", "marketing", 2),
        ("edited", CHAIN, 4),
    ]
    assert report.first_problem == report.problems[0]
    assert report.heads == {"marketing": 0, CHAIN: 3}
    assert "does NOT verify" in str(report)
