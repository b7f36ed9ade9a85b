"""Files kept outside the database: lines appended durably, and folders synced after a rename.

The witness (:mod:`ethica.ledger._witness`), the erasure journal
(:mod:`ethica.ledger._erasure_journal`) and the key file (:mod:`ethica.ledger._key_file`)
must survive a crash once the call that wrote them has returned.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path


def append_synced(path: Path, line: bytes, *, mode: int = 0o600) -> None:
    """Append ``line`` under an exclusive ``flock`` and sync it (and a new file's folder)."""
    created = not path.exists()
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, mode)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)  # one writer's line at a time, never interleaved
        os.write(descriptor, line)
        os.fsync(descriptor)
    finally:
        os.close(descriptor)  # closing releases the lock
    if created:  # the new name must survive a crash too
        sync_directory(path.parent)


def sync_directory(directory: Path) -> None:
    """Sync a folder, so that a file created or renamed in it survives a crash."""
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
