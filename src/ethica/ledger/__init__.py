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

Why signed heads. A chain whose last entries were cut off, or were rewritten with every hash
recomputed, is still a valid chain: hashes alone cannot show it. A :class:`SignedHead` is the
chain's size and RFC 6962 Merkle root (see :class:`MerkleTree`), signed with an Ed25519 key
kept apart from the writer, and also given to a :class:`Witness` outside the database (an
append-only :class:`FileWitness`, an auditor's copy). :func:`verify` checks each chain against
every head: truncation, rewriting, a backdated entry appended after a head, a forged head, and a
head deleted from the ledger but kept by the witness are each named. An
:class:`InclusionProof` lets a customer check one entry against a head offline, and a
:class:`ConsistencyProof` that a newer head extends an older one. The older :class:`Checkpoint`
(one entry's hash, signed) is still verified.

Why records. Stores hand out the text that was hashed (:data:`StoredEntry`), and
:func:`verify_store` hashes it as it is, streaming each chain through a Merkle frontier; a
:class:`ChainProgress` lets it resume from the newest verified head, reading only new entries.

Storage goes through small Protocols, :class:`EntryStore` (and :class:`RecordStore`) and
:class:`KeyStore`, with in-memory implementations here; the service implements them over SQL
tables.
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
from ethica.ledger._entry import (
    GENESIS_HASH,
    Entry,
    Sealed,
    StoredEntry,
    entry_hash,
    entry_record,
    record_entry,
)
from ethica.ledger._erasure_journal import ErasureJournal, ErasureRecord
from ethica.ledger._errors import (
    ErasedError,
    LedgerError,
    MasterKeyError,
    SequenceConflictError,
    TamperedError,
)
from ethica.ledger._head import SignedHead, sign_head, verify_head
from ethica.ledger._key_file import KeyFile
from ethica.ledger._keys import (
    PSEUDONYM_KEY_PREFIX,
    PSEUDONYM_PREFIX,
    KeyRing,
    KeyStore,
    MasterKey,
    MemoryKeyStore,
    WrappedKey,
    is_pseudonym,
)
from ethica.ledger._merkle import (
    EMPTY_ROOT,
    Frontier,
    MerkleTree,
    inclusion_path,
    leaf_hash,
    merkle_root,
    node_hash,
    verify_consistency,
    verify_inclusion,
)
from ethica.ledger._proofs import ConsistencyProof, InclusionProof
from ethica.ledger._store import EntryStore, MemoryEntryStore, RecordStore
from ethica.ledger._verify import (
    ChainProgress,
    HalfTask,
    ParallelReading,
    Problem,
    ProblemKind,
    VerificationReport,
    stored_hash,
    verify,
    verify_store,
)
from ethica.ledger._witness import FileWitness, Witness

__all__ = [
    "EMPTY_ROOT",
    "GENESIS_HASH",
    "PSEUDONYM_KEY_PREFIX",
    "PSEUDONYM_PREFIX",
    "ROOT_CHAIN",
    "ChainProgress",
    "Checkpoint",
    "ConsistencyProof",
    "Entry",
    "EntryStore",
    "ErasedError",
    "ErasureJournal",
    "ErasureRecord",
    "FileWitness",
    "Frontier",
    "HalfTask",
    "InclusionProof",
    "KeyFile",
    "KeyRing",
    "KeyStore",
    "Ledger",
    "LedgerError",
    "MasterKey",
    "MasterKeyError",
    "MemoryEntryStore",
    "MemoryKeyStore",
    "MerkleTree",
    "ParallelReading",
    "Problem",
    "ProblemKind",
    "RecordStore",
    "Sealed",
    "SequenceConflictError",
    "SignedHead",
    "StoredEntry",
    "TamperedError",
    "VerificationReport",
    "Witness",
    "WrappedKey",
    "canonical_json",
    "entry_hash",
    "entry_record",
    "generate_signing_key",
    "inclusion_path",
    "is_pseudonym",
    "leaf_hash",
    "load_private_key",
    "load_public_key",
    "merkle_root",
    "node_hash",
    "private_key_pem",
    "public_key_pem",
    "record_entry",
    "rfc3339",
    "sign_checkpoint",
    "sign_head",
    "stored_hash",
    "verify",
    "verify_checkpoint",
    "verify_consistency",
    "verify_head",
    "verify_inclusion",
    "verify_store",
]
