"""Verify a long chain on two cores: each half hashed in a process of its own, then joined.

A chain's tree is built from blocks of ``2**BLOCK_LEVELS`` leaves (:func:`scan`), so a half
that starts on a block boundary can be hashed without the entries before it: this process
scans the first half while another process, started for it, reads the second half through
its own database connection and scans it. The halves join when the second's first entry
links to the first's last; every signed head is then checked against the joined tree, exactly
as one pass would.

Only a chain found whole takes this way. When either half finds anything wrong (an entry, a
link, a head's root, a head beyond the end), or the other process fails, the chain is
verified again in one pass, which names what is wrong as always.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from ethica.ledger._entry import GENESIS_HASH, StoredEntry
from ethica.ledger._head import SignedHead
from ethica.ledger._merkle import Frontier
from ethica.ledger._verify_chain import (
    BLOCK_LEVELS,
    ChainResult,
    Scan,
    check_sizes_in_time,
    finish,
    scan,
)

__all__ = ["HalfTask", "ParallelReading"]


@dataclass(frozen=True)
class HalfTask:
    """The second half of a chain, to be read and scanned by another process.

    Attributes
    ----------
    chain : str
        The chain.
    start : int
        The first sequence of the half (a block boundary).
    sizes : list of int
        The sizes of the signed heads: the half keeps its tree's right edge at each.
    cutoff : SignedHead
        The newest head: entries it does not cover must have been recorded after it.
    """

    chain: str
    start: int
    sizes: list[int]
    cutoff: SignedHead

    def answer(self, records: Iterator[StoredEntry]) -> bytes:
        """Hash and link the half's records (read from ``start`` on): the answer to send back.

        The answer is compact JSON: the half's block roots and its tree's edge at each head's
        size, or ``null`` when the half found a problem (the chain then takes one pass).
        """
        found = scan(
            self.chain,
            records,
            start=self.start,
            previous=None,
            sizes=self.sizes,
            cutoff=self.cutoff,
        )
        return b"null" if found.problem is not None else _encode(found)

    def to_json(self) -> dict[str, Any]:
        """Return the task as JSON data, to send to the process that does it."""
        return {
            "chain": self.chain,
            "start": self.start,
            "sizes": self.sizes,
            "cutoff": self.cutoff.to_dict(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> HalfTask:
        """Read a task sent by :meth:`to_json`."""
        return cls(
            str(data["chain"]),
            int(data["start"]),
            [int(size) for size in data["sizes"]],
            SignedHead.from_dict(data["cutoff"]),
        )


@dataclass(frozen=True)
class ParallelReading:
    """How :func:`verify_store` has the second half of a long chain read by another process.

    Attributes
    ----------
    begin : callable
        ``begin(task)`` starts reading the :class:`HalfTask`'s records elsewhere, over a
        database connection of its own, and returns a function that waits for what
        :meth:`HalfTask.answer` returned there (None when the other process failed). The
        other process must be started, not forked: the fork of a process with threads holds
        whatever locks those threads held, forever.
    min_entries : int
        Chains whose newest signed head covers fewer entries are verified in one pass:
        starting a process costs more than it saves on a short chain.
    second_share : float
        The part of the covered entries the other process reads, between 0 and 1 (the split
        is then rounded down to a block boundary). A little over half: split evenly, this
        process took 0.1-0.8 s more CPU than the started one over 10^6 entries on PostgreSQL
        (it also checks the heads' signatures and joins the halves), and the slower of the
        two, with its database backend, sets the wall time; 0.53 left the started one the
        slower by 0.05 s of its own CPU and 0.13 s of its backend's.
    """

    begin: Callable[[HalfTask], Callable[[], bytes | None]]
    min_entries: int = 100_000
    second_share: float = 0.52

    def __post_init__(self) -> None:
        if not 0 < self.second_share < 1:
            raise ValueError(
                f"second_share is the part of a chain the other process reads, between 0 and "
                f"1 (exclusive); got {self.second_share}"
            )


def check_chain_in_halves(
    chain: str,
    records: Iterator[StoredEntry],
    heads: list[SignedHead],
    reading: ParallelReading,
) -> ChainResult | None:
    """Verify the chain in two halves on two processes; None when it must take one pass.

    ``records`` reads the chain from sequence 0 in this process. None means the chain is too
    short to split, or a half found a problem or failed.
    """
    covered = max((h.size for h in heads), default=0)
    first_part = covered - int(covered * reading.second_share)
    middle = first_part >> BLOCK_LEVELS << BLOCK_LEVELS
    if covered < reading.min_entries or not middle:
        return None
    latest = max(heads, key=lambda h: h.signed_at)
    sizes = [h.size for h in heads]
    wait = reading.begin(HalfTask(chain, middle, sizes, latest))
    try:
        first = scan(
            chain,
            itertools.islice(records, middle),
            start=0,
            previous=GENESIS_HASH,
            sizes=sizes,
            cutoff=latest,
        )
    finally:  # the other process is never left behind, even when this one fails
        answer = wait()
    second = None if answer is None else _decode(answer)
    if first.problem is not None or first.end != middle or second is None:
        return None
    if second.problem is not None or second.first_link != first.last_hash:
        return None
    result = ChainResult(chain, verified=0, checked=0)
    check_sizes_in_time(chain, heads, result)
    result = finish(chain, result, first.then(second), heads, Frontier(), latest)
    # A head the halves do not vouch for (a root that differs, a chain that ends early, or a
    # second half read from a database other than this one) is named by one pass.
    return None if result.extra else result


def _encode(found: Scan) -> bytes:
    return json.dumps(
        {
            "start": found.start,
            "end": found.end,
            "first_link": found.first_link,
            "last_hash": found.last_hash,
            "blocks": b"".join(found.blocks).hex(),
            "tail": [h.hex() for h in found.tail],
            "at_sizes": [
                [size, [h.hex() for h in tail], last]
                for size, (tail, last) in found.at_sizes.items()
            ],
            "anchors": found.anchors,
        },
        separators=(",", ":"),
    ).encode()


def _decode(answer: bytes) -> Scan | None:
    fields = json.loads(answer)
    if fields is None:
        return None
    blocks = bytes.fromhex(fields["blocks"])
    return Scan(
        int(fields["start"]),
        int(fields["end"]),
        str(fields["first_link"]),
        str(fields["last_hash"]),
        [blocks[i : i + 32] for i in range(0, len(blocks), 32)],
        [bytes.fromhex(h) for h in fields["tail"]],
        {
            int(size): (tuple(bytes.fromhex(h) for h in tail), str(last))
            for size, tail, last in fields["at_sizes"]
        },
        [(int(sequence), dict(anchor)) for sequence, anchor in fields["anchors"]],
    )
