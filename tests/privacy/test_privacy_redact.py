"""Redaction of personal data from free text: precision on valid vs invalid identifiers.

Check digits are compared with python-stdnum, an independent implementation.
"""

from __future__ import annotations

import random
import socket
from collections.abc import Iterator

import pytest
from stdnum import iban as stdnum_iban
from stdnum import luhn as stdnum_luhn
from stdnum.de import idnr as stdnum_idnr
from stdnum.fr import nir as stdnum_nir
from stdnum.iso7064 import mod_11_10

from ethica.errors import InputError
from ethica.privacy import (
    BUILTIN_KINDS,
    Found,
    de_tax_id_valid,
    iban_valid,
    insee_valid,
    luhn_valid,
    redact,
)


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[object]]:
    """Fail any attempt to reach the network (connect or DNS) during redaction."""
    attempts: list[object] = []

    def refuse(*args: object, **kwargs: object) -> None:
        attempts.append(args)
        raise OSError("network access during redaction")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    yield attempts
    assert attempts == [], "redaction tried to reach the network"


def kinds_found(text: str) -> list[str]:
    return [f.kind for f in redact(text).found]


def one_digit_off(number: str, rng: random.Random) -> str:
    digits = [i for i, c in enumerate(number) if c.isdigit()]
    index = rng.choice(digits[1:])
    replacement = str((int(number[index]) + rng.randint(1, 9)) % 10)
    return number[:index] + replacement + number[index + 1 :]


# --- e-mail and phone --------------------------------------------------------------------------


def test_email_replaced_with_its_span() -> None:
    text = "Write to jane.doe+bank@mail.example.co.uk, thanks."
    result = redact(text)
    assert result.text == "Write to <EMAIL>, thanks."
    assert result.found == [Found("EMAIL", 9, 9 + len("jane.doe+bank@mail.example.co.uk"))]


@pytest.mark.parametrize(
    "text", ["me@localhost", "a @ b.com", "user@example", "version 1.2@beta", "@handle"]
)
def test_email_negatives(text: str) -> None:
    assert "EMAIL" not in kinds_found(text)


@pytest.mark.parametrize(
    "phone",
    [
        "+44 20 7946 0958",
        "+1 (415) 555-0132",
        "(415) 555-0132",
        "415-555-0132",
        "020 7946 0958",
        "01 23 45 67 89",
        "0049 30 901820",
        "+33 6 12 34 56 78",
    ],
)
def test_phone_numbers(phone: str) -> None:
    text = f"Call me on {phone} after six."
    result = redact(text)
    assert result.text == "Call me on <PHONE> after six."
    assert result.found == [Found("PHONE", 11, 11 + len(phone))]


@pytest.mark.parametrize(
    "text",
    [
        "order 12345678 shipped",
        "on 2026-03-01 at 10:30",
        "version 10.2.3 released",
        "amount 1 234 567,89 EUR",
        "zip 75001 Paris",
        "IP 192.168.100.200",
        "ticket #4821",
    ],
)
def test_no_false_positives_on_ordinary_numbers(text: str) -> None:
    assert redact(text).found == []


# --- card numbers (Luhn) ---------------------------------------------------------------------


