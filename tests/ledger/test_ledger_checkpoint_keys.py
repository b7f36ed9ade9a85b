"""Checkpoint signing keys and checkpoints serialize for the service and still verify."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ethica.errors import InputError
from ethica.ledger import (
    Checkpoint,
    Ledger,
    generate_signing_key,
    load_private_key,
    load_public_key,
    private_key_pem,
    public_key_pem,
    verify,
    verify_checkpoint,
)


@pytest.fixture
def ledger() -> Ledger:
    ledger = Ledger()
    for i in range(3):
        ledger.append("decision", chain="tier", public={"i": i})
    return ledger


def test_checkpoint_survives_json_and_verifies(ledger: Ledger) -> None:
    key = generate_signing_key()
    checkpoint = ledger.checkpoint("tier", private_key=key)
    head = ledger.head("tier")
    assert head is not None
    assert (checkpoint.sequence, checkpoint.head_hash) == (2, head.hash)
    restored = Checkpoint.from_dict(json.loads(json.dumps(checkpoint.to_dict())))
    assert restored == checkpoint
    assert verify_checkpoint(restored, key.public_key())
    assert ledger.verify(checkpoint=restored, public_key=key.public_key()).ok
    # The signature is plain Ed25519 over the documented message, checkable by any library.
    key.public_key().verify(checkpoint.signature, checkpoint.message())


def test_keys_round_trip_through_pem_and_raw_bytes(ledger: Ledger) -> None:
    key = generate_signing_key()
    checkpoint = ledger.checkpoint("tier", private_key=key)
    for public in (
        load_public_key(public_key_pem(key)),
        load_public_key(public_key_pem(key.public_key())),
        Ed25519PublicKey.from_public_bytes(load_public_key(public_key_pem(key)).public_bytes_raw()),
        load_public_key(key.public_key().public_bytes_raw()),
    ):
        assert verify_checkpoint(checkpoint, public)
    for private in (
        load_private_key(private_key_pem(key)),
        load_private_key(private_key_pem(key, password=b"pw"), password=b"pw"),
        load_private_key(key.private_bytes_raw()),
    ):
        again = ledger.checkpoint("tier", private_key=private)
        assert verify_checkpoint(again, key.public_key())
    assert b"BEGIN PRIVATE KEY" in private_key_pem(key)
    assert b"ENCRYPTED" in private_key_pem(key, password=b"pw")


def test_other_key_kinds_and_garbage_are_refused() -> None:
    with pytest.raises(InputError, match="Ed25519"):
        load_public_key(b"-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n")
    with pytest.raises(InputError, match="Ed25519"):
        load_private_key(b"not a key at all")


def test_checkpoint_of_an_empty_chain_is_refused() -> None:
    with pytest.raises(InputError, match="empty"):
        Ledger().checkpoint("nothing", private_key=generate_signing_key())


def test_checkpoint_for_a_missing_chain_reports_it_truncated(ledger: Ledger) -> None:
    key = generate_signing_key()
    checkpoint = ledger.checkpoint("tier", private_key=key)
    report = verify([], checkpoint=checkpoint, public_key=key.public_key())
    assert [(p.kind, p.chain, p.sequence) for p in report.problems] == [("truncated", "tier", 0)]
