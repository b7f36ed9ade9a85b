r"""Canonical JSON: the one byte encoding of a value that the ledger hashes, seals and signs.

Rules, so that any implementation (or a later Python) produces the same bytes:

- objects have their keys sorted (by code point) and keys must be strings;
- no whitespace: ``,`` and ``:`` separators;
- UTF-8, with non-ASCII characters written as themselves (not ``\u`` escapes);
- ``None``, ``bool``, ``int``, ``str``, lists and tuples (as arrays), dicts (as objects);
- finite floats only, written as Python's shortest round-tripping ``repr`` (NaN and
  ±Infinity are refused: JSON has no spelling for them);
- timezone-aware ``datetime`` values as RFC 3339 UTC strings with microseconds,
  ``2026-01-02T03:04:05.000000Z``; naive datetimes are refused (their instant is unknown);
- anything else (bytes, sets, dates, decimals, objects) is refused with :class:`InputError`.

Strings are hashed exactly as given (no Unicode normalization).

Performance: every ledger entry passes through here several times, so plain values (exact
``dict``, ``list``, ``str``, ``int``, ``float``) take a type-dispatched path, and the path of a
refused value (``$.a[2]``) is only spelled out when one is refused. Values already normalized
are encoded with :func:`encode_plain` without being walked again.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from json.encoder import c_make_encoder, encode_basestring  # type: ignore[attr-defined]
from typing import Any

from ethica.errors import InputError

__all__ = ["canonical_json", "encode_built", "encode_plain", "normalize", "rfc3339"]

_ENCODER = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)
# The C encoder that _ENCODER.encode builds on every call, built once (same options, no check
# for cycles: normalized values have none). A ledger entry encodes several small values, each
# of which cost more to set up than to encode.
_C_ENCODER = (
    None
    if c_make_encoder is None
    else c_make_encoder(
        None, _ENCODER.default, encode_basestring, None, ":", ",", True, False, False
    )
)


def rfc3339(moment: datetime) -> str:
    """Write a timezone-aware ``moment`` as an RFC 3339 UTC string with microseconds."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InputError(
            f"datetime {moment.isoformat()} has no timezone; pass an aware datetime, "
            "e.g. datetime.now(UTC), so the ledger records one unambiguous instant"
        )
    utc = moment.astimezone(UTC).replace(tzinfo=None)
    return utc.isoformat(timespec="microseconds") + "Z"


def normalize(value: Any, *, path: str = "$") -> Any:
    """Return ``value`` as plain JSON data (dict, list, str, int, float, bool, None).

    Raises
    ------
    InputError
        When a value has no canonical JSON form; the message names where it is (``$.a[2]``).
    """
    try:
        return _plain(value)
    except _Refused as refused:
        raise InputError(path + "".join(reversed(refused.where)) + refused.what) from None


def canonical_json(value: Any) -> bytes:
    """Encode ``value`` as canonical JSON bytes (see the module docstring for the rules)."""
    return encode_plain(normalize(value))


def encode_plain(value: Any) -> bytes:
    """Encode a value that :func:`normalize` returned, without walking it again.

    ``encode_plain(normalize(v)) == canonical_json(v)``; given anything but plain JSON data the
    bytes are not canonical, so only pass what :func:`normalize` returned.
    """
    try:
        if _C_ENCODER is None:  # a Python without the json module's accelerator
            return _ENCODER.encode(value).encode("utf-8")
        return "".join(_C_ENCODER(value, 0)).encode("utf-8")
    except UnicodeEncodeError as error:
        raise InputError(f"a string is not valid Unicode (lone surrogate?): {error}") from None


def encode_built(value: dict[str, Any], *, path: str = "$") -> tuple[dict[str, Any], bytes]:
    """Return a copy of ``value`` as plain data and its canonical JSON, without walking it first.

    For data its caller built from exact plain types (``dict`` with string keys, ``list``,
    ``str``, ``int``, ``float``, ``bool``, ``None``): the bytes are then those of
    :func:`canonical_json`, for the cost of encoding alone. A value the encoder refuses (a
    datetime, a non-finite float, a set, ...) sends the whole value down :func:`normalize`'s
    path, to be converted or refused (with its path) as there. Keys are not checked: a
    non-string key would be written as a string where :func:`canonical_json` refuses it.
    """
    try:
        return dict(value), encode_plain(value)
    except (TypeError, ValueError):
        data = normalize(value, path=path)
        return data, encode_plain(data)


class _Refused(Exception):
    """A value without a canonical form; ``where`` collects its path, innermost part first."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.where: list[str] = []


def _plain(value: Any) -> Any:
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is float:
        if not math.isfinite(value):
            raise _Refused(f" is {value!r}; the ledger stores finite numbers only")
        return value
    if kind is dict:
        return _plain_mapping(value)
    if kind is list:
        return _plain_sequence(value)
    return _plain_other(value)


def _plain_mapping(value: Mapping[Any, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, item in value.items():
        if type(key) is not str and not isinstance(key, str):
            raise _Refused(f" has the key {key!r}; object keys must be strings")
        try:
            result[str(key)] = _plain(item)
        except _Refused as refused:
            refused.where.append(f".{key}")
            raise
    return result


def _plain_sequence(value: list[Any] | tuple[Any, ...]) -> list[Any]:
    result: list[Any] = []
    index = 0
    try:
        for index, item in enumerate(value):  # noqa: B007 (the index names a refused item)
            result.append(_plain(item))
    except _Refused as refused:
        refused.where.append(f"[{index}]")
        raise
    return result


def _plain_other(value: Any) -> Any:
    """Normalize subclasses of the plain types, other mappings, tuples and datetimes."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _Refused(f" is {value!r}; the ledger stores finite numbers only")
        return float(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, datetime):
        return rfc3339(value)
    if isinstance(value, Mapping):
        return _plain_mapping(value)
    if isinstance(value, list | tuple):
        return _plain_sequence(value)
    raise _Refused(
        f" is a {type(value).__name__}, which has no canonical JSON form; "
        "convert it to a string, number, bool, list or dict first"
    )
