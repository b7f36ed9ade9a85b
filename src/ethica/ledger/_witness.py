"""Witnesses: places outside the database that keep every signed head they are given.

Whoever can rewrite the database can also rewrite or delete the heads stored in it; a head
kept elsewhere still holds the ledger to what it once was. :class:`FileWitness` appends heads
as JSON lines to a file and syncs each to disk before returning; an auditor's copy of the
service's ``/v1/ledger/heads`` answer serves the same purpose.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Protocol, runtime_checkable

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ethica.errors import InputError
from ethica.ledger._files import append_synced
from ethica.ledger._head import SignedHead, verify_head

__all__ = ["FileWitness", "Witness"]


@runtime_checkable
class Witness(Protocol):
    """Keeps signed heads outside the ledger's own storage, append-only."""

    def record(self, head: SignedHead) -> None:
        """Keep ``head`` durably before returning."""
        ...

    def heads(self) -> list[SignedHead]:
        """Return every head kept, in the order they were recorded."""
        ...


class FileWitness:
    """A :class:`Witness` in an append-only file of JSON lines, synced to disk per head.

    Parameters
    ----------
    path : str or Path
        The file; created (with its folder) on the first head.
    public_key : Ed25519PublicKey, optional
        When given, heads whose signature does not verify are refused instead of kept.
    """

    def __init__(self, path: str | os.PathLike[str], *, public_key: Ed25519PublicKey | None = None):
        self.path = Path(path)
        self._public_key = public_key

    def record(self, head: SignedHead) -> None:
        """Append ``head`` as one JSON line and sync the file (and a new file's folder)."""
        if self._public_key is not None and not verify_head(head, self._public_key):
            raise InputError(
                f"{head.describe()} of chain {head.chain!r} does not verify with the witness's "
                "public key; the witness keeps only heads signed by the ledger's key"
            )
        line = json.dumps(head.to_dict(), sort_keys=True, separators=(",", ":")) + "\n"
        append_synced(self.path, line.encode("utf-8"), mode=0o644)  # heads are public

    def heads(self) -> list[SignedHead]:
        """Read every head kept; a line that is not a head is named (the file was edited)."""
        if not self.path.exists():
            return []
        heads: list[SignedHead] = []
        with self.path.open(encoding="utf-8") as lines:
            for number, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                try:
                    heads.append(SignedHead.from_dict(json.loads(line)))
                except (ValueError, InputError, AttributeError) as error:
                    raise InputError(
                        f"line {number} of the witness file {self.path} is not a signed head "
                        f"({error}): the file was edited; restore it from a copy"
                    ) from None
        return heads
