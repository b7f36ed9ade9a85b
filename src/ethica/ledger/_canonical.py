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
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from ethica.errors import InputError

__all__ = ["canonical_json", "normalize", "rfc3339"]


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
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InputError(f"{path} is {value!r}; the ledger stores finite numbers only")
        return float(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, datetime):
        return rfc3339(value)
    if isinstance(value, Mapping):
        result: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise InputError(f"{path} has the key {key!r}; object keys must be strings")
            result[str(key)] = normalize(item, path=f"{path}.{key}")
        return result
    if isinstance(value, list | tuple):
        return [normalize(item, path=f"{path}[{i}]") for i, item in enumerate(value)]
    raise InputError(
        f"{path} is a {type(value).__name__}, which has no canonical JSON form; "
        "convert it to a string, number, bool, list or dict first"
    )


def canonical_json(value: Any) -> bytes:
    """Encode ``value`` as canonical JSON bytes (see the module docstring for the rules)."""
    text = json.dumps(
        normalize(value),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise InputError(f"a string is not valid Unicode (lone surrogate?): {error}") from None
