"""Signed tree heads: a chain's size and Merkle root, signed with Ed25519 (as in RFC 9162 §4.10).

A head commits to every entry of the chain up to ``size`` and to their order; a verifier who
kept one (a witness, an auditor, a customer) detects any later rewrite, truncation or
reordering of those entries, and an inclusion proof against it shows one entry without the
others. Heads are signed with a key the ledger's writer keeps apart from the database.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ethica.errors import InputError
from ethica.ledger._canonical import canonical_json, rfc3339

__all__ = ["HEAD_FORMAT", "SignedHead", "sign_head", "verify_head"]

HEAD_FORMAT = "ethica.ledger.head/1"
"""Written into every signed message, so a head can never pass for another kind of statement."""


@dataclass(frozen=True)
class SignedHead:
    """A signed statement that ``chain``'s first ``size`` entries have the Merkle ``root``.

    Attributes
    ----------
    chain : str
        The chain (partition) the head is of.
    size : int
        How many entries the tree covers: sequences ``0`` to ``size - 1``.
    root : str
        Hex RFC 6962 tree hash over those entries' hashes (see :func:`merkle_root`).
    signed_at : datetime
        When it was signed (UTC); every entry recorded before then is covered.
    signature : bytes
        Ed25519 signature of :meth:`message`.
    """

    chain: str
    size: int
    root: str
    signed_at: datetime
    signature: bytes

    def message(self) -> bytes:
        """Return the canonical bytes that the signature covers."""
        return canonical_json(
            {
                "format": HEAD_FORMAT,
                "chain": self.chain,
                "size": self.size,
                "root": self.root,
                "signed_at": self.signed_at,
            }
        )

    def describe(self) -> str:
        """Name the head in words, for findings: ``the head of 12 entries signed at ...``."""
        return f"the head of {self.size} entries signed at {rfc3339(self.signed_at)}"

    def to_dict(self) -> dict[str, Any]:
        """Return the head as JSON data, for a table, a witness file or an API answer."""
        return {
            "format": HEAD_FORMAT,
            "chain": self.chain,
            "size": self.size,
            "root": self.root,
            "signed_at": rfc3339(self.signed_at),
            "signature": base64.b64encode(self.signature).decode("ascii"),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SignedHead:
        """Read the form written by :meth:`to_dict`."""
        try:
            if data.get("format", HEAD_FORMAT) != HEAD_FORMAT:
                raise ValueError(f"unknown head format {data['format']!r}")
            size, root = data["size"], str(data["root"])
            if not isinstance(size, int) or isinstance(size, bool) or size < 0:
                raise ValueError(f"size must be a count of entries, got {size!r}")
            if len(root) != 64:
                raise ValueError("root must be 64 hex digits")
            bytes.fromhex(root)
            signed_at = datetime.fromisoformat(str(data["signed_at"]))
            if signed_at.tzinfo is None:
                raise ValueError("signed_at has no timezone")
            return cls(
                chain=str(data["chain"]),
                size=size,
                root=root,
                signed_at=signed_at.astimezone(UTC),
                signature=base64.b64decode(data["signature"], validate=True),
            )
        except (KeyError, TypeError, ValueError, binascii.Error) as error:
            raise InputError(f"not a signed head: {error}") from None


def sign_head(
    chain: str,
    size: int,
    root: bytes | str,
    private_key: Ed25519PrivateKey,
    *,
    signed_at: datetime | None = None,
) -> SignedHead:
    """Sign that ``chain``'s first ``size`` entries have the tree hash ``root``."""
    moment = datetime.now(UTC) if signed_at is None else signed_at.astimezone(UTC)
    unsigned = SignedHead(
        chain=chain,
        size=size,
        root=root.hex() if isinstance(root, bytes) else root,
        signed_at=moment,
        signature=b"",
    )
    return SignedHead(
        chain=chain,
        size=size,
        root=unsigned.root,
        signed_at=moment,
        signature=private_key.sign(unsigned.message()),
    )


def verify_head(head: SignedHead, public_key: Ed25519PublicKey) -> bool:
    """Tell whether ``head`` is unaltered and signed by ``public_key``'s private key."""
    try:
        public_key.verify(head.signature, head.message())
    except (InvalidSignature, InputError):
        return False
    return True
