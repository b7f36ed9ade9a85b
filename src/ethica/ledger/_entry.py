"""Ledger entries: what one record holds, and the hash that chains it to the one before."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cached_property
from typing import Any

from ethica._gil import sha256_hex
from ethica.errors import InputError
from ethica.ledger._canonical import canonical_json, encode_plain, normalize, rfc3339

__all__ = [
    "GENESIS_HASH",
    "LEDGER_FORMAT",
    "Entry",
    "Sealed",
    "StoredEntry",
    "associated_data",
    "entry_hash",
    "entry_record",
    "record_entry",
    "with_hash",
]

LEDGER_FORMAT = "ethica.ledger/1"
"""Written into every hashed record, so a later format can never collide with this one."""

GENESIS_HASH = "0" * 64
"""The ``previous_hash`` of every chain's first entry (sequence 0)."""

StoredEntry = tuple[int, str, str, str | None, str, str | None, str | None, str | None, str, str]
"""An entry as a store keeps it: the text that was hashed, field by field.

``(sequence, recorded_at, kind, subject, public, nonce, ciphertext, key_id, previous_hash,
hash)``: ``recorded_at`` as RFC 3339 text, ``public`` as its canonical JSON, the sealed
``nonce`` and ``ciphertext`` as base64 (both ``None`` without personal fields). Verification
hashes these bytes as they are, without decoding and re-encoding them.
"""


