"""What a verification found: problems, per-chain progress to resume from, the report."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from ethica.errors import InputError
from ethica.ledger._head import SignedHead

ProblemKind = Literal[
    "edited", "deleted", "inserted", "reordered", "truncated", "rewritten", "forged"
]
"""What is wrong with an entry, a chain, a head or a checkpoint.

- ``edited``: an entry's hash does not match its content;
- ``deleted``: a gap in the sequence, an entry that does not link to the hash of the one
  before, or a signed head that a witness kept and the ledger's own heads lack;
- ``inserted``: a sequence number appears twice (an extra entry);
- ``reordered``: a sequence number comes before a smaller one;
- ``truncated``: a chain ends before a signed head, checkpoint or anchor vouches, or differs
  from a checkpoint or anchor at that sequence;
- ``rewritten``: a chain's first entries no longer have the Merkle root a signed head gives
  them, or a later head covers fewer entries than an earlier one;
- ``forged``: a head's or checkpoint's signature does not verify with the public key, or an
  entry recorded before a signed head is not covered by it (appended after the fact).
"""


@dataclass(frozen=True)
class Problem:
    """One thing found wrong: where (chain, sequence) and what, in words."""

    kind: ProblemKind
    chain: str
    sequence: int
    detail: str

    def __str__(self) -> str:
        return f"{self.chain}#{self.sequence} {self.kind}: {self.detail}"


@dataclass(frozen=True)
class ChainProgress:
    """How far a chain was verified: its newest verified signed head and the tree's right edge.

    Pass it back (``since=``) to verify only the entries after the head. It is the verifier's
    own record: the frontier is checked against the head's signed root, and the last entry's
    hash against the store.
    """

    head: SignedHead
    last_hash: str
    frontier: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """Return the progress as JSON data, to keep between verifications."""
        return {
            "head": self.head.to_dict(),
            "last_hash": self.last_hash,
            "frontier": list(self.frontier),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ChainProgress:
        """Read the form written by :meth:`to_dict`."""
        try:
            return cls(
                head=SignedHead.from_dict(data["head"]),
                last_hash=str(data["last_hash"]),
                frontier=tuple(str(h) for h in data["frontier"]),
            )
        except (KeyError, TypeError) as error:
            raise InputError(f"not a verification progress record: {error!r}") from None


@dataclass(frozen=True)
class VerificationReport:
    """The outcome of :func:`verify` or :func:`verify_store`.

    Attributes
    ----------
    ok : bool
        ``True`` when no problem was found.
    entries_checked : int
        How many entries were hashed and linked.
    heads : dict
        Per chain, the last sequence number verified before any problem (-1 if none).
    checkpoints_checked : int
        How many checkpoints were given.
    problems : tuple of Problem
        At most one per chain for its entries (its first broken entry), then one per forged,
        deleted or unmatched head, checkpoint or anchor.
    signed_heads_checked : int
        How many signed heads (stored and witnessed) were checked against the chains.
    progress : dict
        Per chain, where verification can resume (:class:`ChainProgress`).
    unsigned : dict
        Per chain, how many entries come after its newest signed head (not yet covered).
    """

    ok: bool
    entries_checked: int
    heads: dict[str, int] = field(default_factory=dict)
    checkpoints_checked: int = 0
    problems: tuple[Problem, ...] = ()
    signed_heads_checked: int = 0
    progress: dict[str, ChainProgress] = field(default_factory=dict)
    unsigned: dict[str, int] = field(default_factory=dict)

    @property
    def first_problem(self) -> Problem | None:
        """Return the first problem found, or ``None`` when the ledger verifies."""
        return self.problems[0] if self.problems else None

    def __str__(self) -> str:
        if self.ok:
            return (
                f"ledger verifies: {self.entries_checked} entries in {len(self.heads)} chains, "
                f"{self.signed_heads_checked} signed heads, {self.checkpoints_checked} checkpoints"
            )
        lines = [f"ledger does NOT verify ({len(self.problems)} problems):"]
        return "\n".join(lines + [f"- {problem}" for problem in self.problems])
