"""Verify chains of entries: name the first broken entry of each chain and what is wrong.

Every entry is hashed from the text its store keeps (:data:`StoredEntry`), without decoding
and re-encoding it, and fed to a Merkle :class:`Frontier`; at each signed head's size the tree
hash must equal the signed root. So one streaming pass, ``log2(n)`` hashes of memory, checks the
hash links, every signed head, every checkpoint and anchor. Verification can resume from the
newest signed head it verified (:class:`ChainProgress`), reading only the entries after it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from json.encoder import encode_basestring
from typing import Any, Literal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ethica.errors import InputError
from ethica.ledger._canonical import rfc3339
from ethica.ledger._checkpoint import Checkpoint, verify_checkpoint
from ethica.ledger._entry import (
    GENESIS_HASH,
    LEDGER_FORMAT,
    Entry,
    StoredEntry,
    entry_record,
)
from ethica.ledger._head import SignedHead, verify_head
from ethica.ledger._merkle import EMPTY_ROOT, Frontier
from ethica.ledger._store import RecordStore

__all__ = [
    "ChainProgress",
    "Problem",
    "ProblemKind",
    "VerificationReport",
    "stored_hash",
    "verify",
    "verify_store",
]

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


def stored_hash(chain: str, record: StoredEntry) -> str:
    """Return the hex SHA-256 of a stored record's content (what its ``hash`` should be)."""
    return hashlib.sha256(_content(chain, record)).hexdigest()


def verify(
    entries: Iterable[Entry],
    *,
    checkpoint: Checkpoint | Sequence[Checkpoint] | None = None,
    public_key: Ed25519PublicKey | None = None,
    heads: Iterable[SignedHead] = (),
    witnessed: Iterable[SignedHead] | None = None,
) -> VerificationReport:
    """Check that ``entries`` form unbroken hash chains that every signed head vouches for.

    Parameters
    ----------
    entries : iterable of Entry
        The entries of one or more chains, each chain from sequence 0 in the order its store
        returned them (chains may be interleaved).
    checkpoint : Checkpoint or sequence of Checkpoint, optional
        Signed chain heads (the older form of :class:`SignedHead`) the chains must reach.
    public_key : Ed25519PublicKey, optional
        The signer's public key; required with ``checkpoint``, ``heads`` or ``witnessed``.
    heads : iterable of SignedHead, optional
        The ledger's own signed heads: each chain's first ``size`` entries must have the
        signed root; entries recorded before the newest head and not covered are forged.
        Without any, a chain whose tail was cut off still verifies (a valid, shorter chain).
    witnessed : iterable of SignedHead, optional
        Heads a witness kept outside the ledger; checked the same way, and each missing from
        ``heads`` is reported (deleted head rows).

    Returns
    -------
    VerificationReport
        ``ok``, counts, and the first broken entry of each chain with what is wrong.

    Notes
    -----
    Anchor entries (kind ``"anchor"``, see :meth:`Ledger.anchor`) are checked like unsigned
    checkpoints for the anchored chains that are among ``entries``.
    """
    by_chain: dict[str, list[tuple[int, Entry]]] = {}
    count = 0
    for index, entry in enumerate(entries):
        by_chain.setdefault(entry.chain, []).append((index, entry))
        count += 1

    def records(chain: str, start: int) -> Iterator[StoredEntry]:
        return (entry_record(entry) for _, entry in by_chain.get(chain, [])[start:])

    def input_index(chain: str, position: int) -> int:
        return by_chain[chain][position][0] if chain in by_chain else -1

    def hash_at(chain: str, sequence: int) -> str | None:
        items = by_chain.get(chain, [])
        return items[sequence][1].hash if 0 <= sequence < len(items) else None

    return _Verification(
        checkpoints=_as_checkpoints(checkpoint),
        heads=list(heads),
        witnessed=None if witnessed is None else list(witnessed),
        public_key=public_key,
    ).run(list(by_chain), records, hash_at, input_index, given=set(by_chain), count=count)


