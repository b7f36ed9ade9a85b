"""Per-subject data keys, wrapped by a master key, and crypto-shredding.

Each subject's personal fields are sealed with their own random 256-bit data key. Data keys
are stored only wrapped (AES-256-GCM under the master key, bound to the subject and key id),
through a :class:`KeyStore`. Erasing a subject destroys their wrapped key: their ciphertexts
stay in the ledger, and keep every hash valid, but can no longer be opened by anyone.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ethica._gil import random_bytes
from ethica.errors import InputError
from ethica.ledger._canonical import canonical_json
from ethica.ledger._entry import Entry, Sealed, associated_data
from ethica.ledger._errors import ErasedError, MasterKeyError, TamperedError

__all__ = [
    "PSEUDONYM_KEY_PREFIX",
    "PSEUDONYM_PREFIX",
    "KeyRing",
    "KeyStore",
    "MasterKey",
    "MemoryKeyStore",
    "WrappedKey",
    "is_pseudonym",
]

KEY_BYTES = 32
NONCE_BYTES = 12
PSEUDONYM_INFO = b"ethica erased subject pseudonyms"
"""HKDF ``info`` that separates the pseudonym key from every other use of the master key."""
DIGEST_INFO = b"ethica keyed digests"
"""Separates the keys of :meth:`KeyRing.digest` from every other use of their key."""
SUBJECT_PSEUDONYM_INFO = b"ethica ledger subject pseudonym"
"""Separates a subject's ledger pseudonym from any other use of their pseudonym key."""
PSEUDONYM_PREFIX = "%p"
"""How a ledger pseudonym begins (:meth:`KeyRing.subject_pseudonym`).

The service's key names percent-encode ``%`` in a subject id (``%25``), so no key name of a
subject id begins with it: a name's first part is a pseudonym exactly when it begins so.
"""
PSEUDONYM_KEY_PREFIX = "%k"
"""How the name of a subject's pseudonym key begins (:meth:`KeyRing.pseudonym_key_name`)."""
_PSEUDONYM_HEX = 32


class MasterKey:
    """The 256-bit key that wraps every data key; its bytes never appear in a repr or log.

    Parameters
    ----------
    key : bytes
        Exactly 32 bytes, e.g. from a secrets manager. Use :meth:`generate` for a new one.
    """

    __slots__ = ("_aead", "_digest_key", "_key", "_pseudonym_key")

    def __init__(self, key: bytes) -> None:
        if not isinstance(key, bytes | bytearray) or len(key) != KEY_BYTES:
            length = len(key) if isinstance(key, bytes | bytearray) else type(key).__name__
            raise MasterKeyError(
                f"the master key must be {KEY_BYTES} bytes (256 bits), got {length}; "
                "create one with MasterKey.generate() and keep its bytes in a secrets manager"
            )
        self._key = bytes(key)
        self._aead = AESGCM(self._key)
        self._pseudonym_key = HKDF(
            algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=PSEUDONYM_INFO
        ).derive(self._key)
        self._digest_key = HKDF(
            algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=DIGEST_INFO
        ).derive(self._key)

    @classmethod
    def generate(cls) -> MasterKey:
        """Create a new random master key."""
        return cls(os.urandom(KEY_BYTES))

    def export(self) -> bytes:
        """Return the raw 32 bytes, to put in a secrets manager (never in a log or a repository)."""
        return self._key

    def __repr__(self) -> str:
        return "MasterKey(<hidden>)"

    def _wrap(self, data_key: bytes, *, context: bytes) -> bytes:
        nonce = random_bytes(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, data_key, context)

    def _unwrap(self, wrapped: bytes, *, context: bytes) -> bytes:
        try:
            return self._aead.decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], context)
        except (InvalidTag, ValueError):
            raise MasterKeyError(
                "the master key does not unwrap this subject's data key: it is the wrong master "
                "key, or the key store was altered"
            ) from None


@dataclass(frozen=True)
class WrappedKey:
    """A subject's data key as stored: its id and its bytes wrapped by the master key."""

    key_id: str
    wrapped: bytes

    def __repr__(self) -> str:
        return f"WrappedKey(key_id={self.key_id!r}, wrapped=<{len(self.wrapped)} bytes>)"


@runtime_checkable
class KeyStore(Protocol):
    """Where wrapped data keys live (a SQL table in the service, a dict in memory)."""

    def get(self, subject: str) -> WrappedKey | None:
        """Return the subject's wrapped key, or ``None`` when they have none (or it was erased)."""
        ...

    def put(self, subject: str, key: WrappedKey) -> None:
        """Store ``key`` unless the subject already has one: the first writer wins."""
        ...

    def delete(self, subject: str) -> bool:
        """Destroy the subject's wrapped key; ``True`` when there was one."""
        ...