@dataclass(frozen=True)
class Sealed:
    """Personal fields encrypted with AES-256-GCM under the subject's data key.

    Attributes
    ----------
    nonce : bytes
        The 12-byte GCM nonce, random per entry.
    ciphertext : bytes
        The encrypted canonical JSON of the personal fields, followed by the 16-byte tag.
    """

    nonce: bytes
    ciphertext: bytes

    def to_dict(self) -> dict[str, str]:
        """Return base64 text of the nonce and ciphertext (the form that is hashed and stored)."""
        return {
            "nonce": base64.b64encode(self.nonce).decode("ascii"),
            "ciphertext": base64.b64encode(self.ciphertext).decode("ascii"),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Sealed:
        """Read the form written by :meth:`to_dict`."""
        try:
            return cls(
                nonce=base64.b64decode(data["nonce"], validate=True),
                ciphertext=base64.b64decode(data["ciphertext"], validate=True),
            )
        except (KeyError, TypeError, binascii.Error) as error:
            raise InputError(f"sealed data must be base64 nonce and ciphertext: {error}") from None


@dataclass(frozen=True)
class Entry:
    """One append-only record of a chain.

    Attributes
    ----------
    chain : str
        The partition the entry belongs to (for example the AI system's id).
    sequence : int
        Position in the chain: 0, 1, 2, ... without gaps.
    recorded_at : datetime
        When the entry was appended (UTC, microsecond precision).
    kind : str
        What it records: ``"decision"``, ``"outcome"``, ``"review"``, ``"consent"``,
        ``"erasure"``, ``"anchor"``, ...
    subject : str or None
        Pseudonymous id of the customer the entry is about.
    public : dict
        Non-personal fields, in canonical JSON form.
    sealed : Sealed or None
        The personal fields, encrypted with the subject's data key; ``None`` when there are none.
    key_id : str or None
        Id of the data key that sealed the personal fields.
    previous_hash : str
        Hex SHA-256 of the previous entry of the chain (:data:`GENESIS_HASH` for the first).
    hash : str
        Hex SHA-256 of this entry's canonical encoding, ``previous_hash`` included and ``hash``
        excluded. It covers the ciphertext, not the plaintext: destroying a subject's key leaves
        every hash checkable.
    """

    chain: str
    sequence: int
    recorded_at: datetime
    kind: str
    subject: str | None
    public: dict[str, Any] = field(hash=False)
    sealed: Sealed | None
    key_id: str | None
    previous_hash: str
    hash: str

    def content(self) -> dict[str, Any]:
        """Return everything the hash covers, as plain JSON data."""
        return {
            "format": LEDGER_FORMAT,
            "chain": self.chain,
            "sequence": self.sequence,
            "recorded_at": rfc3339(self.recorded_at),
            "kind": self.kind,
            "subject": self.subject,
            "public": self.public,
            "sealed": None if self.sealed is None else self.sealed.to_dict(),
            "key_id": self.key_id,
            "previous_hash": self.previous_hash,
        }

    def to_dict(self) -> dict[str, Any]:
        """Return the entry as JSON data, for a store (SQL row, file, message) to keep."""
        return {**self.content(), "hash": self.hash}

    @cached_property
    def public_json(self) -> bytes:
        """Return the canonical JSON of :attr:`public` as it was hashed (a store keeps it)."""
        return canonical_json(self.public)

    def content_json(self) -> bytes:
        """Return the canonical JSON of :meth:`content`: the bytes :attr:`hash` digests.

        Always encoded afresh from the fields, so verification sees any change to them.
        """
        return _content_json(self, canonical_json(self.public))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Entry:
        """Read the form written by :meth:`to_dict`; the hash is kept as stored, not recomputed."""
        try:
            if data.get("format", LEDGER_FORMAT) != LEDGER_FORMAT:
                raise InputError(f"unknown ledger format {data['format']!r}")
            sealed = data["sealed"]
            return cls(
                chain=str(data["chain"]),
                sequence=int(data["sequence"]),
                recorded_at=datetime.fromisoformat(str(data["recorded_at"])),
                kind=str(data["kind"]),
                subject=None if data["subject"] is None else str(data["subject"]),
                public=dict(data["public"]),
                sealed=None if sealed is None else Sealed.from_dict(sealed),
                key_id=None if data["key_id"] is None else str(data["key_id"]),
                previous_hash=str(data["previous_hash"]),
                hash=str(data["hash"]),
            )
        except (KeyError, TypeError, ValueError) as error:
            if isinstance(error, InputError):
                raise
            raise InputError(f"not a ledger entry record: {error!r}") from None


def entry_record(entry: Entry, *, public_json: bytes | None = None) -> StoredEntry:
    """Return the stored form of ``entry``.

    ``public_json`` is the public fields' canonical JSON when the caller holds the bytes that
    were hashed; by default they are encoded afresh, so that a changed field shows.
    """
    if public_json is None:
        public_json = canonical_json(entry.public)
    sealed = entry.sealed.to_dict() if entry.sealed is not None else None
    return (
        entry.sequence,
        rfc3339(entry.recorded_at),
        entry.kind,
        entry.subject,
        public_json.decode("utf-8"),
        None if sealed is None else sealed["nonce"],
        None if sealed is None else sealed["ciphertext"],
        entry.key_id,
        entry.previous_hash,
        entry.hash,
    )


def record_entry(chain: str, record: StoredEntry) -> Entry:
    """Return the entry a stored record holds (its stored hash kept, not recomputed)."""
    sequence, recorded_at, kind, subject, public, nonce, ciphertext, key_id, previous, hash_ = (
        record
    )
    sealed = None if ciphertext is None else {"nonce": nonce, "ciphertext": ciphertext}
    try:
        public_data = json.loads(public)
    except ValueError as error:
        raise InputError(
            f"{chain}#{sequence} has public fields that are not JSON: {error}"
        ) from None
    return Entry.from_dict(
        {
            "chain": chain,
            "sequence": sequence,
            "recorded_at": recorded_at,
            "kind": kind,
            "subject": subject,
            "public": public_data,
            "sealed": sealed,
            "key_id": key_id,
            "previous_hash": previous,
            "hash": hash_,
        }
    )


_KEYS_BEFORE_PUBLIC = ("chain", "format", "key_id", "kind", "previous_hash")


def entry_hash(entry: Entry) -> str:
    """Recompute the hex SHA-256 of ``entry``'s content (what its ``hash`` should be)."""
    return sha256_hex(entry.content_json())


def with_hash(draft: Entry, *, public_json: bytes | None = None) -> Entry:
    """Return ``draft`` with its :attr:`~Entry.hash` computed.

    ``public_json`` is ``canonical_json(draft.public)`` when the caller already has it (the
    ledger normalizes and encodes the public fields once per append); the entry keeps it as
    its :attr:`~Entry.public_json`, so a store does not encode them again.
    """
    if public_json is None:
        public_json = canonical_json(draft.public)
    entry = replace(draft, hash=sha256_hex(_content_json(draft, public_json)))
    entry.__dict__["public_json"] = public_json  # what the cached property would compute
    return entry


def _content_json(entry: Entry, public_json: bytes) -> bytes:
    """Return ``canonical_json(entry.content())`` built around the public fields' encoding.

    The other fields are few and small: encoded on their own, as the keys that sort before
    ``"public"`` (``chain`` ... ``previous_hash``) and after it (``recorded_at`` ...
    ``subject``), then joined around ``public_json``.
    """
    content = entry.content()
    del content["public"]
    head = encode_plain(normalize({key: content.pop(key) for key in _KEYS_BEFORE_PUBLIC}))
    tail = encode_plain(normalize(content))
    return head[:-1] + b',"public":' + public_json + b"," + tail[1:]


def associated_data(*, chain: str, sequence: int, kind: str, subject: str, key_id: str) -> bytes:
    """Build the GCM associated data that binds sealed fields to their place in the ledger.

    A ciphertext copied into another entry, chain or subject fails to open.
    """
    return canonical_json(
        {
            "format": LEDGER_FORMAT,
            "chain": chain,
            "sequence": sequence,
            "kind": kind,
            "subject": subject,
            "key_id": key_id,
        }
    )