def verify_store(
    store: RecordStore,
    *,
    chains: Sequence[str] | None = None,
    checkpoint: Checkpoint | Sequence[Checkpoint] | None = None,
    public_key: Ed25519PublicKey | None = None,
    heads: Iterable[SignedHead] = (),
    witnessed: Iterable[SignedHead] | None = None,
    since: Mapping[str, ChainProgress] | None = None,
) -> VerificationReport:
    """Verify the chains of a store (all by default) as :func:`verify` does, reading records.

    Parameters
    ----------
    store : RecordStore
        Where the chains are; read one chain at a time, as stored text.
    chains : sequence of str, optional
        The chains to verify; by default every chain of the store and of the heads.
    since : mapping of chain to ChainProgress, optional
        Resume each chain from its newest verified signed head (a report's ``progress``):
        only the entries after it are read, hashed and checked, and heads, checkpoints and
        anchors about earlier entries are taken as verified then.
    checkpoint, public_key, heads, witnessed
        As for :func:`verify`.
    """
    head_list, witness_list = list(heads), None if witnessed is None else list(witnessed)
    if chains is None:
        named = set(store.chains())
        named.update(h.chain for h in head_list + (witness_list or []))
        names = sorted(named)
    else:
        names = list(chains)

    def records(chain: str, start: int) -> Iterator[StoredEntry]:
        return store.records(chain, start=start)

    def hash_at(chain: str, sequence: int) -> str | None:
        for record in store.records(chain, start=sequence):
            return record[-1] if record[0] == sequence else None
        return None

    return _Verification(
        checkpoints=_as_checkpoints(checkpoint),
        heads=head_list,
        witnessed=witness_list,
        public_key=public_key,
        since=dict(since or {}),
    ).run(
        names,
        records,
        hash_at,
        lambda chain, position: position,
        given=None,
        count=None,
        only=chains is not None,
    )


@dataclass
class _ChainResult:
    chain: str
    verified: int  # entries verified from sequence 0 (or from the resumed head)
    checked: int
    problem: Problem | None = None
    problem_position: int = -1
    progress: ChainProgress | None = None
    unsigned: int = 0
    resumed_from: int = 0
    extra: list[Problem] = field(default_factory=list)
    anchors: list[tuple[int, dict[str, Any]]] = field(default_factory=list)


_Claim = tuple[str, int, str, str]  # chain, sequence, hash, who vouches


