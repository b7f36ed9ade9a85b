"""Verify chains of entries: name the first broken entry of each chain and what is wrong."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ethica.errors import InputError
from ethica.ledger._canonical import rfc3339
from ethica.ledger._checkpoint import Checkpoint, verify_checkpoint
from ethica.ledger._entry import GENESIS_HASH, Entry, entry_hash

__all__ = ["Problem", "ProblemKind", "VerificationReport", "verify"]

ProblemKind = Literal["edited", "deleted", "inserted", "reordered", "truncated", "forged"]
"""What is wrong with an entry, a chain, or a checkpoint.

- ``edited``: an entry's hash does not match its content;
- ``deleted``: a gap in the sequence, or an entry does not link to the hash of the one before;
- ``inserted``: a sequence number appears twice (an extra entry);
- ``reordered``: a sequence number comes before a smaller one;
- ``truncated``: a chain ends before a signed checkpoint (or an anchor) vouches, or differs
  from it at that sequence;
- ``forged``: a checkpoint's signature does not verify with the given public key.
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
class VerificationReport:
    """The outcome of :func:`verify`.

    Attributes
    ----------
    ok : bool
        ``True`` when no problem was found.
    entries_checked : int
        How many entries were given.
    heads : dict
        Per chain, the last sequence number verified before any problem (-1 if none).
    checkpoints_checked : int
        How many checkpoints were given.
    problems : tuple of Problem
        At most one per chain (its first broken entry, in input order), then one per forged
        checkpoint or failed truncation check.
    """

    ok: bool
    entries_checked: int
    heads: dict[str, int] = field(default_factory=dict)
    checkpoints_checked: int = 0
    problems: tuple[Problem, ...] = ()

    @property
    def first_problem(self) -> Problem | None:
        """Return the first problem found, or ``None`` when the ledger verifies."""
        return self.problems[0] if self.problems else None

    def __str__(self) -> str:
        if self.ok:
            return (
                f"ledger verifies: {self.entries_checked} entries in {len(self.heads)} chains, "
                f"{self.checkpoints_checked} checkpoints"
            )
        lines = [f"ledger does NOT verify ({len(self.problems)} problems):"]
        return "\n".join(lines + [f"- {problem}" for problem in self.problems])


@dataclass
class _ChainResult:
    verified: list[Entry]
    problem: Problem | None
    problem_index: int


def verify(
    entries: Iterable[Entry],
    *,
    checkpoint: Checkpoint | Sequence[Checkpoint] | None = None,
    public_key: Ed25519PublicKey | None = None,
) -> VerificationReport:
    """Check that ``entries`` form unbroken hash chains, and reach every signed checkpoint.

    Parameters
    ----------
    entries : iterable of Entry
        The entries of one or more chains, each chain from sequence 0 in the order its store
        returned them (chains may be interleaved).
    checkpoint : Checkpoint or sequence of Checkpoint, optional
        Signed heads the chains must reach; without one, a chain whose tail was cut off
        still verifies (it is a valid, shorter chain).
    public_key : Ed25519PublicKey, optional
        The checkpoint signer's public key; required with ``checkpoint``.

    Returns
    -------
    VerificationReport
        ``ok``, counts, and the first broken entry of each chain with what is wrong.

    Notes
    -----
    Anchor entries (kind ``"anchor"``, see :meth:`Ledger.anchor`) are checked like unsigned
    checkpoints for the anchored chains that are among ``entries``.
    """
    checkpoints = _as_checkpoints(checkpoint)
    if checkpoints and public_key is None:
        raise InputError(
            "a checkpoint proves nothing without its signer's public key: pass public_key="
        )
    by_chain: dict[str, list[tuple[int, Entry]]] = {}
    count = 0
    for index, entry in enumerate(entries):
        by_chain.setdefault(entry.chain, []).append((index, entry))
        count += 1
    results = {name: _check_chain(name, items) for name, items in by_chain.items()}
    located = sorted(
        ((result.problem_index, result.problem) for result in results.values() if result.problem),
        key=lambda pair: pair[0],
    )
    problems = [problem for _, problem in located]
    for cp in checkpoints:
        if public_key is None or not verify_checkpoint(cp, public_key):
            problems.append(
                Problem(
                    "forged",
                    cp.chain,
                    cp.sequence,
                    f"the checkpoint signed at {rfc3339(cp.signed_at)} does not verify with the "
                    "public key: it was forged or altered",
                )
            )
            continue
        reached = _reaches(results, cp.chain, cp.sequence, cp.head_hash, source="a checkpoint")
        if reached is not None:
            problems.append(reached)
    problems += _check_anchors(results)
    heads = {name: len(result.verified) - 1 for name, result in results.items()}
    return VerificationReport(
        ok=not problems,
        entries_checked=count,
        heads=heads,
        checkpoints_checked=len(checkpoints),
        problems=tuple(problems),
    )


