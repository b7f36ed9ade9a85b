"""Signed checkpoints of a chain's head (Ed25519), and the key formats the service stores.

A hash chain alone cannot show that its tail was cut off: the shorter chain is still a valid
chain. A checkpoint, signed with a key the ledger's writer does not hold, records that the chain
once reached ``sequence`` with ``head_hash``; a chain that now ends earlier, or differs there, is
reported as truncated.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from ethica.errors import InputError
from ethica.ledger._canonical import canonical_json, rfc3339
from ethica.ledger._entry import Entry

__all__ = [
    "Checkpoint",
    "generate_signing_key",
    "load_private_key",
    "load_public_key",
    "private_key_pem",
    "public_key_pem",
    "sign_checkpoint",
    "verify_checkpoint",
]

CHECKPOINT_FORMAT = "ethica.ledger.checkpoint/1"


@dataclass(frozen=True)
class Checkpoint:
    """A signed statement that ``chain`` reached ``sequence`` with ``head_hash``."""

    chain: str
    sequence: int
    head_hash: str
    signed_at: datetime
    signature: bytes

    def message(self) -> bytes:
        """Return the canonical bytes that the signature covers."""
        return _message(self.chain, self.sequence, self.head_hash, self.signed_at)

    def to_dict(self) -> dict[str, Any]:
        """Return the checkpoint as JSON data, for a store or a file."""
        return {
            "format": CHECKPOINT_FORMAT,
            "chain": self.chain,
            "sequence": self.sequence,
            "head_hash": self.head_hash,
            "signed_at": rfc3339(self.signed_at),
            "signature": base64.b64encode(self.signature).decode("ascii"),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Checkpoint:
        """Read the form written by :meth:`to_dict`."""
        try:
            return cls(
                chain=str(data["chain"]),
                sequence=int(data["sequence"]),
                head_hash=str(data["head_hash"]),
                signed_at=datetime.fromisoformat(str(data["signed_at"])),
                signature=base64.b64decode(data["signature"], validate=True),
            )
        except (KeyError, TypeError, ValueError, binascii.Error) as error:
            raise InputError(f"not a checkpoint record: {error!r}") from None


def sign_checkpoint(
    head: Entry, private_key: Ed25519PrivateKey, *, signed_at: datetime | None = None
) -> Checkpoint:
    """Sign ``head`` (a chain's last entry) with an Ed25519 private key."""
    moment = datetime.now(UTC) if signed_at is None else signed_at.astimezone(UTC)
    signature = private_key.sign(_message(head.chain, head.sequence, head.hash, moment))
    return Checkpoint(
        chain=head.chain,
        sequence=head.sequence,
        head_hash=head.hash,
        signed_at=moment,
        signature=signature,
    )


def verify_checkpoint(checkpoint: Checkpoint, public_key: Ed25519PublicKey) -> bool:
    """Tell whether ``checkpoint`` is unaltered and signed by ``public_key``'s private key."""
    try:
        public_key.verify(checkpoint.signature, checkpoint.message())
    except (InvalidSignature, InputError):
        return False
    return True


def generate_signing_key() -> Ed25519PrivateKey:
    """Create a new Ed25519 private key for signing checkpoints."""
    return Ed25519PrivateKey.generate()


def private_key_pem(key: Ed25519PrivateKey, *, password: bytes | None = None) -> bytes:
    """Write the PKCS #8 PEM of a private key, encrypted when ``password`` is given."""
    encryption: serialization.KeySerializationEncryption = (
        serialization.NoEncryption()
        if password is None
        else serialization.BestAvailableEncryption(password)
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )


def public_key_pem(key: Ed25519PublicKey | Ed25519PrivateKey) -> bytes:
    """Write the SubjectPublicKeyInfo PEM of a public key (or of a private key's public half)."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def load_private_key(data: bytes, *, password: bytes | None = None) -> Ed25519PrivateKey:
    """Read an Ed25519 private key from PEM or from its 32 raw bytes."""
    if len(data) == 32:
        return Ed25519PrivateKey.from_private_bytes(data)
    try:
        key = serialization.load_pem_private_key(data, password=password)
    except (ValueError, TypeError) as error:
        raise InputError(f"not an Ed25519 private key in PEM or 32 raw bytes: {error}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise InputError(f"checkpoints are signed with Ed25519, not {type(key).__name__}")
    return key


def load_public_key(data: bytes) -> Ed25519PublicKey:
    """Read an Ed25519 public key from PEM or from its 32 raw bytes."""
    if len(data) == 32:
        return Ed25519PublicKey.from_public_bytes(data)
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError) as error:
        raise InputError(f"not an Ed25519 public key in PEM or 32 raw bytes: {error}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise InputError(f"checkpoints are signed with Ed25519, not {type(key).__name__}")
    return key


def _message(chain: str, sequence: int, head_hash: str, signed_at: datetime) -> bytes:
    return canonical_json(
        {
            "format": CHECKPOINT_FORMAT,
            "chain": chain,
            "sequence": sequence,
            "head_hash": head_hash,
            "signed_at": signed_at,
        }
    )
