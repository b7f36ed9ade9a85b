"""Per-subject keys: erasure shreds one subject's personal data and keeps the chain verifiable."""

from __future__ import annotations

import json
import os

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ethica.errors import InputError
from ethica.ledger import (
    ErasedError,
    KeyRing,
    KeyStore,
    Ledger,
    MasterKey,
    MasterKeyError,
    MemoryKeyStore,
    WrappedKey,
)

CHAIN = "claims"


@pytest.fixture
def store() -> MemoryKeyStore:
    return MemoryKeyStore()


@pytest.fixture
def master() -> MasterKey:
    return MasterKey.generate()


@pytest.fixture
def ledger(master: MasterKey, store: MemoryKeyStore) -> Ledger:
    ledger = Ledger(keyring=KeyRing(master, store=store))
    for subject in ("alice", "bob", "alice", "carol", "bob"):
        ledger.append(
            "decision",
            chain=CHAIN,
            subject=subject,
            public={"outcome": "paid"},
            personal={"name": subject.upper(), "iban": f"DE00 {subject}"},
        )
    ledger.append("review", chain=CHAIN, subject="alice", public={"action": "upheld"})
    return ledger


def test_erasing_a_subject_keeps_the_chain_verifiable(ledger: Ledger) -> None:
    keyring = ledger.keyring
    assert keyring is not None
    before = [entry.hash for entry in ledger.entries(CHAIN)]
    assert keyring.erase("alice") is True
    assert keyring.erase("alice") is False
    assert not keyring.has_key("alice")
    after = list(ledger.entries(CHAIN))
    assert [entry.hash for entry in after] == before
    assert ledger.verify().ok
    for entry in after:
        if entry.subject == "alice" and entry.sealed is not None:
            with pytest.raises(ErasedError, match="alice"):
                keyring.open(entry)
            assert keyring.open_or_none(entry) is None
        else:
            opened = keyring.open(entry)
            if entry.sealed is not None:
                assert opened["name"] == (entry.subject or "").upper()
    review = after[-1]
    assert review.sealed is None and review.key_id is None
    assert keyring.open(review) == {}


def test_a_returning_subject_gets_a_new_key_and_old_data_stays_shredded(ledger: Ledger) -> None:
    keyring = ledger.keyring
    assert keyring is not None
    old = next(ledger.entries(CHAIN))
    keyring.erase("alice")
    new = ledger.append("consent", chain=CHAIN, subject="alice", personal={"email": "a@x.eu"})
    assert new.key_id != old.key_id
    assert keyring.open(new) == {"email": "a@x.eu"}
    with pytest.raises(ErasedError, match="destroyed"):
        keyring.open(old)


def test_each_subject_has_one_key_and_entries_name_it(ledger: Ledger) -> None:
    key_ids: dict[str, set[str]] = {}
    for entry in ledger.entries(CHAIN):
        if entry.key_id is not None and entry.subject is not None:
            key_ids.setdefault(entry.subject, set()).add(entry.key_id)
    assert {subject: len(ids) for subject, ids in key_ids.items()} == {
        "alice": 1,
        "bob": 1,
        "carol": 1,
    }
    assert len(set().union(*key_ids.values())) == 3


def test_wrong_master_key_is_a_clear_error(ledger: Ledger, store: MemoryKeyStore) -> None:
    other = KeyRing(MasterKey.generate(), store=store)
    with pytest.raises(MasterKeyError, match="wrong master key"):
        other.open(next(ledger.entries(CHAIN)))


def test_wrapped_keys_cannot_be_moved_between_subjects(
    ledger: Ledger, store: MemoryKeyStore
) -> None:
    keyring = ledger.keyring
    assert keyring is not None
    bob_key = store.get("bob")
    assert bob_key is not None
    store.delete("alice")
    store.put("alice", bob_key)
    with pytest.raises((MasterKeyError, ErasedError)):
        keyring.open(next(ledger.entries(CHAIN)))


def test_stored_keys_are_aes_gcm_wrapped_data_keys(
    store: MemoryKeyStore, master: MasterKey
) -> None:
    # Open one entry with nothing but `cryptography`'s AESGCM and the documented formats.
    keyring = KeyRing(master, store=store)
    entry = Ledger(keyring=keyring).append(
        "decision", chain=CHAIN, subject="dan", personal={"x": 1}
    )
    wrapped = store.get("dan")
    assert wrapped is not None and entry.sealed is not None
    assert wrapped.key_id == entry.key_id
    assert len(wrapped.wrapped) == 12 + 32 + 16  # nonce, key, tag
    wrap_context = json.dumps(
        {"id": wrapped.key_id, "purpose": "ethica.ledger data key", "subject": "dan"},
        separators=(",", ":"),
    ).encode()
    data_key = AESGCM(master.export()).decrypt(
        wrapped.wrapped[:12], wrapped.wrapped[12:], wrap_context
    )
    assert len(data_key) == 32
    associated = json.dumps(
        {
            "chain": CHAIN,
            "format": "ethica.ledger/1",
            "key_id": entry.key_id,
            "kind": "decision",
            "sequence": 0,
            "subject": "dan",
        },
        separators=(",", ":"),
    ).encode()
    plaintext = AESGCM(data_key).decrypt(entry.sealed.nonce, entry.sealed.ciphertext, associated)
    assert json.loads(plaintext) == {"x": 1}
    assert "dan" not in repr(wrapped) and "60 bytes" in repr(wrapped)


