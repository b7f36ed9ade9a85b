"""One chain's streaming check: hash links, Merkle roots at each signed head, anchors seen."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
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
from ethica.ledger._merkle import EMPTY_ROOT, Frontier
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


def check_chain(
    chain: str,
    records: Iterator[StoredEntry],
    heads: list[SignedHead],
    progress: ChainProgress | None,
) -> ChainResult:
    """Hash and link the chain's records, and check each signed head's root on the way."""
    result = ChainResult(chain, verified=0, checked=0)
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


def _check_root(
    chain: str,
    frontier: Frontier,
    pending: list[SignedHead],
    result: ChainResult,
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


def _check_sizes_in_time(chain: str, heads: list[SignedHead], result: ChainResult) -> None:
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
