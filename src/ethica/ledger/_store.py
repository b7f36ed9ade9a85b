"""Where entries live: small storage Protocols and their in-memory implementation."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Protocol, runtime_checkable

from ethica.ledger._entry import Entry, StoredEntry, entry_record, record_entry
from ethica.ledger._errors import SequenceConflictError

__all__ = ["EntryStore", "MemoryEntryStore", "RecordStore"]


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


@runtime_checkable
class RecordStore(Protocol):
    """A store that hands out entries as the text it keeps, for fast verification.

    Building an :class:`Entry` per stored row (parsing its JSON, time and base64) costs more
    than hashing it; :func:`verify_store` hashes these records as they are.
    """

    def records(self, chain: str, *, start: int = 0) -> Iterator[StoredEntry]:
        """Return the chain's stored records from sequence ``start`` on, in sequence order."""
        ...

    def chains(self) -> list[str]:
        """List the names of every chain with at least one entry, sorted."""
        ...


class MemoryEntryStore:
    """An :class:`EntryStore` and :class:`RecordStore` in per-chain lists of records.

    Like a SQL table it keeps the text that was hashed (:data:`StoredEntry`), not the objects.
    """

    def __init__(self) -> None:
        self._chains: dict[str, list[StoredEntry]] = {}
        self._heads: dict[str, Entry] = {}
        self._lock = threading.Lock()

    def append(self, entry: Entry) -> None:
        """Add ``entry`` if its sequence is the chain's next."""
        record = entry_record(entry, public_json=entry.public_json)
        with self._lock:
            chain = self._chains.setdefault(entry.chain, [])
            if entry.sequence != len(chain):
                raise SequenceConflictError(
                    f"chain {entry.chain!r} expects sequence {len(chain)}, got {entry.sequence}"
                )
            chain.append(record)
            self._heads[entry.chain] = entry

    def entries(self, chain: str) -> Iterator[Entry]:
        """Return the chain's entries in sequence order (a snapshot)."""
        return (record_entry(chain, record) for record in self.records(chain))

    def records(self, chain: str, *, start: int = 0) -> Iterator[StoredEntry]:
        """Return the chain's stored records from position ``start`` on (a snapshot)."""
        with self._lock:
            snapshot = self._chains.get(chain, [])[max(start, 0) :]
        return iter(snapshot)

    def head(self, chain: str) -> Entry | None:
        """Return the chain's last entry."""
        with self._lock:
            records = self._chains.get(chain)
            if not records:
                return None
            head = self._heads.get(chain)
            if head is None or head.sequence != records[-1][0] or head.hash != records[-1][-1]:
                head = self._heads[chain] = record_entry(chain, records[-1])
            return head

    def chains(self) -> list[str]:
        """List every non-empty chain, sorted."""
        with self._lock:
            return sorted(name for name, records in self._chains.items() if records)

    def stored(self, chain: str) -> list[StoredEntry]:
        """Return the chain's list of records itself (to load a chain fast, or to tamper with)."""
        with self._lock:
            return self._chains.setdefault(chain, [])