class _Verification:
    def __init__(
        self,
        *,
        checkpoints: list[Checkpoint],
        heads: list[SignedHead],
        witnessed: list[SignedHead] | None,
        public_key: Ed25519PublicKey | None,
        since: dict[str, ChainProgress] | None = None,
    ) -> None:
        if (checkpoints or heads or witnessed or since) and public_key is None:
            raise InputError(
                "a signed head or checkpoint proves nothing without its signer's public key: "
                "pass public_key="
            )
        self.checkpoints = checkpoints
        self.heads = heads
        self.witnessed = witnessed
        self.public_key = public_key
        self.since = since or {}
        self.problems: list[Problem] = []
        self.invalid: set[tuple[str, int, str, bytes]] = set()

    def run(
        self,
        names: Sequence[str],
        records: Callable[[str, int], Iterator[StoredEntry]],
        hash_at: Callable[[str, int], str | None],
        input_index: Callable[[str, int], int],
        *,
        given: set[str] | None,
        count: int | None,
        only: bool = False,
    ) -> VerificationReport:
        valid_heads = self._valid_heads()
        if only:
            valid_heads = [h for h in valid_heads if h.chain in names]
        for chain in sorted({h.chain for h in valid_heads} - set(names)):
            names = [*names, chain]  # a chain that vanished with its heads kept elsewhere
        results: dict[str, _ChainResult] = {}
        for chain in names:
            chain_heads = sorted(
                (h for h in valid_heads if h.chain == chain), key=lambda h: (h.size, h.signed_at)
            )
            progress = self.since.get(chain)
            if progress is not None and progress.head.chain != chain:
                raise InputError(f"the progress given for chain {chain!r} is of another chain")
            start = progress.head.size - 1 if progress is not None and progress.head.size else 0
            results[chain] = _check_chain(chain, records(chain, start), chain_heads, progress)
        located = sorted(
            (
                (input_index(r.chain, r.problem_position), r.problem)
                for r in results.values()
                if r.problem is not None
            ),
            key=lambda pair: pair[0],
        )
        problems = [problem for _, problem in located]
        for result in results.values():
            problems += result.extra
        claims = self._checkpoint_claims() + _anchor_claims(results)
        problems += self.problems
        problems += _check_claims(claims, results, hash_at, given)
        if self.witnessed is not None:
            problems += _compare_with_witness(
                self._signed(self.heads), self._signed(self.witnessed)
            )
        total = sum(r.checked for r in results.values()) if count is None else count
        return VerificationReport(
            ok=not problems,
            entries_checked=total,
            heads={
                name: r.resumed_from + r.verified - 1
                for name, r in results.items()
                if given is None or name in given
            },
            checkpoints_checked=len(self.checkpoints),
            problems=tuple(problems),
            signed_heads_checked=len(valid_heads),
            progress={name: r.progress for name, r in results.items() if r.progress is not None},
            unsigned={name: r.unsigned for name, r in results.items() if r.unsigned},
        )

    def _signed(self, heads: list[SignedHead]) -> list[SignedHead]:
        return [h for h in heads if _key(h) not in self.invalid]

    def _valid_heads(self) -> list[SignedHead]:
        """Check each head's signature once; those before a resumed head are taken as checked."""
        unique: dict[tuple[str, int, str, bytes], SignedHead] = {}
        for head in self.heads + (self.witnessed or []):
            unique.setdefault(_key(head), head)
        for progress in self.since.values():
            unique.setdefault(_key(progress.head), progress.head)
        valid: list[SignedHead] = []
        for head in unique.values():
            resumed = self.since.get(head.chain)
            if resumed is not None and head.size < resumed.head.size:
                continue
            if self.public_key is not None and verify_head(head, self.public_key):
                valid.append(head)
                continue
            self.invalid.add(_key(head))
            self.problems.append(
                Problem(
                    "forged",
                    head.chain,
                    head.size,
                    f"{head.describe()} does not verify with the public key: it was forged "
                    "or altered",
                )
            )
        return valid

    def _checkpoint_claims(self) -> list[_Claim]:
        claims: list[_Claim] = []
        for cp in self.checkpoints:
            if self.public_key is None or not verify_checkpoint(cp, self.public_key):
                self.problems.append(
                    Problem(
                        "forged",
                        cp.chain,
                        cp.sequence,
                        f"the checkpoint signed at {rfc3339(cp.signed_at)} does not verify with "
                        "the public key: it was forged or altered",
                    )
                )
                continue
            claims.append((cp.chain, cp.sequence, cp.head_hash, "a checkpoint"))
        return claims


_FORMAT = encode_basestring(LEDGER_FORMAT)


