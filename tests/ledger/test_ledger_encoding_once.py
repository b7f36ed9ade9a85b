"""The ledger encodes each entry once: the fast paths give the bytes of the general encoding.

Hashes are what existing chains are checked against, so the shortcuts (type-dispatched
normalizing, the entry's content assembled around its cached public encoding, personal fields
sealed from bytes encoded once) must give exactly the bytes of the straightforward encoding
that the ledger used before them, written out here as the reference.
"""

from __future__ import annotations

import enum
import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ethica.errors import InputError
from ethica.ledger import (
    Entry,
    KeyRing,
    Ledger,
    MasterKey,
    Sealed,
    canonical_json,
    entry_hash,
    verify,
)
from ethica.ledger._canonical import encode_built, encode_plain, normalize, rfc3339


def reference_normalize(value: Any, *, path: str = "$") -> Any:
    """The ledger's normalizing as it was first written: one isinstance chain, eager paths."""
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
            result[str(key)] = reference_normalize(item, path=f"{path}.{key}")
        return result
    if isinstance(value, list | tuple):
        return [reference_normalize(item, path=f"{path}[{i}]") for i, item in enumerate(value)]
    raise InputError(
        f"{path} is a {type(value).__name__}, which has no canonical JSON form; "
        "convert it to a string, number, bool, list or dict first"
    )


def reference_canonical_json(value: Any) -> bytes:
    """The ledger's canonical encoding as it was first written."""
    text = json.dumps(
        reference_normalize(value),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )
    return text.encode("utf-8")


class Grade(enum.IntEnum):
    LOW = 1
    HIGH = 2


class Tag(enum.StrEnum):
    GOLD = "gold"


class Score(float):
    """A float subclass, as numpy's float64 is."""


class Name(str):
    """A str subclass."""


moments = st.datetimes(
    min_value=datetime(1970, 1, 2), timezones=st.sampled_from([UTC, timezone(timedelta(hours=5))])
)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from([Grade.LOW, Grade.HIGH, Tag.GOLD])
    | st.floats(allow_nan=False, allow_infinity=False).map(Score)
    | st.text(max_size=6).map(Name)
    | moments
)
values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.lists(children, max_size=3).map(tuple)
        | st.dictionaries(st.text(max_size=8), children, max_size=4)
        | st.dictionaries(st.text(max_size=4), children, max_size=3).map(MappingProxyType)
    ),
    max_leaves=25,
)
refused = st.sampled_from(
    [math.nan, -math.inf, b"raw", {"a", "b"}, datetime(2026, 1, 1), object(), 2.5j]
)


@settings(max_examples=300, deadline=None)
@given(value=values)
def test_normalizing_matches_the_reference(value: Any) -> None:
    expected = reference_normalize(value)
    assert normalize(value) == expected
    assert canonical_json(value) == reference_canonical_json(value)


@settings(max_examples=200, deadline=None)
@given(
    value=st.dictionaries(st.text(max_size=6), values, min_size=1, max_size=4),
    bad=refused,
    where=st.integers(0, 3),
)
def test_refusals_name_the_same_place_as_the_reference(value: Any, bad: Any, where: int) -> None:
    keys = sorted(value)
    value[keys[where % len(keys)]] = [1, {"inner": bad}]
    with pytest.raises(InputError) as expected:
        reference_normalize(value, path="public")
    with pytest.raises(InputError) as got:
        normalize(value, path="public")
    assert str(got.value) == str(expected.value)


@pytest.mark.parametrize("key", [1, 2.5, None, True, ("a",)])
def test_non_string_keys_are_refused_like_the_reference(key: Any) -> None:
    value = {"outer": [{"fine": 1, key: "x"}]}
    with pytest.raises(InputError) as expected:
        reference_normalize(value)
    with pytest.raises(InputError) as got:
        normalize(value)
    assert str(got.value) == str(expected.value)


names = st.text(min_size=1, max_size=10)
sealed_parts = st.none() | st.builds(
    Sealed, nonce=st.binary(min_size=12, max_size=12), ciphertext=st.binary(max_size=64)
)
entries = st.builds(
    Entry,
    chain=names,
    sequence=st.integers(0, 2**40),
    recorded_at=moments,
    kind=names,
    subject=st.none() | names,
    public=st.dictionaries(st.text(max_size=8), values, max_size=5).map(normalize),
    sealed=sealed_parts,
    key_id=st.none() | names,
    previous_hash=st.text(alphabet="0123456789abcdef", min_size=64, max_size=64),
    hash=st.just(""),
)


@settings(max_examples=300, deadline=None)
@given(entry=entries)
def test_an_entrys_encoding_and_hash_match_the_reference(entry: Entry) -> None:
    expected = reference_canonical_json(entry.content())
    assert entry.content_json() == expected
    assert entry.public_json == reference_canonical_json(entry.public)
    assert entry_hash(entry) == hashlib.sha256(expected).hexdigest()