def random_cards(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    cards = []
    for _ in range(n):
        length = rng.choice([15, 16, 19])
        body = rng.choice("23456") + "".join(rng.choice("0123456789") for _ in range(length - 2))
        cards.append(body + stdnum_luhn.calc_check_digit(body))
    return cards


def test_luhn_agrees_with_stdnum() -> None:
    rng = random.Random(1)
    for card in random_cards(200, seed=1):
        wrong = one_digit_off(card, rng)
        assert luhn_valid(card) == stdnum_luhn.is_valid(card) is True
        assert luhn_valid(wrong) == stdnum_luhn.is_valid(wrong)


@pytest.mark.parametrize("card", ["4111 1111 1111 1111", "5555-5555-5555-4444", "378282246310005"])
def test_valid_cards_are_redacted(card: str) -> None:
    assert redact(f"card {card} expires").text == "card <CREDIT_CARD> expires"


def test_card_precision_on_valid_and_one_digit_off() -> None:
    rng = random.Random(2)
    for card in random_cards(100, seed=2):
        grouped = " ".join(card[i : i + 4] for i in range(0, len(card), 4))
        wrong = one_digit_off(grouped, rng)
        assert kinds_found(f"card: {grouped}.") == ["CREDIT_CARD"]
        assert "CREDIT_CARD" not in kinds_found(f"card: {wrong}.")


# --- IBAN (mod 97) ---------------------------------------------------------------------------


def random_ibans(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    shapes = {"DE": 18, "FR": 23, "GB": 18, "NL": 14, "ES": 20}
    ibans = []
    for _ in range(n):
        country = rng.choice(sorted(shapes))
        if country in ("GB", "NL"):
            bank = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(4))
            bban = bank + "".join(rng.choice("0123456789") for _ in range(shapes[country] - 4))
        else:
            bban = "".join(rng.choice("0123456789") for _ in range(shapes[country]))
        ibans.append(country + stdnum_iban.calc_check_digits(country + "00" + bban) + bban)
    return ibans


def test_iban_agrees_with_stdnum() -> None:
    rng = random.Random(3)
    for number in random_ibans(200, seed=3):
        wrong = one_digit_off(number, rng)
        # stdnum also checks some national account check digits; compare ISO 13616 only.
        assert iban_valid(number) is stdnum_iban.is_valid(number, check_country=False) is True
        assert iban_valid(wrong) is stdnum_iban.is_valid(wrong, check_country=False)


def test_iban_precision_printed_in_groups_and_compact() -> None:
    rng = random.Random(4)
    for number in random_ibans(100, seed=4):
        grouped = " ".join(number[i : i + 4] for i in range(0, len(number), 4))
        wrong = one_digit_off(grouped, rng)
        for form in (number, grouped):
            text = f"Pay to {form} NOW please"
            assert redact(text).found == [Found("IBAN", 7, 7 + len(form))], form
        assert "IBAN" not in kinds_found(f"Pay to {wrong} now")


def test_iban_of_wrong_length_for_its_country_is_left_alone() -> None:
    assert not iban_valid("GB82WEST123456987654")
    assert "IBAN" not in kinds_found("ref GB82 WEST 1234 5698 7654")


# --- national identifiers ---------------------------------------------------------------------


def test_us_ssn() -> None:
    assert redact("SSN 536-22-1234 on file").text == "SSN <US_SSN> on file"
    for invalid in ("000-12-3456", "666-12-3456", "912-12-3456", "536-00-1234", "536-22-0000"):
        assert "US_SSN" not in kinds_found(f"SSN {invalid} on file"), invalid
    assert "US_SSN" not in kinds_found("SSN 078-05-1120 (sample card)")


def test_uk_nino() -> None:
    assert redact("NI number AB 12 34 56 C.").text == "NI number <UK_NINO>."
    assert redact("NI AB123456D").text == "NI <UK_NINO>"
    # QQ is HMRC's example prefix: Q never starts a real number.
    for invalid in ("QQ123456C", "GB123456A", "DQ123456A", "AB123456E", "AO123456A"):
        assert "UK_NINO" not in kinds_found(f"NI {invalid}"), invalid


def random_steuer_ids(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    numbers: list[str] = []
    while len(numbers) < n:
        first_ten = rng.choice("123456789") + "".join(rng.choice("0123456789") for _ in range(9))
        if stdnum_idnr.is_valid(first_ten + mod_11_10.calc_check_digit(first_ten)):
            numbers.append(first_ten + mod_11_10.calc_check_digit(first_ten))
    return numbers


def test_de_tax_id_agrees_with_stdnum() -> None:
    rng = random.Random(5)
    for number in random_steuer_ids(100, seed=5):
        assert de_tax_id_valid(number)
        assert redact(f"Steuer-ID {number}.").text == "Steuer-ID <DE_TAX_ID>."
        wrong = one_digit_off(number, rng)
        assert de_tax_id_valid(wrong) is stdnum_idnr.is_valid(wrong)
    # Random 11-digit strings: our check agrees with stdnum on every one.
    for _ in range(2000):
        number = rng.choice("123456789") + "".join(rng.choice("0123456789") for _ in range(10))
        assert de_tax_id_valid(number) is stdnum_idnr.is_valid(number), number


def random_insee(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    numbers = []
    for _ in range(n):
        department = rng.choice(["75", "13", "2A", "2B", "69"])
        body = (
            rng.choice("12")
            + f"{rng.randint(0, 99):02d}"
            + f"{rng.randint(1, 12):02d}"
            + department
            + f"{rng.randint(1, 999):03d}"
            + f"{rng.randint(1, 999):03d}"
        )
        numbers.append(body + stdnum_nir.calc_check_digits(body))
    return numbers


def test_fr_insee_agrees_with_stdnum() -> None:
    rng = random.Random(6)
    for number in random_insee(100, seed=6):
        assert insee_valid(number) is stdnum_nir.is_valid(number) is True
        spaced = " ".join([number[0], number[1:3], number[3:5], number[5:7], number[7:10],
                           number[10:13], number[13:]])  # fmt: skip
        assert redact(f"NIR {spaced}.").found == [Found("FR_INSEE", 4, 4 + len(spaced))], spaced
        wrong = one_digit_off(number, rng)
        assert insee_valid(wrong) is stdnum_nir.is_valid(wrong)


# --- custom patterns, options, composition ------------------------------------------------------


def test_custom_pattern_redacts_and_wins_overlaps() -> None:
    text = "Customer CUST-004211 called from 020 7946 0958 about CUST-000001."
    result = redact(text, patterns={"CUSTOMER_ID": r"\bCUST-\d{6}\b"})
    assert result.text == "Customer <CUSTOMER_ID> called from <PHONE> about <CUSTOMER_ID>."
    overlap = redact("ref 020 7946 0958", patterns={"REFERENCE": r"ref \d{3}"})
    assert overlap.text == "<REFERENCE> 7946 0958"


def test_custom_pattern_validation() -> None:
    with pytest.raises(InputError, match="upper case"):
        redact("x", patterns={"customer id": r"\d+"})
    with pytest.raises(InputError, match="not a valid regex"):
        redact("x", patterns={"BROKEN": r"(\d"})
    with pytest.raises(InputError, match="empty string"):
        redact("x", patterns={"EMPTY": r"\d*"})


def test_kinds_selects_builtin_recognizers() -> None:
    text = "jane@example.com 4111 1111 1111 1111"
    assert redact(text, kinds=["EMAIL"]).text == "<EMAIL> 4111 1111 1111 1111"
    with pytest.raises(InputError, match="unknown kinds"):
        redact(text, kinds=["PASSPORT"])  # type: ignore[list-item]


def test_offsets_point_into_the_original_text() -> None:
    text = (
        "Mail jane@example.com, IBAN GB82 WEST 1234 5698 7654 32, card 4111111111111111, "
        "SSN 536-22-1234, call +44 20 7946 0958."
    )
    result = redact(text)
    assert [f.kind for f in result.found] == ["EMAIL", "IBAN", "CREDIT_CARD", "US_SSN", "PHONE"]
    originals = [text[f.start : f.end] for f in result.found]
    assert originals == [
        "jane@example.com",
        "GB82 WEST 1234 5698 7654 32",
        "4111111111111111",
        "536-22-1234",
        "+44 20 7946 0958",
    ]
    rebuilt = result.text
    for found, original in zip(result.found, originals, strict=True):
        rebuilt = rebuilt.replace(f"<{found.kind}>", original, 1)
    assert rebuilt == text


def test_text_without_personal_data_is_unchanged() -> None:
    text = "The model declined because income was below the threshold."
    assert redact(text).text == text
    assert redact("").found == []


def test_every_builtin_kind_is_exercised() -> None:
    text = (
        "a@b.org +44 20 7946 0958 4111111111111111 GB82WEST12345698765432 536-22-1234 "
        f"AB123456C {random_steuer_ids(1, seed=7)[0]} {random_insee(1, seed=8)[0]}"
    )
    assert sorted(kinds_found(text)) == sorted(BUILTIN_KINDS)


def test_socket_guard_is_armed(no_network: list[object]) -> None:
    with pytest.raises(OSError, match="network access"):
        socket.create_connection(("example.com", 80))
    no_network.clear()
