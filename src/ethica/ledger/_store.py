"""Where entries live: a small storage Protocol and its in-memory implementation."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Protocol, runtime_checkable

from ethica.ledger._entry import Entry
from ethica.ledger._errors import SequenceConflictError

__all__ = ["EntryStore", "MemoryEntryStore"]


@runtime_checkable
class EntryStore(Protocol):
    """Append-only storage of chains (SQL tables in the service, lists in memory).

    A SQL implementation keeps a unique key on ``(chain, sequence)`` and raises
    :class:`SequenceConflictError` when an insert hits it, so that writers in other processes
    cannot fork a chain.
    """

    def append(self, entry: Entry) -> None:
        """Add ``entry``; raise :class:`SequenceConflictError` unless it is the chain's next."""
        ...

    def entries(self, chain: str) -> Iterator[Entry]:
        """Return the chain's entries in sequence order."""
        ...

    def head(self, chain: str) -> Entry | None:
        """Return the chain's last entry, or ``None`` for an empty chain."""
        ...

    def chains(self) -> list[str]:
        """List the names of every chain with at least one entry, sorted."""
        ...


class MemoryEntryStore:
    """An :class:`EntryStore` in per-chain lists, for tests and notebooks."""

    def __init__(self) -> None:
        self._chains: dict[str, list[Entry]] = {}
        self._lock = threading.Lock()

    def append(self, entry: Entry) -> None:
        """Add ``entry`` if its sequence is the chain's next."""
        with self._lock:
            chain = self._chains.setdefault(entry.chain, [])
            if entry.sequence != len(chain):
                raise SequenceConflictError(
                    f"chain {entry.chain!r} expects sequence {len(chain)}, got {entry.sequence}"
                )
            chain.append(entry)

    def entries(self, chain: str) -> Iterator[Entry]:
        """Return the chain's entries in sequence order (a snapshot)."""
        with self._lock:
            snapshot = list(self._chains.get(chain, ()))
        return iter(snapshot)

    def head(self, chain: str) -> Entry | None:
        """Return the chain's last entry."""
        with self._lock:
            entries = self._chains.get(chain)
            return entries[-1] if entries else None

    def chains(self) -> list[str]:
        """List every non-empty chain, sorted."""
        with self._lock:
            return sorted(name for name, entries in self._chains.items() if entries)
