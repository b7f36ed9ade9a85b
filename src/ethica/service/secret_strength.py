"""How strong a configured secret is: an entropy estimate for text secrets, a shape for keys.

A secret signs tokens or wraps keys; one shorter than :data:`MIN_SECRET_BITS` can be guessed
offline from a single token. Text secrets are credited ``log2`` of the smallest common alphabet
holding all their characters per character (a generator's output, not a passphrase, is expected);
ledger keys are base64 of exactly 32 bytes.
"""

from __future__ import annotations

import base64
import binascii
import math
import string

MIN_SECRET_BITS = 256
"""The least entropy a secret may carry outside development (the strength of the keys it guards)."""

KEY_BYTES = 32
"""Ledger keys (the master key, the signing key's seed) are this many random bytes."""

_MIN_DISTINCT_KEY_BYTES = 16  # 32 random bytes have ~30 distinct values; fewer is not random

_ALPHABETS = (
    frozenset(string.digits),
    frozenset(string.hexdigits.lower()),
    frozenset(string.hexdigits.upper()),
    frozenset(string.ascii_lowercase),
    frozenset(string.ascii_uppercase),
    frozenset(string.ascii_letters + string.digits),
    frozenset(string.ascii_letters + string.digits + "-_="),
    frozenset(string.ascii_letters + string.digits + "+/="),
    frozenset(string.printable),
)

GENERATE_TEXT = "python -c 'import secrets; print(secrets.token_urlsafe(32))'"
GENERATE_KEY = "python -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())'"


def secret_bits(secret: str) -> float:
    """Estimated entropy of ``secret`` in bits: its length times log2 of its alphabet's size."""
    if not secret:
        return 0.0
    characters = set(secret)
    size = next((len(a) for a in _ALPHABETS if characters <= a), len(_ALPHABETS[-1]))
    return len(secret) * math.log2(size)


def text_secret_problem(name: str, secret: str) -> str | None:
    """Why the text secret in variable ``name`` is too weak, or None."""
    bits = secret_bits(secret)
    if bits >= MIN_SECRET_BITS:
        return None
    return (
        f"{name} carries about {bits:.0f} bits, fewer than {MIN_SECRET_BITS}; "
        f"generate one with {GENERATE_TEXT}"
    )


def key_bytes(value: str) -> bytes | None:
    """The bytes of a base64 key, or None when ``value`` is not base64 of :data:`KEY_BYTES`."""
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == KEY_BYTES else None


def key_shape_problem(name: str, value: str) -> str | None:
    """Why the ledger key in variable ``name`` is not base64 of 32 bytes, or None."""
    if key_bytes(value) is not None:
        return None
    return f"{name} must be base64 of {KEY_BYTES} random bytes; generate one with {GENERATE_KEY}"


def key_strength_problem(name: str, value: str) -> str | None:
    """Why a well-shaped ledger key in variable ``name`` does not look random, or None."""
    raw = key_bytes(value)
    if raw is None or len(set(raw)) >= _MIN_DISTINCT_KEY_BYTES:
        return None
    return (
        f"{name} has only {len(set(raw))} distinct byte values, not the output of a random "
        f"generator; generate one with {GENERATE_KEY}"
    )
