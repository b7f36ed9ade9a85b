"""Redact personal data from free text (complaints, review notes) before it is stored or shown.

Each recognizer is a compiled regular expression, and where the identifier carries a check digit
(card numbers: Luhn; IBANs: ISO 13616 mod 97; French INSEE numbers: mod 97; German tax IDs:
ISO 7064 mod 11,10) a candidate that fails the check is left alone. Matching is local and offline:
Presidio was considered, but its e-mail recognizer looks up the public suffix list over the
network at first use and it pulls in spaCy; these recognizers need neither.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

from ethica.errors import InputError

BuiltinKind = Literal[
    "EMAIL", "PHONE", "CREDIT_CARD", "IBAN", "US_SSN", "UK_NINO", "DE_TAX_ID", "FR_INSEE"
]  # fmt: skip
BUILTIN_KINDS: tuple[BuiltinKind, ...] = (
    "EMAIL", "PHONE", "CREDIT_CARD", "IBAN", "US_SSN", "UK_NINO", "DE_TAX_ID", "FR_INSEE"
)  # fmt: skip

_KIND_NAME = re.compile(r"^[A-Z][A-Z0-9_]{0,39}$")


class Found(NamedTuple):
    """One piece of personal data found: its kind and where it was in the original text."""

    kind: str
    start: int
    end: int


@dataclass(frozen=True)
class Redacted:
    """The text with each piece of personal data replaced by ``<KIND>``, and what was found."""

    text: str
    found: list[Found] = field(default_factory=list)


# --- check digits -----------------------------------------------------------------------------


def _digits(value: str) -> str:
    return "".join(c for c in value if c.isdigit())


def luhn_valid(number: str) -> bool:
    """Check the Luhn (mod 10) check digit of a card number; separators are ignored."""
    digits = _digits(number)
    if not digits:
        return False
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


# ISO 13616 lengths of the countries that issue IBANs (SWIFT IBAN registry).
_IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27,
    "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27,
    "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22,
    "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32,
    "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19,
    "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23, "PK": 24,
    "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24, "SC": 31,
    "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28, "TL": 23,
    "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}  # fmt: skip


def iban_valid(iban: str) -> bool:
    """Check an IBAN's country length and ISO 13616 mod-97 check digits; spaces are ignored."""
    compact = iban.replace(" ", "").upper()
    if _IBAN_LENGTHS.get(compact[:2]) != len(compact) or not compact.isalnum():
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


def _iban_span(candidate: str) -> str:
    # The pattern may run on into a following upper-case word; keep the country's length.
    expected = _IBAN_LENGTHS.get(candidate[:2], 0)
    seen = 0
    for index, char in enumerate(candidate):
        seen += char != " "
        if seen == expected:
            return candidate[: index + 1]
    return candidate


def insee_valid(number: str) -> bool:
    """Check a French INSEE (NIR) number's key: 97 minus the first 13 digits modulo 97."""
    compact = number.replace(" ", "").upper()
    if len(compact) != 15:
        return False
    # Corsica's departments 2A and 2B count as 19 and 18 in the key.
    body = compact[:13].replace("2A", "19", 1) if compact[5:7] == "2A" else compact[:13]
    body = body.replace("2B", "18", 1) if compact[5:7] == "2B" else body
    if not (body.isdigit() and compact[13:].isdigit()):
        return False
    return 97 - int(body) % 97 == int(compact[13:])


def de_tax_id_valid(number: str) -> bool:
    """Check a German Steuer-ID: digit pattern of the first ten and ISO 7064 mod 11,10 digit."""
    digits = _digits(number)
    if len(digits) != 11 or digits[0] == "0":
        return False
    counts = [digits[:10].count(d) for d in set(digits[:10])]
    # One digit appears twice or three times, the others at most once.
    if sorted(c for c in counts if c > 1) not in ([2], [3]):
        return False
    product = 10
    for char in digits[:10]:
        total = (int(char) + product) % 10 or 10
        product = (total * 2) % 11
    return (11 - product) % 10 == int(digits[10])


def _us_ssn_valid(number: str) -> bool:
    digits = _digits(number)
    # Numbers printed on sample cards and in advertisements, never issued to a person.
    return digits not in {"078051120", "219099999", "123456789"}


def _phone_valid(number: str) -> bool:
    return 8 <= len(_digits(number)) <= 15


# --- recognizers ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Recognizer:
    kind: str
    pattern: re.Pattern[str]
    check: Callable[[str], bool] | None = None
    shorten: Callable[[str], str] | None = None
    # Lower wins where candidates overlap: custom patterns, then e-mails, then identifiers with
    # a fixed structure, then card numbers (any 13-19 digits passing Luhn), then phone numbers.
    priority: int = 2


_NOT_DIGIT_BEFORE = r"(?<![\w+\-])"
_NOT_DIGIT_AFTER = r"(?![\w\-])"

