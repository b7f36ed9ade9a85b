"""One chain's streaming check: hash links, Merkle roots at each signed head, anchors seen."""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from json.encoder import encode_basestring
from typing import Any

from ethica.errors import InputError
from ethica.ledger._canonical import rfc3339
from ethica.ledger._entry import (
    GENESIS_HASH,
    LEDGER_FORMAT,
    StoredEntry,
)
from ethica.ledger._head import SignedHead
from ethica.ledger._merkle import EMPTY_ROOT, Frontier, node_hash
from ethica.ledger._verify_report import ChainProgress, Problem


def stored_hash(chain: str, record: StoredEntry) -> str:
    """Return the hex SHA-256 of a stored record's content (what its ``hash`` should be)."""
    return hashlib.sha256(_content(chain, record)).hexdigest()


@dataclass
class ChainResult:
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


_FORMAT = encode_basestring(LEDGER_FORMAT)


BLOCK_LEVELS = 10
"""Leaves of a block are ``2**BLOCK_LEVELS``: the hot loop hashes a block's tree by itself, and
blocks join into the chain's tree afterwards, so aligned ranges of blocks can be hashed apart."""
_BLOCK_MASK = (1 << BLOCK_LEVELS) - 1
_IN_BLOCK = range(BLOCK_LEVELS)


@dataclass
class Scan:
    """What one pass over consecutive records of a chain found, up to the first problem."""

    start: int  # the tree size (sequence) the pass started at
    end: int  # the tree size it reached: every record before ``end`` was verified
    first_link: str  # the previous_hash the pass started from (read, when it was not given)
    last_hash: str
    blocks: list[bytes]  # roots of the blocks completed from ``start`` on, in order
    tail: list[bytes]  # roots of the subtrees of the unfinished block, largest first
    at_sizes: dict[int, tuple[tuple[bytes, ...], str]]  # size: (``tail`` then, hash at size-1)
    anchors: list[tuple[int, dict[str, Any]]]
    problem: Problem | None = None

    def then(self, later: Scan) -> Scan:
        """Join this pass with the one that continued it (which starts on a block boundary)."""
        return Scan(
            self.start,
            later.end,
            self.first_link,
            later.last_hash,
            self.blocks + later.blocks,
            later.tail,
            later.at_sizes | self.at_sizes,
            self.anchors + later.anchors,
            later.problem,
        )


def scan(
    chain: str,
    records: Iterator[StoredEntry],
    *,
    start: int,
    previous: str | None,
    sizes: list[int],
    cutoff: SignedHead | None,
    tail: Sequence[bytes] = (),
) -> Scan:
    """Hash and link records from sequence ``start`` on, keeping the tree at each of ``sizes``.

    ``previous`` is the hash the first record must link to; None reads it from that record
    (a range checked apart, whose link the caller checks). ``tail`` holds the roots of the
    subtrees of ``start``'s unfinished block. Entries at or after ``cutoff``'s size must be
    recorded after it was signed. Stops at the first entry that breaks the chain.
    """
    if previous is None:
        first = next(records, None)
        if first is None:
            return Scan(start, start, "", "", [], list(tail), {}, [])
        previous = first[8]
        records = itertools.chain((first,), records)
    result = Scan(start, start, previous, previous, [], list(tail), {}, [])
    result.at_sizes[start] = (tuple(tail), previous)
    cutoff_size = cutoff.size if cutoff is not None else -1
    cutoff_time = rfc3339(cutoff.signed_at) if cutoff is not None else ""
    wanted = iter([s for s in sorted(set(sizes)) if s > start] + [-1])
    next_size = next(wanted)
    prefix = '{"chain":' + encode_basestring(chain) + ',"format":' + _FORMAT + ',"key_id":'
    sha256 = hashlib.sha256
    stack, blocks, at_sizes = result.tail, result.blocks, result.at_sizes
    size = start  # the tree's size, and so the sequence the next record must have
    for record in records:
        (sequence, recorded_at, kind, subject, public, nonce, ciphertext, key_id, link, stored) = (
            record
        )
        if sequence != size or link != previous:
            result.problem = _break(chain, record, size, previous, records)
            break
        # ``link`` equals the previous verified hash (hex) already; the other strings are
        # quoted as stored unless they hold a quote or backslash, so the bytes still split
        # into fields one way only. A control character (escaped in canonical JSON) fails the
        # hash here; the entry is then hashed again with every string escaped.
        joined = f"{recorded_at}{kind}{subject}{key_id}{nonce}{ciphertext}"
        if '"' in joined or "\\" in joined or (nonce is None) is not (ciphertext is None):
            content = _content(chain, record)
        elif key_id is not None and subject is not None and ciphertext is not None:
            content = (  # a decision's entry: every field given, in one string
                f'{prefix}"{key_id}","kind":"{kind}","previous_hash":"{link}",'
                f'"public":{public},"recorded_at":"{recorded_at}","sealed":'
                f'{{"ciphertext":"{ciphertext}","nonce":"{nonce}"}},'
                f'"sequence":{sequence},"subject":"{subject}"}}'
            ).encode("utf-8", "surrogatepass")
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
        if sequence >= cutoff_size and recorded_at < cutoff_time and cutoff is not None:
            result.problem = Problem(
                "forged",
                chain,
                sequence,
                f"it was recorded at {recorded_at}, before {cutoff.describe()}, which does not "
                "cover it: it was appended after the fact",
            )
            break
        stack.append(sha256(b"\x00" + digest).digest())
        size += 1
        if size & 1:  # an odd size completes no subtree
            pass
        elif size & _BLOCK_MASK:
            carry = size
            while not carry & 1:
                right = stack.pop()
                stack[-1] = sha256(b"\x01" + stack[-1] + right).digest()
                carry >>= 1
        else:  # the block is complete: its root joins the chain's tree later
            for _ in _IN_BLOCK:
                right = stack.pop()
                stack[-1] = sha256(b"\x01" + stack[-1] + right).digest()
            blocks.append(stack.pop())
        if kind == "anchor":
            result.anchors.append((sequence, json.loads(public)))
        previous = stored
        if size == next_size:
            at_sizes[size] = (tuple(stack), stored)
            next_size = next(wanted)
    result.end, result.last_hash = size, previous
    return result


