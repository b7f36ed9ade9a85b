"""Which ledger pseudonyms still belong to a subject, for verification (no subject id needed).

Entries name subjects by pseudonym (:mod:`ethica.service.ledger.naming`). Verification asks
two things of them: which subject id a served row's pseudonym stands for (the row keeps the id
until erasure), and whether a pseudonym is still *live*: its pseudonym key exists. A key or
row of a pseudonym that is no longer live is explained by an erasure, as long as there are no
more such pseudonyms than erasures on record that destroyed one.

The pseudonym keys are read in one query when first needed, and opened one by one as asked:
listing every live pseudonym (only when some key or row is gone) opens every subject's key,
about 10 us each.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from ethica.ledger import (
    PSEUDONYM_KEY_PREFIX,
    KeyRing,
    LedgerError,
    MemoryKeyStore,
)
from ethica.service.ledger.reading import read_rows
from ethica.service.ledger.store import key_file_of, stored_key

_PSEUDONYM_KEYS = (
    "SELECT subject, key_id, wrapped, kek_epoch FROM subject_keys "
    "WHERE subject LIKE :pattern ESCAPE '!'"
)


class Pseudonyms:
    """The live pseudonyms of a database, opened with the master key (and its key file)."""

    def __init__(self, session: Session, master_key: bytes) -> None:
        self._session = session
        self._keyring = KeyRing(master_key, store=MemoryKeyStore())
        self._names: list[str] | None = None
        self._of_key: dict[str, str | None] = {}
        self._live: frozenset[str] | None = None

    def legacy(self, subject: str) -> str:
        """The master-keyed pseudonym (``erased:...``) that rows of an erased subject keep."""
        return self._keyring.pseudonym(subject)

    def of_subject(self, subject: str) -> str | None:
        """The subject's live ledger pseudonym; None when they have none (never, or erased)."""
        return self._of(self._keyring.pseudonym_key_name(subject))

    def live(self, pseudonym: str) -> bool:
        """Whether ``pseudonym``'s key still exists (its subject was not erased)."""
        if self._live is None:
            self._load()
            self._live = frozenset(p for name in self._names or () if (p := self._of(name)))
        return pseudonym in self._live

    def _of(self, name: str) -> str | None:
        if name not in self._of_key:
            self._load()
            try:
                self._of_key[name] = self._keyring.pseudonym_of(name)
            except LedgerError:  # gone, or cannot be opened: not live either way
                self._of_key[name] = None
        return self._of_key[name]

    def _load(self) -> None:
        if self._names is not None:
            return
        store, names = MemoryKeyStore(), []
        key_file = key_file_of(self._session)
        # The prefix's '%' is LIKE's wildcard: escaped.
        pattern = PSEUDONYM_KEY_PREFIX.replace("%", "!%") + "%"
        for name, key_id, wrapped, epoch in read_rows(
            self._session, _PSEUDONYM_KEYS, {"pattern": pattern}
        ):
            try:
                key = stored_key(
                    key_file, subject=name, key_id=key_id, wrapped=bytes(wrapped), epoch=epoch
                )
            except LedgerError:
                continue  # its epoch's key is gone: it opens nothing, as if erased
            store.put(str(name), key)
            names.append(str(name))
        self._names = names
        self._keyring = KeyRing(self._keyring.master_key, store=store)
