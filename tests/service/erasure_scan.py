"""An attacker's view of a database after an erasure: every file, log and dump, and the keys.

The attacker holds the master key and the current key file, reads every byte the database keeps
(SQLite's file, ``-wal`` and ``-shm`` and a ``.dump``; PostgreSQL's whole data directory,
``pg_wal`` included, and a ``pg_dump``) and tries every window of bytes near a known key id as
a wrapped data key, under the master key alone and under each epoch the key file holds.
"""

from __future__ import annotations

import re
import sqlite3
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, make_url

from ethica.ledger import (
    Entry,
    KeyFile,
    KeyRing,
    LedgerError,
    MasterKey,
    MemoryKeyStore,
    WrappedKey,
)
from ethica.service.decisions.protected import ProtectedCipher, ProtectedValueError

MASTER_WRAPPED = 60  # nonce, 32-byte key, tag
EPOCH_WRAPPED = MASTER_WRAPPED + 28  # that, wrapped once more under an epoch's KEK
REACH = 400  # bytes either side of a key id where a row's wrapped key can be
_HEX_RUN = re.compile(rb"[0-9a-fA-F]{120,}")


@dataclass(frozen=True)
class Blob:
    """The bytes of one file or dump, named for messages."""

    name: str
    data: bytes


def sqlite_blobs(engine: Engine) -> list[Blob]:
    """The database file, its ``-wal`` and ``-shm`` (if present) and a ``.dump``."""
    path = Path(str(make_url(str(engine.url)).database))
    blobs = [
        Blob(p.name, p.read_bytes())
        for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm"))
        if p.exists()
    ]
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        dump = "\n".join(connection.iterdump())
    finally:
        connection.close()
    return [*blobs, Blob(".dump", dump.encode())]


def postgresql_blobs(engine: Engine, url: str) -> list[Blob]:
    """Every file of the server's data directory (``pg_wal`` too) and a ``pg_dump``."""
    with engine.connect() as connection:
        directory = Path(str(connection.exec_driver_sql("SHOW data_directory").scalar()))
    dump = subprocess.run(
        ["pg_dump", "--dbname", url], capture_output=True, check=True, timeout=120
    )
    return [*_files(directory), Blob("pg_dump", dump.stdout)]


def _files(directory: Path) -> Iterator[Blob]:
    for path in sorted(directory.rglob("*")):
        if path.is_file() and not path.is_symlink():
            try:
                yield Blob(str(path.relative_to(directory)), path.read_bytes())
            except (FileNotFoundError, PermissionError):  # removed meanwhile (a temp file)
                continue


def containing(blobs: list[Blob], needle: bytes) -> list[str]:
    """The names of the blobs holding ``needle``."""
    return [blob.name for blob in blobs if needle in blob.data]


def openers(
    blobs: list[Blob], entries: list[Entry], *, master_key: bytes, key_file: KeyFile | None
) -> list[str]:
    """Where a wrapped key that opens one of ``entries`` was found (empty: nothing opens)."""
    found = []
    for entry in entries:
        assert entry.subject is not None and entry.key_id is not None
        for blob in blobs:
            for candidate in _candidates(blob.data, entry.key_id.encode()):
                if _opens(candidate, entry, master_key=master_key, key_file=key_file):
                    found.append(f"{blob.name}: key of {entry.subject}")
                    break
    return found


_SEALED_VALUE = re.compile(rb"(?:([0-9a-f]{16}):)?([A-Za-z0-9+/]{24,}={0,2})")


def opened_protected(
    blobs: list[Blob], name: str, *, master_key: bytes, key_file: KeyFile
) -> dict[str, str]:
    """Every sealed value of protected attribute ``name`` found in ``blobs`` that opens.

    Each run of base64 (with or without an epoch in front) is tried under the key its epoch
    names in ``key_file``, and under the master key's: what opens, by where it was found.
    """
    cipher = ProtectedCipher(master_key, key_file)
    found: dict[str, str] = {}
    for blob in blobs:
        for match in _SEALED_VALUE.finditer(blob.data):
            epoch, text = match.group(1), match.group(2).decode()
            try:
                value = cipher.open(name, f"{epoch.decode()}:{text}" if epoch else text)
            except ProtectedValueError:
                continue
            found[f"{blob.name}@{match.start()}"] = value
    return found


def _candidates(data: bytes, key_id: bytes) -> Iterator[bytes]:
    """Windows near each occurrence of the key id, and hex runs of a dump decoded."""
    start = data.find(key_id)
    while start >= 0:
        low, high = max(0, start - REACH), min(len(data), start + REACH)
        for offset in range(low, high):
            yield data[offset : offset + MASTER_WRAPPED]
            yield data[offset : offset + EPOCH_WRAPPED]
        start = data.find(key_id, start + 1)
    if key_id in data:
        for run in _HEX_RUN.findall(data):
            if len(run) % 2 == 0:
                yield bytes.fromhex(run.decode())


def _opens(candidate: bytes, entry: Entry, *, master_key: bytes, key_file: KeyFile | None) -> bool:
    assert entry.subject is not None and entry.key_id is not None
    inner = [candidate]
    if key_file is not None and len(candidate) == EPOCH_WRAPPED:
        for epoch in key_file.epochs():
            try:
                inner.append(
                    key_file.unwrap(
                        candidate, subject=entry.subject, key_id=entry.key_id, epoch=epoch
                    )
                )
            except LedgerError:
                continue
    for wrapped in inner:
        if len(wrapped) != MASTER_WRAPPED:
            continue
        store = MemoryKeyStore()
        store.put(entry.subject, WrappedKey(entry.key_id, wrapped))
        try:
            KeyRing(MasterKey(master_key), store=store).open(entry)
        except LedgerError:
            continue
        return True
    return False
