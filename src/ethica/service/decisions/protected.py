"""Protected attributes encrypted at rest, in a form the database can still count by.

Each value is sealed with AES-SIV (RFC 5297), with the attribute's name as associated data,
under a key derived from the key-encryption key of the current erasure epoch (the key file's,
:mod:`ethica.service.ledger.epochs`), or from the master key when there is no key file. AES-SIV
is deterministic: equal values of one attribute give equal ciphertexts, so the live audit groups
by the ciphertext *in the database* and only the few distinct group labels are opened.

A sealed value names its epoch (``<epoch>:<base64>``; a bare base64 value is the master key's).
Each erasure re-seals every surviving value under the new epoch and then destroys the old
epoch's key, so the erased subject's values, wherever the database left a copy (the
write-ahead log, dead tuples, dumps), can no longer be opened by anyone, the master key's
holder included. Whoever reads the raw table learns which decisions share a value of an
attribute (what group counts need), not the values.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import threading
from collections.abc import Mapping
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESSIV
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy.orm import Session

from ethica.errors import EthicaError
from ethica.ledger import KeyFile, KeyRing, MasterKeyError, canonical_json
from ethica.service.ledger.store import key_file_of

KEY_INFO = b"ethica protected attributes"
"""HKDF ``info`` that separates this key from every other use of the master key or a KEK."""
SIV_KEY_BYTES = 64  # AES-256-SIV: one half authenticates, the other encrypts


class ProtectedValueError(EthicaError):
    """A stored protected value cannot be opened (another master key, or an edited row)."""


class ProtectedCipher:
    """Seals and opens protected attribute values; equal values seal equally in one epoch.

    Parameters
    ----------
    master_key : bytes
        The ledger's master key (the key of values sealed without an epoch).
    key_file : KeyFile, optional
        The database's key file: new values are sealed under its current epoch.
    """

    def __init__(self, master_key: bytes, key_file: KeyFile | None = None) -> None:
        self._key_file = key_file
        self._master = AESSIV(_derived(master_key))
        self._epochs: dict[str, AESSIV] = {}
        self._lock = threading.Lock()

    def current_epoch(self) -> str | None:
        """The epoch new values are sealed under (``None``: the master key's)."""
        return None if self._key_file is None else self._key_file.current()

    def seal(self, name: str, value: str, *, epoch: str | None = None) -> str:
        """The ciphertext of ``value`` of attribute ``name`` (in ``epoch``, else the current)."""
        epoch = epoch or self.current_epoch()
        sealed = self._siv(epoch).encrypt(value.encode("utf-8"), [name.encode("utf-8")])
        text = base64.b64encode(sealed).decode("ascii")
        return text if epoch is None else f"{epoch}:{text}"

    def open(self, name: str, sealed: str) -> str:
        """The value of attribute ``name`` sealed in ``sealed``."""
        epoch, _, text = sealed.rpartition(":")
        try:
            siv = self._siv(epoch or None)
            raw = base64.b64decode(text, validate=True)
            return siv.decrypt(raw, [name.encode("utf-8")]).decode("utf-8")
        except MasterKeyError:
            raise ProtectedValueError(
                f"a stored value of protected attribute {name!r} was sealed in key epoch "
                f"{epoch!r}, whose key was destroyed by an erasure (or is not in this key file)"
            ) from None
        except (InvalidTag, binascii.Error, ValueError, UnicodeDecodeError):
            raise ProtectedValueError(
                f"a stored value of protected attribute {name!r} cannot be opened: it was "
                "sealed with another master key, or the row was edited"
            ) from None

    def master_sealed(self, name: str, sealed: str) -> str:
        """``sealed`` as the master key alone seals it (what entries before epochs digested)."""
        value = self.open(name, sealed).encode("utf-8")
        return base64.b64encode(self._master.encrypt(value, [name.encode("utf-8")])).decode()

    def reseal(self, name: str, sealed: str, *, epoch: str | None) -> str:
        """``sealed`` sealed again in ``epoch`` (itself when it is already)."""
        if sealed.rpartition(":")[0] == (epoch or ""):
            return sealed
        return self.seal(name, self.open(name, sealed), epoch=epoch)

    def seal_all(self, values: dict[str, str]) -> dict[str, str]:
        """Seal every value of a name-to-value mapping (all in the current epoch)."""
        if not values:
            return {}
        epoch = self.current_epoch()  # read once: each read checks the key file
        return {name: self.seal(name, value, epoch=epoch) for name, value in values.items()}

    def _siv(self, epoch: str | None) -> AESSIV:
        if epoch is None:
            return self._master
        if self._key_file is None:
            raise MasterKeyError(f"values sealed in key epoch {epoch!r} need the key file")
        if epoch not in self._key_file.epochs():  # retired: forget it here too
            self._epochs.pop(epoch, None)
            raise MasterKeyError(f"key epoch {epoch!r} was retired")
        with self._lock:
            siv = self._epochs.get(epoch)
            if siv is None:
                siv = AESSIV(self._key_file.derive(epoch, info=KEY_INFO, length=SIV_KEY_BYTES))
                self._epochs[epoch] = siv
        return siv


def _derived(master_key: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=SIV_KEY_BYTES, salt=None, info=KEY_INFO).derive(
        master_key
    )


def protected_digest(sealed: Mapping[str, str]) -> str | None:
    """The SHA-256 of a decision's sealed protected values (``None`` when it has none).

    What decision entries recorded before values were sealed per epoch keep (the master key's
    ciphertexts); newer entries keep :func:`protected_mac`.
    """
    if not sealed:
        return None
    return hashlib.sha256(canonical_json(dict(sealed))).hexdigest()


def protected_mac(
    keyring: KeyRing, values: Mapping[str, str], *, subject: str | None, create: bool = True
) -> str | None:
    """A keyed digest of a decision's protected values in clear (``None`` when it has none).

    Kept in the decision's ledger entry, so that verification finds an edited, added or
    deleted ``protected_values`` row whatever epoch the rows are sealed in now. Keyed with the
    subject's data key: once they are erased it tells nobody anything about their values.
    """
    if not values:
        return None
    return keyring.digest(canonical_json(dict(values)), subject=subject, create=create)


def session_cipher(session: Session, master_key: bytes) -> ProtectedCipher:
    """The cipher of the session's database (its key file, if it has one)."""
    return protected_cipher(master_key, key_file_of(session))


@lru_cache(maxsize=8)
def protected_cipher(master_key: bytes, key_file: KeyFile | None) -> ProtectedCipher:
    """The cipher of a master key and key file, made once (the gateway asks per decision)."""
    return ProtectedCipher(master_key, key_file)
