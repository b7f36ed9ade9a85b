"""The ledger: append entries to independent hash chains, anchor their heads, checkpoint them."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ethica.errors import InputError
from ethica.ledger._canonical import encode_plain, normalize
from ethica.ledger._entry import GENESIS_HASH, Entry, with_hash
from ethica.ledger._errors import SequenceConflictError
from ethica.ledger._keys import KeyRing
from ethica.ledger._store import EntryStore, MemoryEntryStore

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

    from ethica.ledger._checkpoint import Checkpoint
    from ethica.ledger._verify import VerificationReport

__all__ = ["ROOT_CHAIN", "Ledger"]

ROOT_CHAIN = "root"
"""The chain that :meth:`Ledger.anchor` appends the other chains' heads to."""

CONFLICT_RETRIES = 8


class Ledger:
    """Append-only, hash-chained records of decisions, outcomes, reviews and consent changes.

    Parameters
    ----------
    store : EntryStore, optional
        Where entries are kept; a new :class:`MemoryEntryStore` by default.
    keyring : KeyRing, optional
        Seals personal fields with the subject's data key. Needed only to append ``personal``.
    clock : callable, optional
        Returns the current time (timezone-aware); ``datetime.now(UTC)`` by default.

    Notes
    -----
    Appends to one chain are serialized by a lock for that chain only; different chains never
    wait for each other.
    """

    def __init__(
        self,
        *,
        store: EntryStore | None = None,
        keyring: KeyRing | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.store: EntryStore = MemoryEntryStore() if store is None else store
        self.keyring = keyring
        self._clock = clock or (lambda: datetime.now(UTC))
        self._locks: dict[str, threading.Lock] = {}
        self._locks_lock = threading.Lock()

    def append(
        self,
        kind: str,
        *,
        chain: str,
        subject: str | None = None,
        public: Mapping[str, Any] | None = None,
        personal: Mapping[str, Any] | None = None,
    ) -> Entry:
        """Append one entry to ``chain`` and return it.

        Parameters
        ----------
        kind : str
            What the entry records, e.g. ``"decision"``, ``"outcome"``, ``"review"``.
        chain : str
            The partition, e.g. the AI system's id.
        subject : str, optional
            Pseudonymous id of the customer; required when ``personal`` is given.
        public : mapping, optional
            Non-personal fields, stored in the clear (canonical JSON values only).
        personal : mapping, optional
            Personal fields, sealed with the subject's data key.

        Raises
        ------
        InputError
            For an empty kind or chain, personal fields without a subject or key ring, or
            values that have no canonical JSON form.
        """
        _require_name(kind, what="kind")
        _require_name(chain, what="chain")
        if subject is not None:
            _require_name(subject, what="subject")
        # Fields are normalized and encoded once, here: hashing and sealing take the bytes.
        public_data: dict[str, Any] = normalize(dict(public or {}), path="public")
        public_json = encode_plain(public_data)
        personal_json: bytes | None = None
        if personal:
            if subject is None:
                raise InputError("personal fields need a subject: their data key seals them")
            if self.keyring is None:
                raise InputError("personal fields need a KeyRing: pass Ledger(keyring=...)")
            personal_json = encode_plain(normalize(dict(personal), path="personal"))
        with self._lock_for(chain):
            for _ in range(CONFLICT_RETRIES):
                entry = self._next_entry(
                    kind, chain, subject, public_data, public_json, personal_json
                )
                try:
                    self.store.append(entry)
                except SequenceConflictError:
                    # Another process appended first; rebuild on the new head.
                    continue
                return entry
        raise SequenceConflictError(
            f"chain {chain!r} kept changing under {CONFLICT_RETRIES} attempts to append"
        )

    def entries(self, chain: str) -> Iterator[Entry]:
        """Return the chain's entries in sequence order."""
        return self.store.entries(chain)

    def head(self, chain: str) -> Entry | None:
        """Return the chain's last entry, or ``None``."""
        return self.store.head(chain)

    def chains(self) -> list[str]:
        """List every non-empty chain, sorted."""
        return self.store.chains()

    def anchor(self, *, root: str = ROOT_CHAIN) -> Entry:
        """Append the head (sequence and hash) of every other chain to the ``root`` chain.

        One signed checkpoint of the root chain then vouches for every partition up to its
        anchored head, and :func:`verify` reports a partition that falls short of (or differs
        from) what was anchored.
        """
        heads: dict[str, dict[str, Any]] = {}
        for name in self.chains():
            head = self.head(name)
            if name != root and head is not None:
                heads[name] = {"sequence": head.sequence, "hash": head.hash}
        return self.append("anchor", chain=root, public={"heads": heads})

    def checkpoint(self, chain: str, *, private_key: Ed25519PrivateKey) -> Checkpoint:
        """Sign the chain's current head (see :func:`sign_checkpoint`)."""
        from ethica.ledger._checkpoint import sign_checkpoint

        head = self.head(chain)
        if head is None:
            raise InputError(f"chain {chain!r} is empty: there is no head to sign")
        return sign_checkpoint(head, private_key, signed_at=self._clock())

    def verify(
        self,
        *,
        chains: Sequence[str] | None = None,
        checkpoint: Checkpoint | Sequence[Checkpoint] | None = None,
        public_key: Ed25519PublicKey | None = None,
    ) -> VerificationReport:
        """Verify the stored chains (all by default) with :func:`verify`."""
        from ethica.ledger._verify import verify

        names = self.chains() if chains is None else list(chains)
        return verify(
            (entry for name in names for entry in self.entries(name)),
            checkpoint=checkpoint,
            public_key=public_key,
        )

    def _next_entry(
        self,
        kind: str,
        chain: str,
        subject: str | None,
        public: dict[str, Any],
        public_json: bytes,
        personal_json: bytes | None,
    ) -> Entry:
        head = self.store.head(chain)
        sequence = 0 if head is None else head.sequence + 1
        key_id, sealed = None, None
        if personal_json is not None and self.keyring is not None and subject is not None:
            key_id, sealed = self.keyring.seal_encoded(
                personal_json, subject=subject, chain=chain, sequence=sequence, kind=kind
            )
        recorded_at = self._clock()
        if recorded_at.tzinfo is None:
            raise InputError("the ledger clock must return timezone-aware datetimes")
        draft = Entry(
            chain=chain,
            sequence=sequence,
            recorded_at=recorded_at.astimezone(UTC),
            kind=kind,
            subject=subject,
            public=public,
            sealed=sealed,
            key_id=key_id,
            previous_hash=GENESIS_HASH if head is None else head.hash,
            hash="",
        )
        return with_hash(draft, public_json=public_json)

    def _lock_for(self, chain: str) -> threading.Lock:
        with self._locks_lock:
            return self._locks.setdefault(chain, threading.Lock())


def _require_name(value: object, *, what: str) -> None:
    if not isinstance(value, str) or not value:
        raise InputError(f"{what} must be a non-empty string, got {value!r}")
