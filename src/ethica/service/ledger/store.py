"""The ledger library's storage Protocols over SQL tables (SQLite and PostgreSQL alike)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ethica.ledger import (
    Checkpoint,
    Entry,
    KeyFile,
    MasterKeyError,
    SequenceConflictError,
    SignedHead,
    StoredEntry,
    WrappedKey,
)
from ethica.service.ledger.reading import read_rows
from ethica.service.ledger.second_half import RECORDS_QUERY
from ethica.service.ledger.tables import LedgerCheckpoint, LedgerEntry, LedgerHead, SubjectKey

# One probe of the primary key per chain: SELECT DISTINCT would read every entry.
_CHAINS = text(
    "WITH RECURSIVE c(chain) AS (SELECT MIN(chain) FROM ledger_entries UNION ALL "
    "SELECT (SELECT MIN(chain) FROM ledger_entries WHERE chain > c.chain) FROM c "
    "WHERE c.chain IS NOT NULL) SELECT chain FROM c WHERE chain IS NOT NULL ORDER BY chain"
)


def entry_row(entry: Entry) -> dict[str, Any]:
    """The table row of an entry, with the text forms that were hashed."""
    content = entry.content()
    sealed = content["sealed"]
    return {
        "chain": entry.chain,
        "sequence": entry.sequence,
        "recorded_at": content["recorded_at"],
        "kind": entry.kind,
        "subject": entry.subject,
        "public": entry.public_json.decode(),  # encoded once, when the entry was hashed
        "sealed_nonce": None if sealed is None else sealed["nonce"],
        "sealed_ciphertext": None if sealed is None else sealed["ciphertext"],
        "key_id": entry.key_id,
        "previous_hash": entry.previous_hash,
        "hash": entry.hash,
    }


def row_entry(row: LedgerEntry) -> Entry:
    """The entry a table row holds (its stored hash kept, not recomputed)."""
    sealed = None
    if row.sealed_ciphertext is not None:
        sealed = {"nonce": row.sealed_nonce, "ciphertext": row.sealed_ciphertext}
    return Entry.from_dict(
        {
            "chain": row.chain,
            "sequence": row.sequence,
            "recorded_at": row.recorded_at,
            "kind": row.kind,
            "subject": row.subject,
            "public": json.loads(row.public),
            "sealed": sealed,
            "key_id": row.key_id,
            "previous_hash": row.previous_hash,
            "hash": row.hash,
        }
    )


class SqlEntryStore:
    """Entries in ``ledger_entries``, written in the session's transaction.

    Also a :class:`~ethica.ledger.RecordStore`: :meth:`records` streams the stored text that
    verification hashes, without building an :class:`Entry` per row.
    """

    def __init__(self, session: Session) -> None:
        self.session = session

    def append(self, entry: Entry) -> None:
        """Insert the entry; a taken ``(chain, sequence)`` is a SequenceConflictError."""
        try:
            with self.session.begin_nested():
                self.session.execute(insert(LedgerEntry), [entry_row(entry)])
        except IntegrityError as error:
            raise SequenceConflictError(
                f"chain {entry.chain!r} already has entry {entry.sequence}"
            ) from error

    def entries(self, chain: str) -> Iterator[Entry]:
        """The chain's entries in sequence order, read in batches."""
        query = select(LedgerEntry).where(LedgerEntry.chain == chain).order_by(LedgerEntry.sequence)
        for row in self.session.scalars(query.execution_options(yield_per=1000)):
            yield row_entry(row)

    def head(self, chain: str) -> Entry | None:
        """The chain's last entry."""
        row = self.session.scalar(
            select(LedgerEntry)
            .where(LedgerEntry.chain == chain)
            .order_by(LedgerEntry.sequence.desc())
            .limit(1)
        )
        return None if row is None else row_entry(row)

    def records(self, chain: str, *, start: int = 0) -> Iterator[StoredEntry]:
        """The chain's stored records from sequence ``start`` on, read in large batches."""
        return read_rows(self.session, RECORDS_QUERY, {"chain": chain, "start": start})

    def chains(self) -> list[str]:
        """Every non-empty chain, sorted."""
        return [str(chain) for chain in self.session.scalars(_CHAINS)]

    def count(self) -> int:
        """Entries in every chain."""
        return int(self.session.scalar(select(func.count()).select_from(LedgerEntry)) or 0)


KEY_FILE = "ethica.key_file"
"""Where a session's ``info`` holds the :class:`~ethica.ledger.KeyFile` of its database."""


def key_file_of(session: Session) -> KeyFile | None:
    """The key file of the session's database; None when keys are wrapped by the master only."""
    found = session.info.get(KEY_FILE)
    return found if isinstance(found, KeyFile) else None