def _check_chain(name: str, items: list[tuple[int, Entry]]) -> _ChainResult:
    verified: list[Entry] = []
    previous_hash = GENESIS_HASH
    for position, (index, entry) in enumerate(items):
        expected = len(verified)
        sequence = entry.sequence
        problem: Problem | None = None
        if sequence < expected:
            problem = Problem(
                "inserted",
                name,
                sequence,
                f"sequence {sequence} appears again after sequence {expected - 1}: "
                "an extra entry was inserted",
            )
        elif sequence > expected:
            later = {other.sequence for _, other in items[position + 1 :]}
            if expected in later:
                problem = Problem(
                    "reordered",
                    name,
                    sequence,
                    f"sequence {sequence} comes before sequence {expected}: entries were reordered",
                )
            else:
                missing = (
                    f"sequence {expected} is"
                    if sequence == expected + 1
                    else f"sequences {expected} to {sequence - 1} are"
                )
                problem = Problem(
                    "deleted", name, sequence, f"{missing} missing before it: entries were deleted"
                )
        elif entry_hash(entry) != entry.hash:
            problem = Problem(
                "edited",
                name,
                sequence,
                "its hash does not match its content: the entry was edited after it was recorded",
            )
        elif entry.previous_hash != previous_hash:
            before = "the chain's start" if sequence == 0 else f"sequence {sequence - 1}"
            problem = Problem(
                "deleted",
                name,
                sequence,
                f"its previous_hash does not match the hash of {before}: the entry it was "
                "chained to was deleted or replaced",
            )
        if problem is not None:
            return _ChainResult(verified, problem, index)
        verified.append(entry)
        previous_hash = entry.hash
    return _ChainResult(verified, None, -1)


def _reaches(
    results: Mapping[str, _ChainResult], chain: str, sequence: int, head_hash: str, *, source: str
) -> Problem | None:
    result = results.get(chain)
    if result is None:
        return Problem(
            "truncated",
            chain,
            0,
            f"no entry of the chain was given, but {source} vouches for sequence {sequence}",
        )
    if sequence < len(result.verified):
        actual = result.verified[sequence].hash
        if actual == head_hash:
            return None
        return Problem(
            "truncated",
            chain,
            sequence,
            f"{source} vouches for hash {head_hash[:12]}… at sequence {sequence}, the chain has "
            f"{actual[:12]}…: it was cut back and rewritten after being vouched for",
        )
    if result.problem is not None:
        return None  # the chain already breaks before this sequence; that is reported
    last = len(result.verified) - 1
    return Problem(
        "truncated",
        chain,
        last + 1,
        f"the chain ends at sequence {last}, but {source} vouches for sequence {sequence}: "
        "entries were removed from its end",
    )


def _check_anchors(results: Mapping[str, _ChainResult]) -> list[Problem]:
    problems: list[Problem] = []
    reported: set[str] = set()
    for root, result in results.items():
        for anchor in result.verified:
            heads = anchor.public.get("heads") if anchor.kind == "anchor" else None
            if not isinstance(heads, dict):
                continue
            for chain, head in heads.items():
                if chain in reported or chain not in results or not _is_head(head):
                    continue
                source = f"the anchor {root}#{anchor.sequence}"
                problem = _reaches(results, chain, head["sequence"], head["hash"], source=source)
                if problem is not None:
                    problems.append(problem)
                    reported.add(chain)
    return problems


def _is_head(head: Any) -> bool:
    return (
        isinstance(head, dict)
        and isinstance(head.get("sequence"), int)
        and isinstance(head.get("hash"), str)
    )


def _as_checkpoints(checkpoint: Checkpoint | Sequence[Checkpoint] | None) -> list[Checkpoint]:
    if checkpoint is None:
        return []
    if isinstance(checkpoint, Checkpoint):
        return [checkpoint]
    return list(checkpoint)
