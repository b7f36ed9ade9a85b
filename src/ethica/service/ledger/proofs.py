"""Inclusion proofs of the service's ledger entries against their chain's newest signed head."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from ethica.ledger import InclusionProof, SignedHead, inclusion_path
from ethica.service.decisions.tables import Decision
from ethica.service.errors import ConflictError, NotFoundError
from ethica.service.ledger.store import row_entry, stored_heads
from ethica.service.ledger.tables import LedgerEntry, LedgerHead

_LEAVES = (
    select(LedgerEntry.hash)
    .where(LedgerEntry.chain == bindparam("chain"), LedgerEntry.sequence < bindparam("size"))
    .order_by(LedgerEntry.sequence)
    .execution_options(yield_per=10_000)
)


def prove_decision(
    session: Session, decision: Decision, *, public_key: Ed25519PublicKey
) -> InclusionProof:
    """Prove a decision's ledger entry; its row must still name that entry's hash."""
    proof = prove_entry(
        session,
        chain=decision.ledger_chain,
        sequence=decision.ledger_sequence,
        public_key=public_key,
    )
    if proof.entry_hash != decision.ledger_hash:
        raise ConflictError(
            f"decision {decision.id} names ledger hash {decision.ledger_hash[:12]}…, its entry "
            f"{decision.ledger_chain}#{decision.ledger_sequence} has {proof.entry_hash[:12]}…: "
            "the decision row was altered, run the ledger verification"
        )
    return proof


def covering_head(session: Session, *, chain: str, sequence: int) -> SignedHead | None:
    """The newest signed head of ``chain`` that covers the entry at ``sequence``."""
    size = session.scalar(
        select(LedgerHead.size)
        .where(LedgerHead.chain == chain, LedgerHead.size > sequence)
        .order_by(LedgerHead.size.desc())
        .limit(1)
    )
    if size is None:
        return None
    return next(h for h in stored_heads(session, chain=chain) if h.size == size)


def prove_entry(
    session: Session, *, chain: str, sequence: int, public_key: Ed25519PublicKey
) -> InclusionProof:
    """Prove that the entry is in the tree of its chain's newest signed head.

    The proof is checked before it is returned, as its reader will check it with
    ``public_key``: a ledger altered since the head was signed gives no proof.

    Raises
    ------
    NotFoundError
        When there is no such entry.
    ConflictError
        When no head covers the entry yet (they are signed every few seconds while entries
        arrive), or the stored chain no longer matches the head (the ledger was altered).
    """
    row = session.get(LedgerEntry, (chain, sequence))
    if row is None:
        raise NotFoundError(f"the ledger has no entry {chain}#{sequence}")
    head = covering_head(session, chain=chain, sequence=sequence)
    if head is None:
        raise ConflictError(
            f"no signed head covers entry {chain}#{sequence} yet; heads are signed within a "
            "minute of new entries, so ask again shortly"
        )
    hashes = session.scalars(_LEAVES, {"chain": chain, "size": head.size})
    try:
        path = inclusion_path((bytes.fromhex(h) for h in hashes), sequence, head.size)
    except ValueError:  # fewer entries than the head covers: the proof below fails and says so
        path = []
    proof = InclusionProof(
        head=head,
        sequence=sequence,
        entry_hash=row.hash,
        path=tuple(p.hex() for p in path),
        entry=row_entry(row),
    )
    problem = proof.problem(public_key)
    if problem is not None:
        raise ConflictError(
            f"entry {chain}#{sequence} cannot be proven against {head.describe()}: {problem}; "
            "the ledger was altered, run the ledger verification"
        )
    return proof
