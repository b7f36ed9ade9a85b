"""Who is calling: API keys for applications, signed tokens for staff and customers.

- Applications send ``Authorization: Bearer ek_<id>_<secret>``; the secret is compared with its
  stored SHA-256 in constant time (API secrets are 256-bit random, so a fast hash suffices).
- Staff log in with a password (scrypt) and get a signed, expiring token; customers arrive with a
  signed link token from the business's app. Tokens are HMAC-SHA256 over a small JSON payload
  carrying a random id (``jti``); signing out revokes that id until the token would expire.
- A verified API key is remembered in memory for :data:`API_KEY_CACHE_SECONDS`, so the decision
  path does not query the database (nor leave the event loop) to authenticate each request.
  A key disabled or deleted through the ORM in this process (any session: an update of the
  ``ApiKey`` row or a bulk ``update(ApiKey)``) is forgotten at once; changed by another process
  (a replica, the CLI) or by raw SQL, it keeps working here for up to that long
  (:func:`forget_api_keys` drops the cache explicitly).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import ORMExecuteState, Session

from ethica.service.errors import AuthenticationError
from ethica.service.scopes import ROLE_SCOPES
from ethica.service.users.tables import ApiKey, RevokedToken, User

_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}

API_KEY_CACHE_SECONDS = 5.0
"""How long a verified API key is trusted without reading its row again."""
_API_KEY_CACHE_SIZE = 10_000


@dataclass(frozen=True)
class Principal:
    """The authenticated caller."""

    kind: str  # "application", "user" or "customer"
    id: str
    role: str
    scopes: frozenset[str] = field(default_factory=frozenset)
    subject: str | None = None  # the customer's own subject id

    def can(self, scope: str) -> bool:
        """Whether the caller holds ``scope``."""
        return scope in self.scopes

    @property
    def actor(self) -> str:
        """How the ledger names the caller: ``kind:id``."""
        return f"{self.kind}:{self.id}"


def hash_password(password: str) -> str:
    """scrypt hash with a random salt, as ``scrypt$<salt>$<hash>``."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, **_SCRYPT)
    return f"scrypt${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches a hash from :func:`hash_password`."""
    try:
        _, salt, digest = stored.split("$")
    except ValueError:
        return False
    candidate = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), **_SCRYPT)
    return hmac.compare_digest(candidate.hex(), digest)


def new_api_key() -> tuple[str, str, str]:
    """A new key: (key id, full key to hand out once, hash of its secret to store)."""
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    return key_id, f"ek_{key_id}_{secret}", _sha256(secret)


def sign_token(payload: dict[str, Any], *, secret: str, minutes: int) -> str:
    """A signed token carrying ``payload`` that expires after ``minutes``, with a random ``jti``."""
    body = dict(payload, exp=int(time.time()) + 60 * minutes, jti=secrets.token_urlsafe(16))
    raw = base64.urlsafe_b64encode(json.dumps(body, sort_keys=True).encode()).rstrip(b"=")
    signature = hmac.new(secret.encode(), raw, hashlib.sha256).digest()
    return f"{raw.decode()}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"


def read_token(token: str, *, secret: str) -> dict[str, Any]:
    """The payload of a valid, unexpired token; :class:`AuthenticationError` otherwise."""
    try:
        raw, signature = token.split(".")
        expected = hmac.new(secret.encode(), raw.encode(), hashlib.sha256).digest()
        given = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
        if not hmac.compare_digest(expected, given):
            raise AuthenticationError("the token's signature is not valid")
        payload: dict[str, Any] = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    except (ValueError, TypeError) as error:
        raise AuthenticationError("the token is malformed") from error
    if int(payload.get("exp", 0)) < time.time():
        raise AuthenticationError("the token has expired; sign in again")
    return payload


def authenticate(session: Session, authorization: str | None, *, secret: str) -> Principal:
    """Resolve an ``Authorization`` header into a principal, or raise AuthenticationError."""
    if not authorization or not authorization.lower().startswith("bearer "):
        raise AuthenticationError("send credentials as 'Authorization: Bearer <API key or token>'")
    credential = authorization[7:].strip()
    if credential.startswith("ek_"):
        return _application(session, credential)
    payload = read_token(credential, secret=secret)
    jti = payload.get("jti")
    if not isinstance(jti, str) or session.get(RevokedToken, jti) is not None:
        raise AuthenticationError("this session has ended; sign in again")
    if payload.get("kind") == "customer":
        return Principal(
            "customer",
            str(payload["sub"]),
            "customer",
            ROLE_SCOPES["customer"],
            subject=str(payload["sub"]),
        )
    user = session.get(User, str(payload.get("sub")))
    if user is None or not user.active:
        raise AuthenticationError("this account does not exist or is disabled")
    return Principal("user", user.id, user.role, ROLE_SCOPES.get(user.role, frozenset()))


def _application(session: Session, credential: str) -> Principal:
    cached = _API_KEYS.get(credential)
    if cached is not None:
        return cached
    parts = credential.split("_", 2)
    if len(parts) != 3:
        raise AuthenticationError("the API key is malformed")
    key = session.scalar(select(ApiKey).where(ApiKey.id == parts[1]))
    if key is None or not key.active or not hmac.compare_digest(key.secret_hash, _sha256(parts[2])):
        raise AuthenticationError("the API key is not valid")
    principal = Principal("application", key.id, "application", frozenset(key.scopes))
    _API_KEYS.put(credential, principal)
    return principal


class _ApiKeyCache:
    """Principals of recently verified API keys, by the SHA-256 of the full key."""

    def __init__(self, *, seconds: float, size: int) -> None:
        self._seconds = seconds
        self._size = size
        self._entries: dict[str, tuple[Principal, float]] = {}
        self._lock = threading.Lock()

    def get(self, credential: str) -> Principal | None:
        entry = self._entries.get(_sha256(credential))
        if entry is None or entry[1] < time.monotonic():
            return None
        return entry[0]

    def put(self, credential: str, principal: Principal) -> None:
        with self._lock:
            if len(self._entries) >= self._size:
                self._entries.clear()  # simpler than LRU; the next requests re-verify
            self._entries[_sha256(credential)] = (principal, time.monotonic() + self._seconds)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


_API_KEYS = _ApiKeyCache(seconds=API_KEY_CACHE_SECONDS, size=_API_KEY_CACHE_SIZE)


def forget_api_keys() -> None:
    """Drop every remembered API key verification (after disabling or deleting a key)."""
    _API_KEYS.clear()


@event.listens_for(Session, "do_orm_execute")
def _forget_on_bulk_change(state: ORMExecuteState) -> None:
    if (state.is_update or state.is_delete) and any(
        mapper.class_ is ApiKey for mapper in state.all_mappers
    ):
        _API_KEYS.clear()


@event.listens_for(Session, "before_flush")
def _forget_on_flush(session: Session, _context: Any, _instances: Any) -> None:
    if any(isinstance(row, ApiKey) for row in (*session.dirty, *session.deleted)):
        _API_KEYS.clear()


def cached_application(authorization: str | None) -> Principal | None:
    """The principal of a recently verified API key in ``authorization``, without the database."""
    if not authorization or not authorization.lower().startswith("bearer "):
        return None
    credential = authorization[7:].strip()
    return _API_KEYS.get(credential) if credential.startswith("ek_") else None


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