_BUILTIN: dict[BuiltinKind, _Recognizer] = {
    "EMAIL": _Recognizer(
        "EMAIL",
        re.compile(
            r"(?<![\w.%+\-])[A-Za-z0-9._%+\-]+@"
            r"(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}(?![\w\-])"
        ),
        priority=1,
    ),
    "CREDIT_CARD": _Recognizer(
        "CREDIT_CARD",
        # Issuer prefixes 2-6 (Mastercard 2-series, Amex/Diners/JCB, Visa, Mastercard, Discover).
        re.compile(_NOT_DIGIT_BEFORE + r"[2-6](?:[ \-]?\d){12,18}" + _NOT_DIGIT_AFTER),
        luhn_valid,
        priority=3,
    ),
    "IBAN": _Recognizer(
        "IBAN",
        re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{1,4}){3,8}(?![A-Za-z0-9])"),
        iban_valid,
        _iban_span,
    ),
    "US_SSN": _Recognizer(
        "US_SSN",
        re.compile(
            _NOT_DIGIT_BEFORE
            + r"(?!000|666|9\d\d)\d{3}([\- ])(?!00)\d{2}\1(?!0000)\d{4}"
            + _NOT_DIGIT_AFTER
        ),
        _us_ssn_valid,
    ),
    "UK_NINO": _Recognizer(
        "UK_NINO",
        re.compile(
            r"(?<![A-Za-z0-9])(?!BG|GB|KN|NK|NT|TN|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]"
            r" ?\d{2} ?\d{2} ?\d{2} ?[A-D](?![A-Za-z0-9])"
        ),
    ),
    "DE_TAX_ID": _Recognizer(
        "DE_TAX_ID",
        re.compile(_NOT_DIGIT_BEFORE + r"[1-9]\d ?\d{3} ?\d{3} ?\d{3}" + _NOT_DIGIT_AFTER),
        de_tax_id_valid,
    ),
    "FR_INSEE": _Recognizer(
        "FR_INSEE",
        re.compile(
            _NOT_DIGIT_BEFORE
            + r"[12] ?\d{2} ?(?:0[1-9]|1[0-2]|[2-9]\d) ?(?:\d{2}|2[ABab]) ?\d{3} ?\d{3} ?\d{2}"
            + _NOT_DIGIT_AFTER
        ),
        insee_valid,
    ),
    "PHONE": _Recognizer(
        "PHONE",
        re.compile(
            _NOT_DIGIT_BEFORE
            + r"(?:"
            # International: +44 20 7946 0958, 0049 30 901820, +1 (415) 555-0132
            + r"(?:\+|00)[1-9]\d{0,2}(?:[ .\-]?\(?\d{1,5}\)?){2,6}"
            # North American: (415) 555-0132, 415-555-0132, 415.555.0132
            + r"|(?:\(\d{3}\) ?|\d{3}[.\-])\d{3}[.\- ]\d{4}"
            # National with a trunk 0 and separators: 020 7946 0958, 01 23 45 67 89, 030/901820
            + r"|0\d{1,4}(?:[ ./\-]\d{2,8}){1,4}"
            + r")"
            + _NOT_DIGIT_AFTER
        ),
        _phone_valid,
        priority=4,
    ),
}


def _custom(patterns: Mapping[str, str | re.Pattern[str]]) -> list[_Recognizer]:
    recognizers = []
    for kind, pattern in patterns.items():
        if not _KIND_NAME.match(kind):
            raise InputError(
                f"custom pattern kind {kind!r} must be upper case such as 'CUSTOMER_ID'"
            )
        try:
            compiled = re.compile(pattern) if isinstance(pattern, str) else pattern
        except re.error as error:
            raise InputError(f"custom pattern {kind!r} is not a valid regex: {error}") from None
        if compiled.search("") is not None:
            raise InputError(f"custom pattern {kind!r} matches the empty string")
        recognizers.append(_Recognizer(kind, compiled, priority=0))
    return recognizers


def find_personal_data(
    text: str,
    *,
    patterns: Mapping[str, str | re.Pattern[str]] | None = None,
    kinds: Collection[BuiltinKind] | None = None,
) -> list[Found]:
    """Find personal data in ``text``; arguments as :func:`redact`. Spans do not overlap."""
    chosen = BUILTIN_KINDS if kinds is None else tuple(kinds)
    unknown = sorted(set(chosen) - set(BUILTIN_KINDS))
    if unknown:
        raise InputError(f"unknown kinds {unknown}; built-in kinds are {list(BUILTIN_KINDS)}")
    recognizers = _custom(patterns or {}) + [_BUILTIN[k] for k in chosen]
    candidates: list[tuple[int, int, int, str]] = []
    for recognizer in recognizers:
        for match in recognizer.pattern.finditer(text):
            start, value = match.start(), match.group()
            if recognizer.shorten is not None:
                value = recognizer.shorten(value)
                if text[start + len(value) : start + len(value) + 1].isalnum():
                    continue
            end = start + len(value)
            if end > start and (recognizer.check is None or recognizer.check(value)):
                candidates.append((recognizer.priority, start - end, start, recognizer.kind))
    taken: list[Found] = []
    for _, negative_length, start, kind in sorted(candidates):
        end = start - negative_length
        if all(end <= f.start or start >= f.end for f in taken):
            taken.append(Found(kind, start, end))
    return sorted(taken, key=lambda f: f.start)


def redact(
    text: str,
    *,
    patterns: Mapping[str, str | re.Pattern[str]] | None = None,
    kinds: Collection[BuiltinKind] | None = None,
) -> Redacted:
    """Replace each piece of personal data in ``text`` with ``<KIND>`` (``<EMAIL>``, ...).

    Parameters
    ----------
    text
        Free text, such as a complaint or a reviewer's note.
    patterns
        Extra recognizers: kind (upper case, e.g. ``"CUSTOMER_ID"``) to regular expression.
        They take precedence over the built-in ones where they overlap.
    kinds
        Built-in recognizers to run; all of them (:data:`BUILTIN_KINDS`) by default.

    Returns
    -------
    Redacted
        The redacted text and what was found, with offsets into the original ``text``.
    """
    found = find_personal_data(text, patterns=patterns, kinds=kinds)
    parts: list[str] = []
    cursor = 0
    for item in found:
        parts.append(text[cursor : item.start])
        parts.append(f"<{item.kind}>")
        cursor = item.end
    parts.append(text[cursor:])
    return Redacted("".join(parts), found)
