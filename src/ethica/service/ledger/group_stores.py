"""The stores a ledger writer's group appends through: heads and keys kept in memory, rows
inserted with the group's commit (see :mod:`ethica.service.ledger.writer`)."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from ethica.ledger import Entry, WrappedKey
from ethica.service.db import utcnow
from ethica.service.ledger.seals import WriterSeal
from ethica.service.ledger.store import SqlEntryStore, SqlKeyStore, entry_row, key_row, stored_key
from ethica.service.ledger.tables import SubjectKey

_KEY_LOOKUP_CHUNK = 500  # subjects per IN (...) query, well under every database's limit
# Statements built once: building one (and its cache key) costs more than running it.
_KEYS_OF = select(
    SubjectKey.subject, SubjectKey.key_id, SubjectKey.wrapped, SubjectKey.kek_epoch
).where(SubjectKey.subject.in_(bindparam("subjects", expanding=True)))


class GroupEntryStore:
    """Entries of a group: heads served from memory, rows inserted with the group."""

    def __init__(
        self,
        session: Session,
        heads: dict[str, Entry | None],
        batch_rows: list[dict[str, Any]],
        seal: WriterSeal,
    ) -> None:
        self._sql = SqlEntryStore(session)
        self._heads = heads
        self._rows = batch_rows
        self._seal = seal

    def append(self, entry: Entry) -> None:
        row = entry_row(entry)
        row["seal"] = self._seal.seal(entry.hash)  # this writer wrote it (see seals.py)
        self._rows.append(row)
        self._heads[entry.chain] = entry

    def entries(self, chain: str) -> Iterator[Entry]:
        return self._sql.entries(chain)

    def head(self, chain: str) -> Entry | None:
        if chain not in self._heads:
            self._heads[chain] = self._sql.head(chain)
        return self._heads[chain]

    def chains(self) -> list[str]:
        return self._sql.chains()


class CachedKeyStore:
    """Wrapped keys cached by subject; erasures go through :meth:`delete` or drop the cache.

    New keys are cached at once and their rows inserted when the group commits (``rows``);
    ``added`` lists the subjects whose keys this group created, so a failed job can forget them.
    """

    def __init__(
        self,
        inner: SqlKeyStore,
        cache: dict[str, WrappedKey],
        rows: list[dict[str, Any]],
        added: list[str],
    ) -> None:
        self._inner = inner
        self._cache = cache
        self._rows = rows
        self.added = added
        self._absent: set[str] = set()  # looked up in this group's transaction and not found

    def prefetch(self, subjects: Collection[str]) -> None:
        """Look up the keys of ``subjects`` (those not cached) in one query per chunk."""
        missing = sorted({s for s in subjects if s not in self._cache and s not in self._absent})
        if not missing:
            return
        connection = self._inner.session.connection()
        for start in range(0, len(missing), _KEY_LOOKUP_CHUNK):
            chunk = missing[start : start + _KEY_LOOKUP_CHUNK]
            found = connection.execute(_KEYS_OF, {"subjects": chunk})
            for row in found:
                self._cache[row.subject] = self._stored(row.subject, row)
            self._absent.update(s for s in chunk if s not in self._cache)

    def cached(self, subject: str) -> bool:
        """Whether the key of ``subject`` is known (looked up, or created in this group)."""
        return subject in self._cache

    def assume_absent(self, subjects: Collection[str]) -> None:
        """Note keys that cannot exist (named after a pseudonym created in this group)."""
        self._absent.update(s for s in subjects if s not in self._cache)

    def get(self, subject: str) -> WrappedKey | None:
        if subject in self._cache:
            return self._cache[subject]
        if subject in self._absent:  # KeyRing asks twice before creating a key
            return None
        # A Core query on the group's connection: an ORM lookup costs several times more.
        found = (
            self._inner.session.connection()
            .execute(
                select(SubjectKey.key_id, SubjectKey.wrapped, SubjectKey.kek_epoch).where(
                    SubjectKey.subject == subject
                )
            )
            .first()
        )
        if found is None:
            self._absent.add(subject)
            return None
        key = self._stored(subject, found)
        self._cache[subject] = key
        return key

    def put(self, subject: str, key: WrappedKey) -> None:
        # get() missed both the cache and the table, so the subject has no key yet; another
        # writer storing one first makes the group's insert conflict, and the job is retried.
        self._cache[subject] = key
        self._absent.discard(subject)
        self.added.append(subject)
        self._rows.append({**key_row(self._inner.key_file, subject, key), "created_at": utcnow()})

    def _stored(self, subject: str, row: Any) -> WrappedKey:
        return stored_key(
            self._inner.key_file,
            subject=subject,
            key_id=row.key_id,
            wrapped=row.wrapped,
            epoch=row.kek_epoch,
        )

    def delete(self, subject: str) -> bool:
        self._cache.pop(subject, None)
        self._absent.discard(subject)
        pending = [r for r in self._rows if r["subject"] == subject]
        for row in pending:  # created in this group and not inserted yet
            self._rows.remove(row)
        return self._inner.delete(subject) or bool(pending)
