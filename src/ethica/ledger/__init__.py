"""A tamper-evident ledger: hash-chained records with per-subject encryption and erasure.

Every decision, outcome, review action and consent change is appended as an :class:`Entry`
to a chain. Each entry's SHA-256 hash covers its canonical JSON encoding (see
:func:`canonical_json`) and the previous entry's hash, so editing, deleting, inserting or
reordering an entry breaks the chain at that point, and :func:`verify` names it.

Personal fields are sealed (AES-256-GCM) with the subject's own data key from a
:class:`KeyRing`; the hash covers the ciphertext, so :meth:`KeyRing.erase` (crypto-shredding)
makes a subject's personal data unreadable while every chain still verifies.

Why partitions. A single chain has one head that every writer must read and extend, so all
appends serialize on it. Chains are therefore partitions (one per AI system, or per system ×
shard): each has its own lock and head, and write throughput grows with the number of chains.
:meth:`Ledger.anchor` records every partition's head in one ``"root"`` chain, so a single
signature on the root covers them all.

Why checkpoints. A chain whose last entries were cut off is still a valid, shorter chain: hashes
alone cannot show what is missing at the end. A :class:`Checkpoint` is the chain's head
(sequence and hash) signed with an Ed25519 key kept apart from the writer; :func:`verify`
reports a chain that ends before a checkpoint's sequence, or differs from its hash there, as
truncated.

Storage goes through two small Protocols, :class:`EntryStore` and :class:`KeyStore`, with
in-memory implementations here; the service implements them over SQL tables.
"""

from ethica.ledger._canonical import canonical_json, rfc3339
from ethica.ledger._chain import ROOT_CHAIN, Ledger
from ethica.ledger._checkpoint import (
    Checkpoint,
    generate_signing_key,
    load_private_key,
    load_public_key,
    private_key_pem,
    public_key_pem,
    sign_checkpoint,
    verify_checkpoint,
)
from ethica.ledger._entry import GENESIS_HASH, Entry, Sealed, entry_hash
from ethica.ledger._errors import (
    ErasedError,
    LedgerError,
    MasterKeyError,
    SequenceConflictError,
    TamperedError,
)
from ethica.ledger._keys import KeyRing, KeyStore, MasterKey, MemoryKeyStore, WrappedKey
from ethica.ledger._merkle import (
    EMPTY_ROOT,
    Frontier,
    MerkleTree,
    leaf_hash,
    merkle_root,
    node_hash,
    verify_consistency,
    verify_inclusion,
)
from ethica.ledger._store import EntryStore, MemoryEntryStore
from ethica.ledger._verify import Problem, ProblemKind, VerificationReport, verify

__all__ = [
    "verify_inclusion",
    "verify_consistency",
    "node_hash",
    "merkle_root",
    "leaf_hash",
    "MerkleTree",
    "Frontier",
    "EMPTY_ROOT",
    "GENESIS_HASH",
    "ROOT_CHAIN",
    "Checkpoint",
    "Entry",
    "EntryStore",
    "ErasedError",
    "KeyRing",
    "KeyStore",
    "Ledger",
    "LedgerError",
    "MasterKey",
    "MasterKeyError",
    "MemoryEntryStore",
    "MemoryKeyStore",
    "Problem",
    "ProblemKind",
    "Sealed",
    "SequenceConflictError",
    "TamperedError",
    "VerificationReport",
    "WrappedKey",
    "canonical_json",
    "entry_hash",
    "generate_signing_key",
    "load_private_key",
    "load_public_key",
    "private_key_pem",
    "public_key_pem",
    "rfc3339",
    "sign_checkpoint",
    "verify",
    "verify_checkpoint",
]