def stored_key(
    key_file: KeyFile | None, *, subject: str, key_id: str, wrapped: bytes, epoch: str | None
) -> WrappedKey:
    """The master-wrapped key a ``subject_keys`` row holds (unwrapping its epoch's layer)."""
    if epoch is None:
        return WrappedKey(key_id, wrapped)
    if key_file is None:
        raise MasterKeyError(
            f"the key of {subject!r} is wrapped under key epoch {epoch!r}, but no key file is "
            "configured (ETHICA__LEDGER__KEY_FILE)"
        )
    inner = key_file.unwrap(wrapped, subject=subject, key_id=key_id, epoch=epoch)
    return WrappedKey(key_id, inner)


def key_row(key_file: KeyFile | None, subject: str, key: WrappedKey) -> dict[str, Any]:
    """The ``subject_keys`` row of a master-wrapped key, wrapped under the current epoch."""
    epoch, wrapped = None, key.wrapped
    if key_file is not None:
        epoch, wrapped = key_file.wrap(key.wrapped, subject=subject, key_id=key.key_id)
    return {"subject": subject, "key_id": key.key_id, "wrapped": wrapped, "kek_epoch": epoch}


class SqlKeyStore:
    """Wrapped subject keys in ``subject_keys`` (under the key file's epochs when it has one)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.key_file = key_file_of(session)

    def get(self, subject: str) -> WrappedKey | None:
        """The subject's wrapped key, or None."""
        row = self.session.get(SubjectKey, subject)
        if row is None:
            return None
        return stored_key(
            self.key_file,
            subject=subject,
            key_id=row.key_id,
            wrapped=row.wrapped,
            epoch=row.kek_epoch,
        )

    def put(self, subject: str, key: WrappedKey) -> None:
        """Store the key unless the subject has one (the first writer wins)."""
        if self.session.get(SubjectKey, subject) is None:
            self.session.add(SubjectKey(**key_row(self.key_file, subject, key)))
            self.session.flush()

    def delete(self, subject: str) -> bool:
        """Destroy the subject's key (crypto-shredding)."""
        result = self.session.execute(delete(SubjectKey).where(SubjectKey.subject == subject))
        return bool(getattr(result, "rowcount", 0))


def save_head(session: Session, head: SignedHead) -> None:
    """Store a signed tree head."""
    data = head.to_dict()
    session.add(
        LedgerHead(
            chain=head.chain,
            size=head.size,
            root=head.root,
            signed_at=data["signed_at"],
            signature=data["signature"],
        )
    )


def stored_heads(session: Session, *, chain: str | None = None) -> list[SignedHead]:
    """Every signed head (of one chain when given), by chain and size."""
    query = select(LedgerHead).order_by(LedgerHead.chain, LedgerHead.size)
    if chain is not None:
        query = query.where(LedgerHead.chain == chain)
    return [_head(row) for row in session.scalars(query)]


def newest_heads(session: Session) -> list[SignedHead]:
    """The newest signed head of every chain."""
    newest = (
        select(LedgerHead.chain, func.max(LedgerHead.size).label("size"))
        .group_by(LedgerHead.chain)
        .subquery()
    )
    rows = session.scalars(
        select(LedgerHead)
        .join(newest, (LedgerHead.chain == newest.c.chain) & (LedgerHead.size == newest.c.size))
        .order_by(LedgerHead.chain)
    )
    return [_head(row) for row in rows]


def _head(row: LedgerHead) -> SignedHead:
    return SignedHead.from_dict(
        {
            "chain": row.chain,
            "size": row.size,
            "root": row.root,
            "signed_at": row.signed_at,
            "signature": row.signature,
        }
    )


def save_checkpoint(session: Session, checkpoint: Checkpoint) -> None:
    """Store a signed checkpoint."""
    data = checkpoint.to_dict()
    session.add(
        LedgerCheckpoint(
            chain=checkpoint.chain,
            sequence=checkpoint.sequence,
            head_hash=checkpoint.head_hash,
            signed_at=data["signed_at"],
            signature=base64.b64encode(checkpoint.signature).decode(),
        )
    )


def latest_checkpoints(session: Session) -> list[Checkpoint]:
    """The newest checkpoint of every chain."""
    newest = (
        select(LedgerCheckpoint.chain, func.max(LedgerCheckpoint.sequence).label("sequence"))
        .group_by(LedgerCheckpoint.chain)
        .subquery()
    )
    rows = session.scalars(
        select(LedgerCheckpoint).join(
            newest,
            (LedgerCheckpoint.chain == newest.c.chain)
            & (LedgerCheckpoint.sequence == newest.c.sequence),
        )
    )
    return [
        Checkpoint.from_dict(
            {
                "chain": r.chain,
                "sequence": r.sequence,
                "head_hash": r.head_hash,
                "signed_at": r.signed_at,
                "signature": r.signature,
            }
        )
        for r in rows
    ]
