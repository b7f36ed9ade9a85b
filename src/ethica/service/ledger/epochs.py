"""Erasure epochs: the key file of a database, and rotating it when a subject is erased.

An erasure (:func:`ethica.service.subjects.service.run_erasure`) goes in three steps, each safe
to interrupt: :func:`start_epoch` registers a new epoch and adds its key-encryption key to the
key file as the current one; the erasure's own transaction deletes the subject's keys and
:func:`rewrap_keys` moves every surviving key to the new epoch (deleting the older epochs'
rows, which no key may name any more); after the commit :func:`retire_epochs` destroys the key
file's KEKs of the epochs the database no longer lists. A crash between steps leaves an extra
KEK in the file until the next erasure retires it, never a key that cannot be opened.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ethica.ledger import KeyFile
from ethica.service.db import beside_database_file, unit_of_work
from ethica.service.decisions.protected import session_cipher
from ethica.service.decisions.tables import ProtectedValue
from ethica.service.ledger.store import KEY_FILE, key_file_of
from ethica.service.ledger.tables import KeyEpoch, SubjectKey
from ethica.service.ledger.writer import Batch
from ethica.service.settings import Settings


def key_file_path(database_url: str, configured: str | None) -> Path | None:
    """Where the key file is: the setting, else beside a SQLite database file, else none."""
    if configured:
        return Path(configured)
    return beside_database_file(database_url, ".keys.json")


def attach_key_file(settings: Settings, sessions: sessionmaker[Session]) -> KeyFile | None:
    """Open the database's key file (if any), register its epoch, hand it to every session."""
    path = key_file_path(settings.database.url, settings.ledger.key_file)
    if path is None:
        return None
    key_file = KeyFile(path, settings.ledger.master_key_bytes)
    try:
        with unit_of_work(sessions) as session:
            register_epoch(session, key_file.current())
    except IntegrityError:  # another worker process registered it first
        pass
    sessions.configure(info={KEY_FILE: key_file})
    return key_file


def register_epoch(session: Session, epoch: str) -> None:
    """List ``epoch`` in ``key_epochs`` (keys may name it from now on)."""
    if session.get(KeyEpoch, epoch) is None:
        session.add(KeyEpoch(id=epoch))
        session.flush()


def start_epoch(sessions: sessionmaker[Session]) -> str | None:
    """Register a new epoch and make its KEK the key file's current one; None without a file."""
    with sessions() as probe:
        key_file = key_file_of(probe)
    if key_file is None:
        return None
    epoch = KeyFile.new_epoch_id()
    with unit_of_work(sessions) as session:
        register_epoch(session, epoch)  # before any process can wrap a key under it
    key_file.add_epoch(epoch)
    return epoch


def rewrap_keys(batch: Batch, epoch: str | None) -> int:
    """Move every key to ``epoch`` and drop the older epochs' rows; returns the keys moved.

    Keys created earlier in the same write group are queued, not inserted: they move too.
    """
    session = batch.session
    key_file = key_file_of(session)
    if key_file is None or epoch is None:
        return 0
    stale = session.execute(
        select(SubjectKey.subject, SubjectKey.key_id, SubjectKey.wrapped, SubjectKey.kek_epoch)
        .where(or_(SubjectKey.kek_epoch.is_(None), SubjectKey.kek_epoch != epoch))
        .execution_options(yield_per=5000)
    )
    moved = [
        {
            "subject": row.subject,
            "wrapped": key_file.rewrap(
                row.wrapped, subject=row.subject, key_id=row.key_id, epoch=row.kek_epoch, to=epoch
            ),
            "kek_epoch": epoch,
        }
        for row in stale
    ]
    if moved:
        session.execute(update(SubjectKey), moved)
    for row in batch.rows.get(SubjectKey, []):
        if row["kek_epoch"] != epoch:
            row["wrapped"] = key_file.rewrap(
                row["wrapped"],
                subject=row["subject"],
                key_id=row["key_id"],
                epoch=row["kek_epoch"],
                to=epoch,
            )
            row["kek_epoch"] = epoch
            moved.append(row)
    started = session.get_one(KeyEpoch, epoch).created_at
    # A key still naming an older epoch (another process's, committed meanwhile) makes this
    # fail on the foreign key: the erasure is then retried, and moves that key too.
    session.execute(delete(KeyEpoch).where(KeyEpoch.id != epoch, KeyEpoch.created_at <= started))
    return len(moved)


def reseal_protected_values(batch: Batch, epoch: str | None) -> int:
    """Seal every protected value again under ``epoch``; returns the distinct values moved.

    AES-SIV is deterministic, so each distinct (attribute, ciphertext) pair is opened and
    sealed once and its rows updated together. Values queued earlier in the same write group
    move too. Once the old epoch's key is destroyed, no copy of a value sealed under it (an
    erased subject's, left in the write-ahead log or a dump) opens again.
    """
    keyring = batch.ledger.keyring
    if keyring is None or epoch is None or key_file_of(batch.session) is None:
        return 0
    cipher = session_cipher(batch.session, keyring.master_key.export())
    stale = batch.session.execute(
        select(ProtectedValue.name, ProtectedValue.value)
        .where(~ProtectedValue.value.startswith(f"{epoch}:"))
        .distinct()
    ).all()
    for name, value in stale:
        batch.session.execute(
            update(ProtectedValue)
            .where(ProtectedValue.name == name, ProtectedValue.value == value)
            .values(value=cipher.reseal(name, value, epoch=epoch))
        )
    for row in batch.rows.get(ProtectedValue, []):
        row["value"] = cipher.reseal(row["name"], row["value"], epoch=epoch)
    return len(stale)


def retire_epochs(sessions: sessionmaker[Session]) -> list[str]:
    """Destroy the key file's KEKs of epochs the database no longer lists; returns them."""
    with sessions() as session:
        key_file = key_file_of(session)
        if key_file is None:
            return []
        listed = list(session.scalars(select(KeyEpoch.id)))
    return key_file.keep_only(listed)