def _check_chain(
    chain: str,
    records: Iterator[StoredEntry],
    heads: list[SignedHead],
    progress: ChainProgress | None,
) -> _ChainResult:
    """Hash and link the chain's records, and check each signed head's root on the way."""
    result = _ChainResult(chain, verified=0, checked=0)
    frontier, expected, previous = Frontier(), 0, GENESIS_HASH
    latest = max(heads, key=lambda h: h.signed_at, default=None)
    cutoff_size = latest.size if latest is not None else -1
    cutoff_time = rfc3339(latest.signed_at) if latest is not None else ""
    if progress is not None and progress.head.size > 0:
        resumed = _resume(chain, records, progress, result)
        if resumed is None:
            return result
        frontier, expected, previous = resumed
        result.resumed_from = expected
        heads = [h for h in heads if h.size > expected]
    pending = list(heads)
    _check_sizes_in_time(chain, heads, result)
    rewritten = False
    if pending and pending[0].size == 0:
        rewritten = _check_root(chain, frontier, pending, result, previous)

    prefix = '{"chain":' + encode_basestring(chain) + ',"format":' + _FORMAT + ',"key_id":'
    sha256 = hashlib.sha256
    stack = frontier._stack  # noqa: SLF001 (the hot loop extends the frontier in place)
    size = frontier.size
    next_size = pending[0].size if pending else -1
    first = expected
    for record in records:
        (sequence, recorded_at, kind, subject, public, nonce, ciphertext, key_id, link, stored) = (
            record
        )
        if sequence != expected or link != previous:
            result.problem = _break(chain, record, expected, previous, records)
            break
        # ``link`` equals the previous verified hash (hex) already; the other strings are
        # quoted as stored unless they hold a quote or backslash, so the bytes still split
        # into fields one way only. A control character (escaped in canonical JSON) fails the
        # hash here; the entry is then hashed again with every string escaped.
        joined = f"{recorded_at}{kind}{subject}{key_id}{nonce}{ciphertext}"
        if '"' in joined or "\\" in joined or (nonce is None) is not (ciphertext is None):
            content = _content(chain, record)
        else:
            quoted_key = "null" if key_id is None else f'"{key_id}"'
            quoted_subject = "null" if subject is None else f'"{subject}"'
            sealed = (
                "null"
                if ciphertext is None
                else f'{{"ciphertext":"{ciphertext}","nonce":"{nonce}"}}'
            )
            content = (
                f'{prefix}{quoted_key},"kind":"{kind}","previous_hash":"{link}",'
                f'"public":{public},"recorded_at":"{recorded_at}","sealed":{sealed},'
                f'"sequence":{sequence},"subject":{quoted_subject}}}'
            ).encode("utf-8", "surrogatepass")
        digest = sha256(content).digest()
        if digest.hex() != stored:
            digest = sha256(_content(chain, record)).digest()
            if digest.hex() != stored:
                result.problem = Problem(
                    "edited",
                    chain,
                    sequence,
                    "its hash does not match its content: the entry was edited after it was "
                    "recorded",
                )
                break
        if sequence >= cutoff_size and recorded_at < cutoff_time and latest is not None:
            result.problem = Problem(
                "forged",
                chain,
                sequence,
                f"it was recorded at {recorded_at}, before {latest.describe()}, which does not "
                "cover it: it was appended after the fact",
            )
            break
        stack.append(sha256(b"\x00" + digest).digest())
        size += 1
        carry = size
        while not carry & 1:
            right = stack.pop()
            stack[-1] = sha256(b"\x01" + stack[-1] + right).digest()
            carry >>= 1
        if kind == "anchor":
            result.anchors.append((sequence, json.loads(public)))
        previous = stored
        expected += 1
        if size == next_size:
            frontier.size = size
            if not rewritten:
                rewritten = _check_root(chain, frontier, pending, result, previous)
            next_size = pending[0].size if pending else -1
    frontier.size = size
    # Every record before a problem was verified, so its position is how many were.
    position = expected - first
    result.checked += position
    result.problem_position = position
    result.verified = expected - result.resumed_from
    if result.problem is None and not rewritten:
        for head in pending:
            if head.size > size:
                ends = (
                    "the chain has no entries"
                    if size == 0
                    else f"the chain ends at sequence {size - 1}"
                )
                result.extra.append(
                    Problem(
                        "truncated",
                        chain,
                        size,
                        f"{ends}, but {head.describe()} covers {head.size}: entries were "
                        "removed from its end",
                    )
                )
                break
    if latest is not None:
        result.unsigned = max(size - latest.size, 0)
    return result


def _resume(
    chain: str, records: Iterator[StoredEntry], progress: ChainProgress, result: _ChainResult
) -> tuple[Frontier, int, str] | None:
    """Check the resumed state: frontier against the signed root, last entry against the store."""
    head = progress.head
    try:
        frontier = Frontier.restore(head.size, [bytes.fromhex(h) for h in progress.frontier])
    except ValueError as error:
        raise InputError(f"the progress of chain {chain!r} is damaged: {error}") from None
    if frontier.root().hex() != head.root:
        raise InputError(
            f"the progress of chain {chain!r} does not match the root of {head.describe()}: "
            "verify the chain in full"
        )
    last = next(records, None)
    if last is None or last[0] != head.size - 1 or last[-1] != progress.last_hash:
        result.problem = Problem(
            "rewritten",
            chain,
            head.size - 1,
            f"the entry at sequence {head.size - 1} is not the one {head.describe()} covered "
            "when it was verified: the chain was cut back or rewritten",
        )
        return None
    if stored_hash(chain, last) != last[-1]:
        result.problem = Problem(
            "edited",
            chain,
            last[0],
            "its hash does not match its content: the entry was edited after it was recorded",
        )
        return None
    result.checked = 1
    return frontier, head.size, progress.last_hash


