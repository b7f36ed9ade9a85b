"""Proofs a customer or auditor checks offline with the ledger's public key and nothing else.

An :class:`InclusionProof` shows that one entry is in a chain as a signed head saw it; a
:class:`ConsistencyProof` shows that an older signed head's entries are the first entries of a
newer one (nothing the older head covered was changed since).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ethica.errors import InputError
from ethica.ledger._entry import Entry, entry_hash
from ethica.ledger._head import SignedHead, verify_head
from ethica.ledger._merkle import verify_consistency, verify_inclusion

__all__ = ["ConsistencyProof", "InclusionProof"]

PROOF_FORMAT = "ethica.ledger.proof/1"


@dataclass(frozen=True)
class InclusionProof:
    """The audit path of the entry at ``sequence`` in the tree a signed head covers.

    Attributes
    ----------
    head : SignedHead
        The head the entry is proven against.
    sequence : int
        The entry's place in its chain (its leaf index).
    entry_hash : str
        The entry's hash (the leaf's data).
    path : tuple of str
        Hex sibling hashes from the leaf up (RFC 6962 audit path).
    entry : Entry, optional
        The entry itself, so that its content can be checked against ``entry_hash``.
    """

    head: SignedHead
    sequence: int
    entry_hash: str
    path: tuple[str, ...]
    entry: Entry | None = None

    def problem(self, public_key: Ed25519PublicKey) -> str | None:
        """Return what is wrong with the proof, in words, or ``None`` when it holds."""
        if not verify_head(self.head, public_key):
            return f"{self.head.describe()} does not verify with the public key"
        if self.entry is not None:
            if (self.entry.chain, self.entry.sequence) != (self.head.chain, self.sequence):
                return "the entry is not the one at the proven chain and sequence"
            if entry_hash(self.entry) != self.entry_hash:
                return "the entry's content does not hash to the proven entry hash: it was edited"
        try:
            leaf = bytes.fromhex(self.entry_hash)
            path = [bytes.fromhex(h) for h in self.path]
            root = bytes.fromhex(self.head.root)
        except ValueError:
            return "the proof's hashes are not hex digests"
        if not verify_inclusion(leaf, self.sequence, self.head.size, path, root):
            return (
                f"entry {self.sequence} with hash {self.entry_hash[:12]}… is not in the tree of "
                f"{self.head.describe()}"
            )
        return None

    def verify(self, public_key: Ed25519PublicKey) -> bool:
        """Tell whether the signed head holds and the entry is in its tree."""
        return self.problem(public_key) is None

    def to_dict(self) -> dict[str, Any]:
        """Return the proof as JSON data (what ``ethica ledger prove`` writes)."""
        return {
            "format": PROOF_FORMAT,
            "head": self.head.to_dict(),
            "sequence": self.sequence,
            "entry_hash": self.entry_hash,
            "path": list(self.path),
            "entry": None if self.entry is None else self.entry.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> InclusionProof:
        """Read the form written by :meth:`to_dict`."""
        try:
            if data.get("format", PROOF_FORMAT) != PROOF_FORMAT:
                raise ValueError(f"unknown proof format {data['format']!r}")
            entry = data.get("entry")
            return cls(
                head=SignedHead.from_dict(data["head"]),
                sequence=int(data["sequence"]),
                entry_hash=str(data["entry_hash"]),
                path=tuple(str(h) for h in data["path"]),
                entry=None if entry is None else Entry.from_dict(entry),
            )
        except (KeyError, TypeError, ValueError) as error:
            if isinstance(error, InputError):
                raise
            raise InputError(f"not an inclusion proof: {error!r}") from None


@dataclass(frozen=True)
class ConsistencyProof:
    """Hashes showing that ``old``'s entries are the first entries of ``new``'s tree."""

    old: SignedHead
    new: SignedHead
    path: tuple[str, ...]

    def problem(self, public_key: Ed25519PublicKey) -> str | None:
        """Return what is wrong with the proof, in words, or ``None`` when it holds."""
        for head in (self.old, self.new):
            if not verify_head(head, public_key):
                return f"{head.describe()} does not verify with the public key"
        if self.old.chain != self.new.chain:
            return "the two heads are of different chains"
        try:
            path = [bytes.fromhex(h) for h in self.path]
            old_root, new_root = bytes.fromhex(self.old.root), bytes.fromhex(self.new.root)
        except ValueError:
            return "the proof's hashes are not hex digests"
        if not verify_consistency(self.old.size, self.new.size, old_root, new_root, path):
            return (
                f"{self.new.describe()} does not extend {self.old.describe()}: entries it "
                "covered were rewritten, removed or reordered"
            )
        return None

    def verify(self, public_key: Ed25519PublicKey) -> bool:
        """Tell whether both heads hold and the newer extends the older."""
        return self.problem(public_key) is None

    def to_dict(self) -> dict[str, Any]:
        """Return the proof as JSON data."""
        return {
            "format": PROOF_FORMAT,
            "old": self.old.to_dict(),
            "new": self.new.to_dict(),
            "path": list(self.path),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ConsistencyProof:
        """Read the form written by :meth:`to_dict`."""
        try:
            return cls(
                old=SignedHead.from_dict(data["old"]),
                new=SignedHead.from_dict(data["new"]),
                path=tuple(str(h) for h in data["path"]),
            )
        except (KeyError, TypeError) as error:
            raise InputError(f"not a consistency proof: {error!r}") from None
