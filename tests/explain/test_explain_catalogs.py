"""Sentences come from gettext catalogs: every locale has every message, with the same fields."""

from __future__ import annotations

import string
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from explain_cases import credit_spec

import ethica.explain
from ethica.explain import NOTICE_TEMPLATES, TEMPLATES, format_value

LOCALES = Path(ethica.explain.__file__).parent / "locales"


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def _catalogs() -> dict[str, dict[tuple[str | None, str], str]]:
    found = {}
    for path in sorted(LOCALES.glob("*/LC_MESSAGES/ethica.po")):
        with path.open("rb") as handle:
            catalog = read_po(handle)
        found[path.parts[-3]] = {
            (message.context, str(message.id)): str(message.string)
            for message in catalog
            if message.id
        }
    return found


def test_every_message_exists_translated_in_every_locale_with_the_same_fields() -> None:
    catalogs = _catalogs()
    assert set(catalogs) == {"en", "de"}
    english = catalogs["en"]
    assert {context for context, _ in english} == {"explanation", "reviewer", "notice"}
    for locale, messages in catalogs.items():
        assert messages.keys() == english.keys(), locale
        for key, text in messages.items():
            assert text, (locale, key)  # an empty msgstr would show the customer a key
            assert _fields(text) == _fields(english[key]), (locale, key)


def test_the_public_template_tables_are_the_catalogs() -> None:
    catalogs = _catalogs()
    for locale, messages in catalogs.items():
        explanation = {k: v for (c, k), v in messages.items() if c == "explanation"}
        notice = {k: v for (c, k), v in messages.items() if c == "notice"}
        assert TEMPLATES[locale] == explanation
        assert NOTICE_TEMPLATES[locale] == notice


@pytest.mark.parametrize("value", [3.0, 1234.5, 1234567.891, 0.125, 42.0, 999999.999])
def test_numbers_follow_each_locales_conventions(value: float) -> None:
    spec = credit_spec()
    income = spec.feature("income")
    pattern = "#,##0" if value.is_integer() else "#,##0.##"
    for locale in ("en", "de"):
        expected = format_decimal(value, format=pattern, locale=locale)
        assert format_value(value, income, locale=locale) == expected
    assert format_value(1234567.891, income, locale="de") == "1.234.567,89"
    assert format_value(1234567.891, income, locale="en") == "1,234,567.89"
    assert format_value(1234.0, spec.feature("years_employed"), locale="de") == "1.234"
