"""Canonical JSON: one byte string per value, whatever the dict order or the Python process."""

from __future__ import annotations

import ast
import hashlib
import json
import math
import os
import random
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ethica.errors import InputError
from ethica.ledger import canonical_json

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


def _reorder(value: Any, rng: random.Random) -> Any:
    """The same value with every dict built in a shuffled insertion order."""
    if isinstance(value, dict):
        keys = list(value)
        rng.shuffle(keys)
        return {key: _reorder(value[key], rng) for key in keys}
    if isinstance(value, list):
        return [_reorder(item, rng) for item in value]
    return value


@settings(max_examples=100, deadline=None)
@given(value=json_values, seed=st.integers(0, 2**32 - 1))
def test_encoding_ignores_dict_insertion_order(value: Any, seed: int) -> None:
    assert canonical_json(_reorder(value, random.Random(seed))) == canonical_json(value)


@settings(max_examples=100, deadline=None)
@given(value=json_values)
def test_encoding_round_trips_through_json(value: Any) -> None:
    encoded = canonical_json(value)
    decoded = json.loads(encoded.decode("utf-8"))
    assert decoded == value
    assert canonical_json(decoded) == encoded


@settings(max_examples=100, deadline=None)
@given(value=json_values)
def test_encoding_matches_the_standard_library_spelled_out(value: Any) -> None:
    # The documented rules, written independently with json.dumps' own options.
    expected = json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")
    assert canonical_json(value) == expected


def test_known_bytes_for_a_small_value() -> None:
    value = {"b": 1, "a": [1, 2.5, None, True, False], "é": "ü 1", "c": {"z": -0.0, "y": 10**20}}
    expected = (
        '{"a":[1,2.5,null,true,false],"b":1,"c":{"y":100000000000000000000,"z":-0.0},"é":"ü 1"}'
    )
    assert canonical_json(value) == expected.encode("utf-8")


def test_tuples_encode_as_arrays() -> None:
    assert canonical_json({"x": (1, "a")}) == canonical_json({"x": [1, "a"]}) == b'{"x":[1,"a"]}'


def test_datetimes_are_rfc3339_utc_with_microseconds() -> None:
    plus_one = timezone(timedelta(hours=1))
    moment = datetime(2026, 1, 2, 4, 4, 5, tzinfo=plus_one)
    assert canonical_json(moment) == b'"2026-01-02T03:04:05.000000Z"'
    assert canonical_json({"at": datetime(2026, 1, 2, 3, 4, 5, 7, tzinfo=UTC)}) == (
        b'{"at":"2026-01-02T03:04:05.000007Z"}'
    )
    parsed = datetime.fromisoformat(canonical_json(moment).decode().strip('"'))
    assert parsed == moment


@pytest.mark.parametrize(
    ("value", "where"),
    [
        ({"score": math.nan}, "$.score"),
        ({"score": math.inf}, "$.score"),
        ({"scores": [1.0, -math.inf]}, "$.scores[1]"),
        ({"raw": b"bytes"}, "$.raw"),
        ({"tags": {"a", "b"}}, "$.tags"),
        ({"at": datetime(2026, 1, 1)}, "no timezone"),  # naive on purpose
        ({1: "integer key"}, "key 1"),
        (object(), "object"),
    ],
)
def test_values_without_a_canonical_form_are_refused(value: Any, where: str) -> None:
    with pytest.raises(InputError, match=where.replace("$", r"\$").replace("[", r"\[")):
        canonical_json(value)


def test_lone_surrogates_are_refused() -> None:
    with pytest.raises(InputError, match="Unicode"):
        canonical_json({"name": "\ud800"})


VALUE_SOURCE = (
    "{'decision': 'declined', 'score': 0.4182, 'features': {'income': 52000, 'tenure': 3.5,"
    " 'region': 'Île-de-France'}, 'reasons': ['income', 'tenure'], 'flags': {'z': True, 'a': None}}"
)


def test_encoding_is_stable_across_python_processes() -> None:
    script = (
        "import hashlib; from ethica.ledger import canonical_json; "
        f"print(hashlib.sha256(canonical_json({VALUE_SOURCE})).hexdigest())"
    )
    expected = hashlib.sha256(canonical_json(ast.literal_eval(VALUE_SOURCE))).hexdigest()
    for seed in ("0", "1", "987654"):
        done = subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        )
        assert done.stdout.strip() == expected
