"""Numbers in explanations read exactly as Babel writes them, with Babel off the hot path."""

from __future__ import annotations

from collections.abc import Callable
from decimal import InvalidOperation
from typing import Any

import babel
import pytest
from babel.numbers import parse_pattern
from hypothesis import given, settings
from hypothesis import strategies as st

from ethica.explain._text import _formatted, _plain_symbols

PATTERNS = ("#,##0", "#,##0.##")
LOCALES = ("en", "de")
# Ties at the rounding digit, signs, zero, values that round to zero, large groups.
EDGES = (
    0.0, -0.0, 0.005, 0.015, 0.125, -0.125, 2.675, 2.5, 3.5, -2.5, 0.004, -0.004, -0.001,
    0.995, 999.995, 1234.5, -1234.565, 1e-9, 123456789.125, 999999999999999.9, 1e15, -1e16,
    4.35, 1.005, 0.045, 71.0, 56200.0,
)  # fmt: skip


def _babel(number: float, locale: str, pattern: str) -> str:
    return str(parse_pattern(pattern).apply(number, babel.Locale.parse(locale)))


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("pattern", PATTERNS)
def test_the_plain_patterns_take_the_fast_path(locale: str, pattern: str) -> None:
    assert _plain_symbols(locale, pattern) is not None


def test_a_pattern_with_a_prefix_or_minimum_fraction_is_left_to_babel() -> None:
    assert _plain_symbols("en", "#,##0.00") is None
    assert _plain_symbols("en", "#,##0%") is None
    assert _formatted(0.5, "en", "#,##0.00") == _babel(0.5, "en", "#,##0.00") == "0.50"


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("pattern", PATTERNS)
@pytest.mark.parametrize("number", EDGES)
def test_edge_values_read_as_babel_writes_them(number: float, locale: str, pattern: str) -> None:
    assert _formatted.__wrapped__(number, locale, pattern) == _babel(number, locale, pattern)


@settings(max_examples=400, deadline=None)
@given(
    number=st.one_of(
        st.floats(allow_nan=False, allow_infinity=False),
        st.floats(min_value=-1e7, max_value=1e7, allow_nan=False),
        st.integers(min_value=-(10**6), max_value=10**6).map(lambda n: n / 1000),
    ),
    locale=st.sampled_from(LOCALES),
    pattern=st.sampled_from(PATTERNS),
)
def test_any_number_reads_as_babel_writes_it(number: float, locale: str, pattern: str) -> None:
    assert _outcome(_formatted.__wrapped__, number, locale, pattern) == _outcome(
        _babel, number, locale, pattern
    )


def _outcome(write: Callable[[float, str, str], str], *args: Any) -> str:
    """What ``write`` returns, or the name of what it raises (Babel refuses numbers of more
    digits than the decimal context holds)."""
    try:
        return write(*args)
    except InvalidOperation as error:
        return type(error).__name__
