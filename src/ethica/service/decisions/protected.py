"""Protected attributes encrypted at rest, in a form the database can still count by.

Each value is sealed with AES-SIV (RFC 5297) under a key derived from the ledger's master key,
with the attribute's name as associated data. AES-SIV is deterministic: equal values of one
attribute give equal ciphertexts, so the live audit groups by the ciphertext *in the database*
and only the few distinct group labels are opened afterwards.

The trade-off, stated plainly: whoever reads the raw table learns which decisions share a value
of an attribute (and how many share it), which is exactly what group counts need, but not the
values themselves. The name as associated data stops a ciphertext of one attribute from being
passed off as another's. Only holders of the master key (the audit engine, officers' exports,
the subject's own access export) can open them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESSIV
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ethica.errors import EthicaError
from ethica.ledger import canonical_json

KEY_INFO = b"ethica protected attributes"
"""HKDF ``info`` that separates this key from every other use of the master key."""


class ProtectedValueError(EthicaError):
    """A stored protected value cannot be opened (another master key, or an edited row)."""


class ProtectedCipher:
    """Seals and opens protected attribute values; equal values seal equally."""

    def __init__(self, master_key: bytes) -> None:
        # 64 bytes: AES-256-SIV (one half authenticates, the other encrypts).
        key = HKDF(algorithm=hashes.SHA256(), length=64, salt=None, info=KEY_INFO).derive(
            master_key
        )
        self._siv = AESSIV(key)

    def seal(self, name: str, value: str) -> str:
        """The base64 ciphertext of ``value`` of attribute ``name``."""
        sealed = self._siv.encrypt(value.encode("utf-8"), [name.encode("utf-8")])
        return base64.b64encode(sealed).decode("ascii")

    def open(self, name: str, sealed: str) -> str:
        """The value of attribute ``name`` sealed in ``sealed``."""
        try:
            raw = base64.b64decode(sealed, validate=True)
            return self._siv.decrypt(raw, [name.encode("utf-8")]).decode("utf-8")
        except (InvalidTag, binascii.Error, ValueError, UnicodeDecodeError):
            raise ProtectedValueError(
                f"a stored value of protected attribute {name!r} cannot be opened: it was "
                "sealed with another master key, or the row was edited"
            ) from None

    def seal_all(self, values: dict[str, str]) -> dict[str, str]:
        """Seal every value of a name-to-value mapping."""
        return {name: self.seal(name, value) for name, value in values.items()}


def protected_digest(sealed: Mapping[str, str]) -> str | None:
    """The SHA-256 of a decision's sealed protected values (``None`` when it has none).

    Kept in the decision's ledger entry, so that verification finds an edited, added or
    deleted ``protected_values`` row. It covers ciphertexts only: without the master key it
    tells nothing about the values.
    """
    if not sealed:
        return None
    return hashlib.sha256(canonical_json(dict(sealed))).hexdigest()


@lru_cache(maxsize=4)
def protected_cipher(master_key: bytes) -> ProtectedCipher:
    """The cipher of a master key, derived once (the gateway asks for it per decision)."""
    return ProtectedCipher(master_key)