def _check_root(
    chain: str,
    frontier: Frontier,
    pending: list[SignedHead],
    result: _ChainResult,
    last_hash: str,
) -> bool:
    """Compare the tree so far with every pending head of its size; True when one differs."""
    root = frontier.root().hex() if frontier.size else EMPTY_ROOT.hex()
    matched_before = result.progress.head.size if result.progress is not None else 0
    while pending and pending[0].size == frontier.size:
        head = pending.pop(0)
        if head.root != root:
            result.extra.append(
                Problem(
                    "rewritten",
                    chain,
                    matched_before,
                    f"the first {head.size} entries do not have the root of {head.describe()}: "
                    f"an entry from sequence {matched_before} to {head.size - 1} was rewritten, "
                    "or the chain was cut back and regrown",
                )
            )
            return True
        result.progress = ChainProgress(
            head=head,
            last_hash=last_hash,
            frontier=tuple(h.hex() for h in frontier.hashes()),
        )
    return False


def _check_sizes_in_time(chain: str, heads: list[SignedHead], result: _ChainResult) -> None:
    """Report a head that covers fewer entries than one signed before it."""
    largest: SignedHead | None = None
    for head in sorted(heads, key=lambda h: h.signed_at):
        if largest is not None and head.size < largest.size:
            result.extra.append(
                Problem(
                    "rewritten",
                    chain,
                    head.size,
                    f"{head.describe()} covers fewer entries than {largest.describe()}: the chain "
                    "was cut back between them",
                )
            )
            return
        if largest is None or head.size > largest.size:
            largest = head


def _break(
    chain: str,
    record: StoredEntry,
    expected: int,
    previous: str,
    rest: Iterator[StoredEntry],
) -> Problem:
    """Name why ``record`` does not continue the chain (sequence or link)."""
    sequence = record[0]
    if sequence < expected:
        return Problem(
            "inserted",
            chain,
            sequence,
            f"sequence {sequence} appears again after sequence {expected - 1}: "
            "an extra entry was inserted",
        )
    if sequence > expected:
        if any(other[0] == expected for other in rest):
            return Problem(
                "reordered",
                chain,
                sequence,
                f"sequence {sequence} comes before sequence {expected}: entries were reordered",
            )
        missing = (
            f"sequence {expected} is"
            if sequence == expected + 1
            else f"sequences {expected} to {sequence - 1} are"
        )
        return Problem(
            "deleted", chain, sequence, f"{missing} missing before it: entries were deleted"
        )
    if stored_hash(chain, record) != record[-1]:
        return Problem(
            "edited",
            chain,
            sequence,
            "its hash does not match its content: the entry was edited after it was recorded",
        )
    before = "the chain's start" if sequence == 0 else f"sequence {sequence - 1}"
    return Problem(
        "deleted",
        chain,
        sequence,
        f"its previous_hash does not match the hash of {before}: the entry it was "
        "chained to was deleted or replaced",
    )


def _content(chain: str, record: StoredEntry) -> bytes:
    """Return the canonical content of a stored record, every string escaped as JSON."""
    sequence, recorded_at, kind, subject, public, nonce, ciphertext, key_id, link, _ = record
    sealed = (
        "null"
        if nonce is None and ciphertext is None
        else f'{{"ciphertext":{_quote(ciphertext)},"nonce":{_quote(nonce)}}}'
    )
    return (
        f'{{"chain":{_quote(chain)},"format":{_FORMAT},"key_id":{_quote(key_id)},'
        f'"kind":{_quote(kind)},"previous_hash":{_quote(link)},"public":{public},'
        f'"recorded_at":{_quote(recorded_at)},"sealed":{sealed},"sequence":{int(sequence)},'
        f'"subject":{_quote(subject)}}}'
    ).encode("utf-8", "surrogatepass")