@pytest.mark.parametrize(
    "key", [b"", b"\x01" * 16, b"\x02" * 33, "0" * 32], ids=["empty", "16", "33", "text"]
)
def test_master_key_of_the_wrong_length_is_refused(key: object) -> None:
    with pytest.raises(MasterKeyError, match="32 bytes"):
        MasterKey(key)  # type: ignore[arg-type]
    with pytest.raises(MasterKeyError, match="32 bytes"):
        KeyRing(key)  # type: ignore[arg-type]


def test_master_key_never_shows_its_bytes() -> None:
    raw = os.urandom(32)
    master = MasterKey(raw)
    keyring = KeyRing(raw)
    for text in (repr(master), str(master), repr(keyring), f"{master!r}"):
        assert raw.hex() not in text and repr(raw) not in text
    assert master.export() == raw


def test_personal_fields_need_a_subject_and_a_keyring() -> None:
    with pytest.raises(InputError, match="need a subject"):
        Ledger(keyring=KeyRing(MasterKey.generate())).append(
            "decision", chain=CHAIN, personal={"name": "x"}
        )
    with pytest.raises(InputError, match="KeyRing"):
        Ledger().append("decision", chain=CHAIN, subject="s", personal={"name": "x"})
    with pytest.raises(InputError, match="chain"):
        Ledger().append("decision", chain="", public={})
    with pytest.raises(InputError, match=r"public\.score"):
        Ledger().append("decision", chain=CHAIN, public={"score": float("nan")})


def test_memory_stores_follow_the_protocols(store: MemoryKeyStore) -> None:
    assert isinstance(store, KeyStore)
    first, second = WrappedKey("k1", b"a" * 60), WrappedKey("k2", b"b" * 60)
    store.put("s", first)
    store.put("s", second)  # the first writer wins
    assert store.get("s") == first
    assert store.delete("s") and store.get("s") is None


class _CountingStore(MemoryKeyStore):
    """Counts the lookups of wrapped keys (each lookup is followed by an unwrap)."""

    def __init__(self) -> None:
        super().__init__()
        self.lookups = 0

    def get(self, subject: str) -> WrappedKey | None:
        self.lookups += 1
        return super().get(subject)


def test_a_remembering_block_unwraps_each_key_once_and_forgets_it_after() -> None:
    store = _CountingStore()
    keyring = KeyRing(MasterKey.generate(), store=store)
    ledger = Ledger(keyring=keyring)
    ledger.append("decision", chain=CHAIN, subject="alice", personal={"income": 1})
    keyring.subject_pseudonym("alice")  # both keys exist: a new one costs lookups of its own
    store.lookups = 0
    with keyring.remembering():
        pseudonym = keyring.subject_pseudonym("alice")
        first = ledger.append("decision", chain=CHAIN, subject="alice", personal={"income": 2})
        digest = keyring.digest(b"values", subject="alice")
        assert keyring.subject_pseudonym("alice") == pseudonym
        assert store.lookups == 2  # the pseudonym key and alice's data key, once each
    assert keyring.digest(b"values", subject="alice") == digest  # the same key, looked up again
    assert store.lookups == 3
    assert keyring.open(first) == {"income": 2}
    store.delete("alice")  # erased behind the ring's back, after the block: nothing kept
    with pytest.raises(ErasedError):
        keyring.open(first)


def test_an_erasure_inside_a_remembering_block_is_not_undone_by_it() -> None:
    keyring = KeyRing(MasterKey.generate())
    ledger = Ledger(keyring=keyring)
    with keyring.remembering():
        before = ledger.append("decision", chain=CHAIN, subject="bob", personal={"income": 1})
        assert keyring.erase("bob")
        after = ledger.append("decision", chain=CHAIN, subject="bob", personal={"income": 2})
    assert after.key_id != before.key_id  # a new key, not the erased one remembered
    with pytest.raises(ErasedError):
        keyring.open(before)
    assert keyring.open(after) == {"income": 2}