def test_a_known_entry_keeps_the_hash_the_ledger_gave_it_before() -> None:
    # Hash and bytes computed by the ledger before entries were encoded once (a regression pin:
    # every stored chain depends on them).
    entry = Entry(
        chain="credit-limit/1",
        sequence=7,
        recorded_at=datetime(2026, 3, 4, 5, 6, 7, 89, tzinfo=UTC),
        kind="decision",
        subject="cust-1#credit-limit#2026-03",
        public={
            "decision_id": "d-1",
            "score": 0.4182,
            "outcome": "declined",
            "review": {"status": "automatic", "reason": None},
            "data": {
                "used": ["income", "tenure"],
                "withheld": [{"feature": "region", "reason": "no consent"}],
            },
            "note": "Île-de-France ü",
            "big": 10**20,
            "neg": -0.0,
        },
        sealed=Sealed(nonce=bytes(range(12)), ciphertext=bytes(range(40))),
        key_id="k-1",
        previous_hash="ab" * 32,
        hash="",
    )
    assert entry_hash(entry) == "2c6651a8b83848050899eba8d4160763a505b94bb8767da1021ebb1573683079"
    assert entry.content_json().startswith(
        b'{"chain":"credit-limit/1","format":"ethica.ledger/1","key_id":"k-1","kind":"decision",'
    )
    assert entry.content_json().endswith(b'"sequence":7,"subject":"cust-1#credit-limit#2026-03"}')


@settings(max_examples=100, deadline=None)
@given(
    public=st.dictionaries(st.text(max_size=8), values, max_size=5),
    personal=st.dictionaries(st.text(max_size=8), values, min_size=1, max_size=5),
)
def test_appended_entries_hash_and_seal_what_the_reference_encodes(
    public: dict[str, Any], personal: dict[str, Any]
) -> None:
    keyring = KeyRing(MasterKey.generate())
    ledger = Ledger(keyring=keyring)
    first = ledger.append("decision", chain="c", subject="s", public=public, personal=personal)
    second = ledger.append("decision", chain="c", subject="s", public=public)
    for entry in (first, second):
        content = reference_canonical_json(entry.content())
        assert entry.hash == hashlib.sha256(content).hexdigest()
        assert entry.public_json == reference_canonical_json(public)
    assert keyring.open(first) == json.loads(reference_canonical_json(personal))
    assert ledger.verify().ok


def test_a_lone_surrogate_is_refused_before_anything_is_appended() -> None:
    ledger = Ledger()
    with pytest.raises(InputError, match="Unicode"):
        ledger.append("decision", chain="c", public={"name": "\ud800"})
    assert ledger.head("c") is None


def test_public_fields_changed_in_place_after_appending_fail_verification() -> None:
    # The hash is checked against the fields as they are now, never a cached encoding.
    ledger = Ledger()
    entry = ledger.append("decision", chain="c", public={"score": 0.5, "outcome": "approved"})
    assert ledger.verify().ok
    entry.public["outcome"] = "declined"
    assert entry_hash(entry) != entry.hash
    assert not verify([entry]).ok
    # The store keeps the text that was hashed (as a SQL table does), not the caller's object.
    assert ledger.verify().ok
    assert next(ledger.entries("c")).public["outcome"] == "approved"


@settings(max_examples=300, deadline=None)
@given(value=st.dictionaries(st.text(max_size=8), values, max_size=5))
def test_data_built_by_its_caller_encodes_to_the_reference_bytes(value: dict[str, Any]) -> None:
    # Exact plain types take the encoder alone; anything else (datetimes, mapping proxies)
    # falls back to normalizing: either way the bytes are the reference's.
    data, encoded = encode_built(value)
    assert encoded == reference_canonical_json(value)
    assert encode_plain(data) == encoded


@settings(max_examples=200, deadline=None)
@given(
    value=st.dictionaries(st.text(max_size=6), values, min_size=1, max_size=4),
    bad=refused,
    where=st.integers(0, 3),
)
def test_built_data_is_refused_like_the_reference(value: Any, bad: Any, where: int) -> None:
    keys = sorted(value)
    value[keys[where % len(keys)]] = [1, {"inner": bad}]
    with pytest.raises(InputError) as expected:
        reference_normalize(value, path="public")
    with pytest.raises(InputError) as got:
        encode_built(value, path="public")
    assert str(got.value) == str(expected.value)


def test_built_entries_hash_and_seal_as_normalized_ones() -> None:
    moment = datetime(2026, 3, 4, 5, 6, 7, 89, tzinfo=UTC)
    public = {
        "decision_id": "d-1",
        "score": 0.41823456789012345,
        "data": {"used": ["x0", "x1"], "withheld": [], "dropped": []},
        "review": {"status": "automatic", "reason": None},
        "explanation": "sealed",
    }
    personal = {
        "features": {"x0": 1e-07, "x1": 123456789012345678.0, "housing": "own"},
        "explanation": {"contributions": {"x0": -0.1, "x1": 2.5e16}, "text": "Ihr Einkommen"},
    }
    ring = KeyRing(MasterKey(b"k" * 32))
    entries = []
    for built in (False, True):
        ledger = Ledger(keyring=ring, clock=lambda: moment)
        entries.append(
            ledger.append(
                "decision", chain="c", subject="s", public=public, personal=personal, built=built
            )
        )
    plain, built_entry = entries
    assert built_entry.public_json == plain.public_json == reference_canonical_json(public)
    assert built_entry.public == plain.public
    assert ring.open(built_entry) == ring.open(plain) == reference_normalize(personal)
    # The sealed bytes differ (a fresh nonce each); everything else the hash covers does not.
    assert entry_hash(replace(built_entry, sealed=plain.sealed)) == plain.hash
