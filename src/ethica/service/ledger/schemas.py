"""Pydantic schemas of the ledger's routes."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from ethica.ledger import InclusionProof, SignedHead, VerificationReport


class VerificationRead(BaseModel):
    """The result of verifying every chain against its signed heads and checkpoints."""

    ok: bool = Field(description="True when every chain, head and checkpoint verifies.")
    entries_checked: int = Field(description="Entries whose hashes were recomputed.")
    checkpoints_checked: int = Field(description="Signed checkpoints (the older form) checked.")
    signed_heads_checked: int = Field(
        description="Signed tree heads checked, from the database and the witness file."
    )
    heads: dict[str, int] = Field(description="Each chain's newest sequence number.")
    unsigned: dict[str, int] = Field(
        description="Per chain, entries after its newest signed head (signed within a minute)."
    )
    problems: list[str] = Field(
        description="What is wrong: each chain's first broken entry, then heads and checkpoints."
    )

    @classmethod
    def of(cls, report: VerificationReport) -> VerificationRead:
        """The schema of a library verification report."""
        return cls(
            ok=report.ok,
            entries_checked=report.entries_checked,
            checkpoints_checked=report.checkpoints_checked,
            signed_heads_checked=report.signed_heads_checked,
            heads=dict(report.heads),
            unsigned=dict(report.unsigned),
            problems=[str(p) for p in report.problems],
        )


class SignedHeadRead(BaseModel):
    """A chain's signed tree head: keep it, and hold the ledger to it later."""

    format: str = Field(description="Always 'ethica.ledger.head/1': what the signature is of.")
    chain: str = Field(description="The chain (partition) the head is of.")
    size: int = Field(description="How many entries it covers: sequences 0 to size - 1.")
    root: str = Field(description="Hex RFC 6962 Merkle tree hash of those entries' hashes.")
    signed_at: str = Field(description="When it was signed, RFC 3339 UTC, as signed.")
    signature: str = Field(
        description="Base64 Ed25519 signature of the canonical JSON of format, chain, size, "
        "root and signed_at, by the ledger's signing key."
    )

    @classmethod
    def of(cls, head: SignedHead) -> SignedHeadRead:
        """The schema of a library signed head."""
        return cls(**head.to_dict())


class InclusionProofRead(BaseModel):
    """Proof that one ledger entry is in the tree a signed head covers (check it offline)."""

    format: str = Field(description="Always 'ethica.ledger.proof/1'.")
    head: SignedHeadRead = Field(description="The signed head the entry is proven against.")
    sequence: int = Field(description="The entry's place in its chain (its leaf index).")
    entry_hash: str = Field(description="The entry's SHA-256 hash (the leaf's data).")
    path: list[str] = Field(description="Hex sibling hashes from the leaf up (audit path).")
    entry: dict[str, Any] | None = Field(
        description="The entry as hashed: public fields in the clear, personal fields sealed."
    )

    @classmethod
    def of(cls, proof: InclusionProof) -> InclusionProofRead:
        """The schema of a library inclusion proof."""
        return cls(**proof.to_dict())
