"""Verify a long chain on two cores: each half hashed in a process of its own, then joined.

A chain's tree is built from blocks of ``2**BLOCK_LEVELS`` leaves (:func:`scan`), so a half
that starts on a block boundary can be hashed without the entries before it: this process
scans the first half while a forked one reads the second through its own database connection
and scans it. The halves join when the second's first entry links to the first's last; every
signed head is then checked against the joined tree, exactly as one pass would.

Only a chain found whole takes this way. When either half finds anything wrong (an entry, a
link, a head's root, a head beyond the end), or the forked process fails, the chain is
verified again in one pass, which names what is wrong as always.
"""

from __future__ import annotations

import itertools
import multiprocessing
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection

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

__all__ = ["ParallelReading"]


@dataclass(frozen=True)
class ParallelReading:
    """How :func:`verify_store` reads the second half of a long chain in a forked process.

    Attributes
    ----------
    records : callable
        ``records(chain, start)``: the chain's stored records from sequence ``start`` on. It
        runs in the forked process, so it opens a database connection of its own (a SQL
        engine's pool must not be shared across a fork).
    min_entries : int
        Chains whose newest signed head covers fewer entries are verified in one pass: a
        fork and a second connection cost more than they save on a short chain.
    """

    records: Callable[[str, int], Iterator[StoredEntry]]
    min_entries: int = 100_000


def check_chain_in_halves(
    chain: str,
    records: Iterator[StoredEntry],
    heads: list[SignedHead],
    reading: ParallelReading,
) -> ChainResult | None:
    """Verify the chain in two halves on two processes; None when it must take one pass.

    ``records`` reads the chain from sequence 0 in this process. None means the chain is too
    short to split, forking is unavailable, or a half found a problem or failed.
    """
    covered = max((h.size for h in heads), default=0)
    middle = (covered // 2) >> BLOCK_LEVELS << BLOCK_LEVELS
    if covered < reading.min_entries or not middle or not _can_fork():
        return None
    latest = max(heads, key=lambda h: h.signed_at)
    sizes = [h.size for h in heads]
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(
        target=_scan_second_half,
        args=(sender, reading.records, chain, middle, sizes, latest),
        daemon=True,
    )
    child.start()
    sender.close()
    try:
        first = scan(
            chain,
            itertools.islice(records, middle),
            start=0,
            previous=GENESIS_HASH,
            sizes=sizes,
            cutoff=latest,
        )
        try:
            second: Scan | None = receiver.recv()
        except EOFError:  # the forked process died without an answer
            second = None
    except BaseException:
        child.terminate()
        raise
    finally:
        child.join()
        receiver.close()
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


def _scan_second_half(
    sender: Connection,
    read: Callable[[str, int], Iterator[StoredEntry]],
    chain: str,
    start: int,
    sizes: list[int],
    cutoff: SignedHead,
) -> None:
    """Scan the chain from ``start`` in the forked process and send what it found (or None)."""
    found: Scan | None = None
    try:
        records = read(chain, start)
        found = scan(chain, records, start=start, previous=None, sizes=sizes, cutoff=cutoff)
    except Exception:  # noqa: BLE001 (the parent verifies in one pass and reports the failure)
        found = None
    finally:
        sender.send(found)
        sender.close()


def _can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()