def _quote(value: str | None) -> str:
    return "null" if value is None else str(encode_basestring(value))


def _anchor_claims(results: Mapping[str, _ChainResult]) -> list[_Claim]:
    """Return the newest head each anchor entry vouches for, per anchored chain."""
    newest: dict[str, _Claim] = {}
    for root, result in results.items():
        for sequence, public in result.anchors:
            heads = public.get("heads") if isinstance(public, dict) else None
            if not isinstance(heads, dict):
                continue
            for chain, head in heads.items():
                if not _is_head(head) or chain == root:
                    continue
                claim = (chain, head["sequence"], head["hash"], f"the anchor {root}#{sequence}")
                if chain not in newest or claim[1] >= newest[chain][1]:
                    newest[chain] = claim
    return list(newest.values())


def _check_claims(
    claims: list[_Claim],
    results: Mapping[str, _ChainResult],
    hash_at: Callable[[str, int], str | None],
    given: set[str] | None,
) -> list[Problem]:
    """Check that each chain reaches what a checkpoint or anchor vouches for."""
    problems: list[Problem] = []
    reported: set[str] = set()
    for chain, sequence, head_hash, source in claims:
        anchored = source.startswith("the anchor")
        result = results.get(chain)
        if chain in reported or (anchored and (result is None or result.checked == 0)):
            continue
        if result is None or (given is not None and chain not in given):
            problems.append(
                Problem(
                    "truncated",
                    chain,
                    0,
                    f"no entry of the chain was given, but {source} vouches for sequence "
                    f"{sequence}",
                )
            )
            reported.add(chain)
            continue
        if sequence < result.resumed_from:
            continue  # vouched for entries that the resumed verification took as verified
        end = result.resumed_from + result.verified
        if sequence < end:
            actual = hash_at(chain, sequence)
            if actual != head_hash:
                problems.append(
                    Problem(
                        "truncated",
                        chain,
                        sequence,
                        f"{source} vouches for hash {head_hash[:12]}… at sequence {sequence}, "
                        f"the chain has {(actual or '')[:12]}…: it was cut back and rewritten "
                        "after being vouched for",
                    )
                )
                reported.add(chain)
            continue
        if result.problem is not None:
            continue  # the chain already breaks before this sequence; that is reported
        problems.append(
            Problem(
                "truncated",
                chain,
                end,
                f"the chain ends at sequence {end - 1}, but {source} vouches for sequence "
                f"{sequence}: entries were removed from its end",
            )
        )
        reported.add(chain)
    return problems


def _compare_with_witness(stored: list[SignedHead], witnessed: list[SignedHead]) -> list[Problem]:
    """Name heads the witness kept that the ledger lacks, and the reverse where it matters."""
    key = _key
    problems: list[Problem] = []
    stored_keys = {key(h) for h in stored}
    witnessed_keys = {key(h) for h in witnessed}
    for head in witnessed:
        if key(head) not in stored_keys:
            problems.append(
                Problem(
                    "deleted",
                    head.chain,
                    head.size,
                    f"{head.describe()}, kept by the witness, is missing from the ledger's own "
                    "heads: head rows were deleted",
                )
            )
    newest_witnessed: dict[str, SignedHead] = {}
    for head in witnessed:
        if (
            head.chain not in newest_witnessed
            or head.signed_at > newest_witnessed[head.chain].signed_at
        ):
            newest_witnessed[head.chain] = head
    for head in stored:
        newest = newest_witnessed.get(head.chain)
        if key(head) in witnessed_keys or newest is None or head.signed_at > newest.signed_at:
            continue  # signed after the witness's newest head: it may not have reached it yet
        problems.append(
            Problem(
                "deleted",
                head.chain,
                head.size,
                f"{head.describe()} is missing from the witness, which kept heads signed after "
                "it: lines were removed from the witness",
            )
        )
    return problems


def _key(head: SignedHead) -> tuple[str, int, str, bytes]:
    return (head.chain, head.size, head.root, head.signature)


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
