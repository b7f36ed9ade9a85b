"""Key-encryption keys kept in a file outside the database, one per erasure epoch.

A subject's data key is wrapped twice: by the master key (:class:`~ethica.ledger.KeyRing`), then
by the key-encryption key (KEK) of the current *epoch*. Databases keep what they overwrite or
delete for a while (SQLite's write-ahead log, PostgreSQL's dead tuples and ``pg_wal``,
backups), so destroying a wrapped key in a table does not destroy every copy of it. The KEK
never enters the database: an erasure starts a new epoch, re-wraps the surviving subjects' keys
under it and then overwrites the old KEK in this file. Every copy of an erased subject's key
that a database still holds is wrapped by a KEK that no longer exists, so even the master key
cannot open it.

The file holds each KEK wrapped by the master key, so the file alone opens nothing either.
Processes sharing a database share the file (on one host, or a shared volume); changes are
serialized with an exclusive ``flock`` on ``<file>.lock`` and written atomically (a new file
renamed over the old), and each process re-reads the file when it changes.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import secrets
import threading
from collections.abc import Collection, Iterator
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ethica._gil import random_bytes
from ethica.ledger._canonical import canonical_json
from ethica.ledger._errors import MasterKeyError
from ethica.ledger._files import sync_directory
from ethica.ledger._keys import KEY_BYTES, NONCE_BYTES, MasterKey

__all__ = ["KeyFile"]

FORMAT = "ethica key-encryption keys v1"
_Stamp = tuple[int, int, int]


class KeyFile:
    """The key-encryption keys of a database's erasure epochs, in one file.

    Parameters
    ----------
    path : str or Path
        The file; created (with a first epoch) when it does not exist. Keep it beside the
        database's configuration, never inside the database, and back it up with the master
        key: without it no subject's data can be opened.
    master_key : MasterKey or bytes
        Wraps each KEK in the file.
    """

    def __init__(self, path: str | Path, master_key: MasterKey | bytes) -> None:
        self.path = Path(path)
        self._master = master_key if isinstance(master_key, MasterKey) else MasterKey(master_key)
        self._lock = threading.Lock()
        self._stamp: _Stamp | None = None
        self._current = ""
        self._keks: dict[str, AESGCM] = {}
        self._raw: dict[str, bytes] = {}
        self._wrapped: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"KeyFile({str(self.path)!r})"

    @staticmethod
    def new_epoch_id() -> str:
        """Return a fresh epoch id (random, so that processes never pick the same one)."""
        return secrets.token_hex(8)

    def current(self) -> str:
        """Return the epoch whose KEK wraps new keys (creating the file on first use)."""
        self._refresh()
        return self._current

    def epochs(self) -> list[str]:
        """Return every epoch whose KEK the file still holds."""
        self._refresh()
        return sorted(self._keks)

    def derive(self, epoch: str, *, info: bytes, length: int = KEY_BYTES) -> bytes:
        """Return a key derived from ``epoch``'s KEK for another use (HKDF, ``info`` apart).

        Whatever it seals is destroyed with the epoch, as the data keys wrapped under it are.

        Raises
        ------
        MasterKeyError
            The file has no KEK for ``epoch`` (it was retired, or this is another file).
        """
        self._kek(epoch)
        raw = self._raw[epoch]
        return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=info).derive(raw)

    def wrap(self, inner: bytes, *, subject: str, key_id: str) -> tuple[str, bytes]:
        """Wrap a master-wrapped data key under the current epoch; return the epoch and bytes."""
        epoch = self.current()
        return epoch, self._seal(epoch, inner, subject=subject, key_id=key_id)

    def unwrap(self, outer: bytes, *, subject: str, key_id: str, epoch: str) -> bytes:
        """Return the master-wrapped data key inside ``outer``, wrapped under ``epoch``.

        Raises
        ------
        MasterKeyError
            The file has no KEK for ``epoch`` (a wrong or stale file), or it does not open
            ``outer`` (the key row was altered).
        """
        kek = self._kek(epoch)
        try:
            return kek.decrypt(
                outer[:NONCE_BYTES], outer[NONCE_BYTES:], _context(subject, key_id, epoch)
            )
        except (InvalidTag, ValueError):
            raise MasterKeyError(
                f"the key-encryption key of epoch {epoch!r} does not open the key of "
                f"{subject!r}: the key store was altered"
            ) from None

    def rewrap(
        self, wrapped: bytes, *, subject: str, key_id: str, epoch: str | None, to: str
    ) -> bytes:
        """Move a key from ``epoch`` (``None``: wrapped by the master key only) to ``to``."""
        inner = wrapped
        if epoch is not None:
            inner = self.unwrap(wrapped, subject=subject, key_id=key_id, epoch=epoch)
        return self._seal(to, inner, subject=subject, key_id=key_id)

    def add_epoch(self, epoch: str) -> None:
        """Create ``epoch``'s KEK and make it current; older KEKs stay until :meth:`keep_only`."""
        kek = os.urandom(KEY_BYTES)
        with self._exclusive():
            wrapped = dict(self._wrapped)
            wrapped[epoch] = base64.b64encode(
                self._master._wrap(kek, context=_kek_context(epoch))
            ).decode()
            self._write({"format": FORMAT, "current": epoch, "epochs": wrapped})

    def keep_only(self, epochs: Collection[str]) -> list[str]:
        """Destroy the KEK of every epoch not in ``epochs`` (never the current one).

        The new file replaces the old one atomically; the old file's bytes are then overwritten
        in place, so the destroyed KEKs do not stay readable in its blocks. Returns the epochs
        destroyed.
        """
        with self._exclusive():
            keep = {*epochs, self._current}
            gone = sorted(set(self._wrapped) - keep)
            if gone:
                wrapped = {e: w for e, w in self._wrapped.items() if e in keep}
                self._write({"format": FORMAT, "current": self._current, "epochs": wrapped})
        return gone

    # --- the file -------------------------------------------------------------------------

    def _seal(self, epoch: str, inner: bytes, *, subject: str, key_id: str) -> bytes:
        nonce = random_bytes(NONCE_BYTES)
        return nonce + self._kek(epoch).encrypt(nonce, inner, _context(subject, key_id, epoch))

    def _kek(self, epoch: str) -> AESGCM:
        kek = self._keks.get(epoch)
        if kek is None:
            self._refresh()
            kek = self._keks.get(epoch)
        if kek is None:
            raise MasterKeyError(
                f"the key file {self.path} has no key-encryption key for epoch {epoch!r}: it is "
                "not this database's key file, or an older copy of it"
            )
        return kek

    def _refresh(self) -> None:
        stamp = _stamp(self.path)
        if stamp is not None and stamp == self._stamp:
            return
        if stamp is None:
            with self._exclusive():  # creates the file with a first epoch
                return
        with self._lock:
            self._read()

    def _read(self) -> None:
        stamp = _stamp(self.path)
        try:
            data = json.loads(self.path.read_bytes())
            if data.get("format") != FORMAT:
                raise ValueError(f"not a key file (format {data.get('format')!r})")
            wrapped: dict[str, str] = dict(data["epochs"])
            raw = {
                epoch: self._master._unwrap(base64.b64decode(w), context=_kek_context(epoch))
                for epoch, w in wrapped.items()
            }
            keks = {epoch: AESGCM(kek) for epoch, kek in raw.items()}
            current = str(data["current"])
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise MasterKeyError(f"cannot read the key file {self.path}: {error}") from None
        if current not in keks:
            raise MasterKeyError(f"the key file {self.path} has no key for its current epoch")
        self._current, self._keks, self._wrapped, self._stamp = current, keks, wrapped, stamp
        self._raw = raw

    @contextlib.contextmanager
    def _exclusive(self) -> Iterator[None]:
        """Hold the file's lock, with the file read (created first if missing)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock, open(f"{self.path}.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                if not self.path.exists():
                    epoch = self.new_epoch_id()
                    kek = os.urandom(KEY_BYTES)
                    wrapped = base64.b64encode(self._master._wrap(kek, context=_kek_context(epoch)))
                    self._write(
                        {"format": FORMAT, "current": epoch, "epochs": {epoch: wrapped.decode()}}
                    )
                self._read()
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _write(self, data: dict[str, object]) -> None:
        """Replace the file atomically, then overwrite the old file's bytes."""
        content = json.dumps(data, sort_keys=True).encode()
        temporary = self.path.with_name(f".{self.path.name}.{secrets.token_hex(4)}")
        old = open(self.path, "r+b") if self.path.exists() else None  # noqa: SIM115
        try:
            descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as new:
                new.write(content)
                new.flush()
                os.fsync(new.fileno())
            os.replace(temporary, self.path)
            sync_directory(self.path.parent)
            if old is not None:  # the unlinked old file: overwrite what it held
                size = os.fstat(old.fileno()).st_size
                old.seek(0)
                old.write(os.urandom(size))
                old.flush()
                os.fsync(old.fileno())
        finally:
            if old is not None:
                old.close()
            temporary.unlink(missing_ok=True)
        self._read()


def _stamp(path: Path) -> _Stamp | None:
    try:
        status = path.stat()
    except FileNotFoundError:
        return None
    return (status.st_ino, status.st_mtime_ns, status.st_size)


def _context(subject: str, key_id: str, epoch: str) -> bytes:
    # Bound to subject, key id and epoch: a wrapped key cannot be moved to another subject.
    return canonical_json(
        {"purpose": "ethica.ledger wrapped key", "subject": subject, "id": key_id, "epoch": epoch}
    )


def _kek_context(epoch: str) -> bytes:
    return canonical_json({"purpose": "ethica.ledger key-encryption key", "epoch": epoch})