def check_chain(
    chain: str,
    records: Iterator[StoredEntry],
    heads: list[SignedHead],
    progress: ChainProgress | None,
) -> ChainResult:
    """Hash and link the chain's records, and check each signed head's root on the way."""
    result = ChainResult(chain, verified=0, checked=0)
    latest = max(heads, key=lambda h: h.signed_at, default=None)
    frontier, previous = Frontier(), GENESIS_HASH
    if progress is not None and progress.head.size > 0:
        resumed = _resume(chain, records, progress, result)
        if resumed is None:
            return result
        frontier, expected, previous = resumed
        result.resumed_from = expected
        heads = [h for h in heads if h.size > expected]
    check_sizes_in_time(chain, heads, result)
    # The resumed tree's subtrees below a block's size are the unfinished block's.
    small = (frontier.size & _BLOCK_MASK).bit_count()
    roots = frontier.hashes()
    passed = scan(
        chain,
        records,
        start=frontier.size,
        previous=previous,
        sizes=[h.size for h in heads],
        cutoff=latest,
        tail=roots[len(roots) - small :],
    )
    blocks = Frontier.restore(frontier.size >> BLOCK_LEVELS, roots[: len(roots) - small])
    return finish(chain, result, passed, heads, blocks, latest)


def finish(
    chain: str,
    result: ChainResult,
    passed: Scan,
    heads: list[SignedHead],
    blocks: Frontier,
    latest: SignedHead | None,
) -> ChainResult:
    """Check each head the scan reached against the tree, then count and name what is left.

    ``blocks`` is the tree of the blocks before the scan's start, one leaf per block.
    """
    result.problem = passed.problem
    result.anchors = passed.anchors
    pending = sorted(heads, key=lambda h: (h.size, h.signed_at))
    done = blocks.size
    rewritten = False
    while pending and pending[0].size <= passed.end:
        head = pending[0]
        while done < head.size >> BLOCK_LEVELS:
            blocks.append_root(passed.blocks[done - (passed.start >> BLOCK_LEVELS)])
            done += 1
        tail, last_hash = passed.at_sizes[head.size]
        subtrees = [*blocks.hashes(), *tail]
        root = subtrees[-1] if subtrees else EMPTY_ROOT
        for subtree in reversed(subtrees[:-1]):
            root = node_hash(subtree, root)
        if head.root != root.hex():
            matched = result.progress.head.size if result.progress is not None else 0
            result.extra.append(
                Problem(
                    "rewritten",
                    chain,
                    matched,
                    f"the first {head.size} entries do not have the root of {head.describe()}: "
                    f"an entry from sequence {matched} to {head.size - 1} was rewritten, "
                    "or the chain was cut back and regrown",
                )
            )
            rewritten = True
            break
        pending.pop(0)
        result.progress = ChainProgress(
            head=head, last_hash=last_hash, frontier=tuple(h.hex() for h in subtrees)
        )
    # Every record before a problem was verified, so its position is how many were.
    position = passed.end - passed.start
    result.checked += position
    result.problem_position = position
    result.verified = passed.end - result.resumed_from
    size = passed.end
    if result.problem is None and not rewritten and pending:
        head = pending[0]
        ends = "the chain has no entries" if size == 0 else f"the chain ends at sequence {size - 1}"
        result.extra.append(
            Problem(
                "truncated",
                chain,
                size,
                f"{ends}, but {head.describe()} covers {head.size}: entries were "
                "removed from its end",
            )
        )
    if latest is not None:
        result.unsigned = max(size - latest.size, 0)
    return result


def _resume(
    chain: str, records: Iterator[StoredEntry], progress: ChainProgress, result: ChainResult
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


def check_sizes_in_time(chain: str, heads: list[SignedHead], result: ChainResult) -> None:
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
