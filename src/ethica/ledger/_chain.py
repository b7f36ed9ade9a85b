"""The ledger: append entries to independent hash chains, sign their heads, prove entries."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ethica.errors import InputError
from ethica.ledger._canonical import encode_built, encode_plain, normalize
from ethica.ledger._entry import GENESIS_HASH, Entry, record_entry, with_hash
from ethica.ledger._errors import LedgerError, SequenceConflictError
from ethica.ledger._head import SignedHead, sign_head
from ethica.ledger._keys import KeyRing
from ethica.ledger._merkle import Frontier, MerkleTree
from ethica.ledger._proofs import ConsistencyProof, InclusionProof
from ethica.ledger._store import EntryStore, MemoryEntryStore, RecordStore
from ethica.ledger._witness import Witness

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

    from ethica.ledger._checkpoint import Checkpoint
    from ethica.ledger._verify import ChainProgress, VerificationReport

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
    witness : Witness, optional
        Keeps every head :meth:`sign_head` signs, outside the store.

    Notes
    -----
    Appends to one chain are serialized by a lock for that chain only; different chains never
    wait for each other. The ledger keeps each chain's Merkle frontier from its own appends, so
    signing a head costs ``O(log n)``; entries another writer appended are read to catch up.
    """

    def __init__(
        self,
        *,
        store: EntryStore | None = None,
        keyring: KeyRing | None = None,
        clock: Callable[[], datetime] | None = None,
        witness: Witness | None = None,
    ) -> None:
        self.store: EntryStore = MemoryEntryStore() if store is None else store
        self.keyring = keyring
        self.witness = witness
        self._trees: dict[str, Frontier] = {}
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
        built: bool = False,
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
        built : bool, default False
            ``public`` and ``personal`` are dicts their caller built from exact plain JSON types
            with string keys (as a service builds its own records): they are encoded without
            being normalized first (``_canonical.encode_built``): a decision's walk and copy
            cost half as much again as its encoding. The bytes are the same; a value that is
            not plain is still converted or refused, but a non-string key is not refused.

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
        public_data: dict[str, Any]
        if built and type(public) is dict:
            public_data, public_json = encode_built(public, path="public")
        else:
            public_data = normalize(dict(public or {}), path="public")
            public_json = encode_plain(public_data)
        personal_json: bytes | None = None
        if personal:
            if subject is None:
                raise InputError("personal fields need a subject: their data key seals them")
            if self.keyring is None:
                raise InputError("personal fields need a KeyRing: pass Ledger(keyring=...)")
            if built and type(personal) is dict:
                personal_json = encode_built(personal, path="personal")[1]
            else:
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
                tree = self._trees.get(chain)
                if tree is not None and tree.size == entry.sequence:
                    tree.append(bytes.fromhex(entry.hash))
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

    def sign_head(self, chain: str, *, private_key: Ed25519PrivateKey) -> SignedHead:
        """Sign the chain's current size and Merkle root, and give the head to the witness."""
        with self._lock_for(chain):
            tree = self._caught_up(chain)
            head = sign_head(chain, tree.size, tree.root(), private_key, signed_at=self._clock())
        if self.witness is not None:
            self.witness.record(head)
        return head

    def tree(self, chain: str) -> MerkleTree:
        """Return the whole Merkle tree of the chain's stored entries (for proofs)."""
        return MerkleTree(bytes.fromhex(h) for h in self._stored_hashes(chain, start=0))

    def prove(self, chain: str, sequence: int, *, head: SignedHead) -> InclusionProof:
        """Prove that the chain's entry at ``sequence`` is in the tree ``head`` covers.

        Raises
        ------
        LedgerError
            When the entry is beyond the head, or the stored chain no longer has its root.
        """
        if not 0 <= sequence < head.size:
            raise LedgerError(f"{head.describe()} does not cover sequence {sequence}")
        tree = self.tree(chain)
        if tree.size < head.size or tree.root(head.size).hex() != head.root:
            raise LedgerError(
                f"chain {chain!r} no longer has the root of {head.describe()}: verify the ledger"
            )
        entry = self._entry_at(chain, sequence)
        if entry is None:
            raise LedgerError(f"chain {chain!r} has no entry at sequence {sequence}")
        return InclusionProof(
            head=head,
            sequence=sequence,
            entry_hash=entry.hash,
            path=tuple(h.hex() for h in tree.inclusion_proof(sequence, head.size)),
            entry=entry,
        )

    def prove_consistency(self, old: SignedHead, new: SignedHead) -> ConsistencyProof:
        """Prove that ``new``'s tree extends ``old``'s (same chain, ``old.size <= new.size``)."""
        if old.chain != new.chain or old.size > new.size:
            raise LedgerError(f"{new.describe()} cannot extend {old.describe()}")
        tree = self.tree(new.chain)
        if tree.size < new.size:
            raise LedgerError(f"chain {new.chain!r} is shorter than {new.describe()}")
        path = tree.consistency_proof(old.size, new.size)
        return ConsistencyProof(old=old, new=new, path=tuple(h.hex() for h in path))

    def verify(
        self,
        *,
        chains: Sequence[str] | None = None,
        checkpoint: Checkpoint | Sequence[Checkpoint] | None = None,
        public_key: Ed25519PublicKey | None = None,
        heads: Sequence[SignedHead] = (),
        witnessed: Sequence[SignedHead] | None = None,
        since: Mapping[str, ChainProgress] | None = None,
    ) -> VerificationReport:
        """Verify the stored chains (all by default); see :func:`verify_store`."""
        from ethica.ledger._verify import verify, verify_store

        if isinstance(self.store, RecordStore):
            return verify_store(
                self.store,
                chains=chains,
                checkpoint=checkpoint,
                public_key=public_key,
                heads=heads,
                witnessed=witnessed,
                since=since,
            )
        if since:
            raise InputError("resuming verification needs a store with records (RecordStore)")
        names = self.chains() if chains is None else list(chains)
        return verify(
            (entry for name in names for entry in self.entries(name)),
            checkpoint=checkpoint,
            public_key=public_key,
            heads=heads,
            witnessed=witnessed,
        )

    def _caught_up(self, chain: str) -> Frontier:
        """Return the chain's frontier, extended with entries appended by other writers."""
        tree = self._trees.setdefault(chain, Frontier())
        for stored_hash in self._stored_hashes(chain, start=tree.size):
            tree.append(bytes.fromhex(stored_hash))
        return tree

    def _entry_at(self, chain: str, sequence: int) -> Entry | None:
        if isinstance(self.store, RecordStore):
            for record in self.store.records(chain, start=sequence):
                return record_entry(chain, record) if record[0] == sequence else None
            return None
        return next((e for e in self.store.entries(chain) if e.sequence == sequence), None)

    def _stored_hashes(self, chain: str, *, start: int) -> Iterator[str]:
        if isinstance(self.store, RecordStore):
            return (record[-1] for record in self.store.records(chain, start=start))
        return (e.hash for e in self.store.entries(chain) if e.sequence >= start)

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