class MemoryKeyStore:
    """A :class:`KeyStore` in a dict, for tests and notebooks."""

    def __init__(self) -> None:
        self._keys: dict[str, WrappedKey] = {}
        self._lock = threading.Lock()

    def get(self, subject: str) -> WrappedKey | None:
        """Return the subject's wrapped key, or ``None``."""
        return self._keys.get(subject)

    def put(self, subject: str, key: WrappedKey) -> None:
        """Store ``key`` unless the subject already has one."""
        with self._lock:
            self._keys.setdefault(subject, key)

    def delete(self, subject: str) -> bool:
        """Destroy the subject's wrapped key."""
        with self._lock:
            return self._keys.pop(subject, None) is not None


class KeyRing:
    """Seal and open personal fields with per-subject data keys; erase a subject.

    Parameters
    ----------
    master_key : MasterKey or bytes
        The key that wraps every data key (32 bytes).
    store : KeyStore, optional
        Where wrapped keys are kept; a new :class:`MemoryKeyStore` by default.

    Notes
    -----
    After :meth:`erase`, :meth:`open` on the subject's entries raises :class:`ErasedError`
    (rather than returning a marker) so that no caller mistakes shredded data for empty data;
    :meth:`open_or_none` is the forgiving variant for listings. A subject who comes back later
    gets a new key with a new id: entries sealed before the erasure stay unreadable.
    """

    def __init__(self, master_key: MasterKey | bytes, *, store: KeyStore | None = None) -> None:
        self._master = master_key if isinstance(master_key, MasterKey) else MasterKey(master_key)
        self._store: KeyStore = MemoryKeyStore() if store is None else store
        # Two writers sealing for a new subject at once must not both create a key.
        self._create_lock = threading.Lock()
        # Keys unwrapped inside :meth:`remembering`, per thread (None outside it).
        self._remembered = threading.local()

    def __repr__(self) -> str:
        return f"KeyRing(store={type(self._store).__name__})"

    @property
    def master_key(self) -> MasterKey:
        """The master key that wraps the ring's data keys (its bytes hidden in any repr)."""
        return self._master

    def has_key(self, subject: str) -> bool:
        """Whether the subject currently has a data key (``False`` once erased)."""
        return self._store.get(subject) is not None

    def seal(
        self, personal: Mapping[str, Any], *, subject: str, chain: str, sequence: int, kind: str
    ) -> tuple[str, Sealed]:
        """Encrypt ``personal`` for the entry at ``chain``/``sequence``; return key id and data."""
        return self.seal_encoded(
            canonical_json(personal), subject=subject, chain=chain, sequence=sequence, kind=kind
        )

    def seal_encoded(
        self, personal_json: bytes, *, subject: str, chain: str, sequence: int, kind: str
    ) -> tuple[str, Sealed]:
        """:meth:`seal` for personal fields already encoded with :func:`canonical_json`."""
        key_id, data_key = self._key_for(subject, create=True)
        context = associated_data(
            chain=chain, sequence=sequence, kind=kind, subject=subject, key_id=key_id
        )
        nonce = random_bytes(NONCE_BYTES)
        ciphertext = AESGCM(data_key).encrypt(nonce, personal_json, context)
        return key_id, Sealed(nonce=nonce, ciphertext=ciphertext)

    def open(self, entry: Entry) -> dict[str, Any]:
        """Decrypt the entry's personal fields (``{}`` when it has none).

        Raises
        ------
        ErasedError
            The subject was erased: the key that sealed these fields no longer exists.
        TamperedError
            The ciphertext, nonce or the entry's chain/sequence/kind/subject was changed.
        MasterKeyError
            The master key cannot unwrap the subject's data key.
        """
        if entry.sealed is None:
            return {}
        if entry.subject is None or entry.key_id is None:
            raise TamperedError(
                f"entry {entry.chain}#{entry.sequence} has sealed data but no subject or key id"
            )
        key_id, data_key = self._key_for(entry.subject, create=False)
        if key_id != entry.key_id:
            raise ErasedError(
                f"subject {entry.subject!r} was erased: the key {entry.key_id!r} that sealed "
                f"entry {entry.chain}#{entry.sequence} was destroyed"
            )
        context = associated_data(
            chain=entry.chain,
            sequence=entry.sequence,
            kind=entry.kind,
            subject=entry.subject,
            key_id=entry.key_id,
        )
        try:
            plaintext = AESGCM(data_key).decrypt(
                entry.sealed.nonce, entry.sealed.ciphertext, context
            )
        except (InvalidTag, ValueError):
            raise TamperedError(
                f"the sealed fields of entry {entry.chain}#{entry.sequence} do not authenticate: "
                "the ciphertext or the entry it belongs to was changed"
            ) from None
        opened: dict[str, Any] = json.loads(plaintext)
        return opened

    def open_or_none(self, entry: Entry) -> dict[str, Any] | None:
        """Like :meth:`open`, but ``None`` for an erased subject."""
        try:
            return self.open(entry)
        except ErasedError:
            return None

    def pseudonym(self, subject: str) -> str:
        """Return a keyed digest of ``subject`` that records kept after its erasure name it by.

        HMAC-SHA-256 under a key derived from the master key: the same id always gives the
        same pseudonym, so proof kept after an erasure (consent, the request itself) can be
        found again given the id (a dispute, a returning customer), while it names nobody.
        """
        digest = hmac.new(self._master._pseudonym_key, subject.encode(), hashlib.sha256)
        return f"erased:{digest.hexdigest()[:32]}"

    def digest(self, data: bytes, *, subject: str | None, create: bool = True) -> str:
        """HMAC-SHA-256 of ``data`` under a key derived from ``subject``'s data key.

        It proves values kept outside the ledger (a decision's protected attributes) without
        revealing them: once the subject is erased nobody, the master key's holder included,
        can test a guess against it. Without a subject the key derives from the master key.
        With ``create=False`` an erased subject raises :class:`ErasedError`.
        """
        if subject is None:
            key = self._master._digest_key
        else:
            key_id, data_key = self._key_for(subject, create=create)
            key = hmac.new(data_key, DIGEST_INFO + key_id.encode(), hashlib.sha256).digest()
        return hmac.new(key, data, hashlib.sha256).hexdigest()

    def pseudonym_key_name(self, subject: str) -> str:
        """Name the key from which ``subject``'s ledger pseudonym derives (no id in it).

        A keyed digest of the id under the master key, so that the key store, too, never
        holds the id: the master key's holder finds the key given the id, nobody else does.
        """
        return PSEUDONYM_KEY_PREFIX + self.pseudonym(subject).removeprefix("erased:")

    def subject_pseudonym(self, subject: str, *, create: bool = True) -> str:
        """Return the pseudonym that ledger entries name ``subject`` by.

        An HMAC under the subject's own random *pseudonym key* (kept in the key store under
        :meth:`pseudonym_key_name`, wrapped like a data key): while the key exists the id
        always gives the same pseudonym; once :meth:`erase` destroyed it, nobody (the master
        key's holder included) can tie the pseudonym, or any entry naming it, to the id.
        With ``create=False`` a subject without the key raises :class:`ErasedError`.
        """
        return self.pseudonym_of(self.pseudonym_key_name(subject), create=create)

    def pseudonym_of(self, key_name: str, *, create: bool = False) -> str:
        """Return the pseudonym that the pseudonym key stored as ``key_name`` gives."""
        _, secret = self._key_for(key_name, create=create)
        digest = hmac.new(secret, SUBJECT_PSEUDONYM_INFO, hashlib.sha256).hexdigest()
        return PSEUDONYM_PREFIX + digest[:_PSEUDONYM_HEX]

    def erase(self, subject: str) -> bool:
        """Destroy the subject's data key (crypto-shredding); ``True`` when one existed."""
        memo: dict[str, tuple[str, bytes]] | None = getattr(self._remembered, "keys", None)
        if memo is not None:
            memo.pop(subject, None)
        return self._store.delete(subject)

    @contextmanager
    def remembering(self) -> Iterator[None]:
        """Unwrap each key at most once inside the block (on this thread), then forget them.

        For one request's work: a decision names its subject's pseudonym, seals its personal
        fields and digests its protected values, each with a key the ring would otherwise
        unwrap again. Never wider than one request: a key kept unwrapped across requests
        would outlive an erasure made between them.
        """
        outer = getattr(self._remembered, "keys", None)
        if outer is not None:  # already inside a block: it forgets them when it ends
            yield
            return
        self._remembered.keys = {}
        try:
            yield
        finally:
            self._remembered.keys = None

    def _key_for(self, subject: str, *, create: bool) -> tuple[str, bytes]:
        memo: dict[str, tuple[str, bytes]] | None = getattr(self._remembered, "keys", None)
        if memo is not None and subject in memo:
            return memo[subject]
        found = self._unwrapped(subject, create=create)
        if memo is not None:
            memo[subject] = found
        return found

    def _unwrapped(self, subject: str, *, create: bool) -> tuple[str, bytes]:
        if not isinstance(subject, str) or not subject:
            raise InputError("a subject id must be a non-empty string")
        stored = self._store.get(subject)
        if stored is None:
            if not create:
                raise ErasedError(
                    f"subject {subject!r} has no data key: they were erased (crypto-shredded), "
                    "so their personal fields cannot be opened"
                )
            with self._create_lock:
                stored = self._store.get(subject)
                if stored is None:
                    key_id = secrets.token_hex(8)
                    wrapped = self._master._wrap(
                        os.urandom(KEY_BYTES), context=_wrap_context(subject, key_id)
                    )
                    self._store.put(subject, WrappedKey(key_id=key_id, wrapped=wrapped))
                    # Another process may have stored its key first; use whichever won.
                    stored = self._store.get(subject)
            if stored is None:
                raise ErasedError(f"subject {subject!r} was erased while their key was created")
        data_key = self._master._unwrap(
            stored.wrapped, context=_wrap_context(subject, stored.key_id)
        )
        return stored.key_id, data_key


def is_pseudonym(name: str | None) -> bool:
    """Whether ``name`` (an entry's subject, or a key name's first part) is a ledger pseudonym."""
    return name is not None and name.startswith(PSEUDONYM_PREFIX)


def _wrap_context(subject: str, key_id: str) -> bytes:
    # Binding the wrap to subject and key id stops a stored key being moved to another subject.
    return canonical_json({"purpose": "ethica.ledger data key", "subject": subject, "id": key_id})
