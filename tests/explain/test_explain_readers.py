"""Sentences read aloud: the customer is spoken to, a reviewer reads about the customer.

Every sentence the demo's three systems generate is checked for what a reader stumbles on:
a category value run into "is" ("Your housing situation is own"), a verb that disagrees with a
plural description, "toward declined", a raw id, a ratio as 0.239.
"""

from __future__ import annotations

import re

from ethica.demo import bank_specs
from ethica.explain import REVIEWER_TEMPLATES, TEMPLATES, retold
from ethica.explain._text import (
    counterfactual_text,
    reason_text,
    recommendation_text,
    recommended_reason_text,
    routed_reason_text,
    routing_text,
)

SPECS = bank_specs()
CREDIT = SPECS["credit-limit"]
ROUTING = SPECS["support-routing"]
PRODUCTS = SPECS["product-recommendations"]


def _plain(text: str) -> str:
    """The sentence with its no-break spaces (between an amount and its unit) as spaces."""
    return text.replace("\u00a0", " ")


def _stumbles(text: str) -> list[str]:
    """What a reader would stumble on in a generated sentence."""
    found = []
    if re.search(r"\b\w+_\w+\b", text):
        found.append("an id with an underscore")
    if re.search(r"\b0\.\d+\b", text):
        found.append("a ratio written as a fraction")
    if re.search(r"toward (declined|approved)\b", text):
        found.append("'toward' before a participle")
    if re.search(r"\bpayments [^.;]* is\b", text):
        found.append("a plural description with 'is'")
    if " is own" in text or " is rent" in text:
        found.append("a category run into 'is'")
    if "  " in text or " ." in text or ".." in text:
        found.append("spacing or punctuation")
    return found


def test_a_category_reads_by_its_label_after_a_colon() -> None:
    housing = CREDIT.feature("housing")
    text = reason_text(housing, "own", spec=CREDIT)
    assert text == "Your housing situation: owner. This weighed against you."
    savings = reason_text(CREDIT.feature("savings"), "1k-10k", spec=CREDIT, reference="over 10k")
    assert savings == (
        "Your savings: 1,000 to 10,000 EUR. This weighed against you. "
        "Typical of customers who were approved: over 10,000 EUR."
    )


def test_every_credit_sentence_reads_cleanly_for_the_customer_and_the_reviewer() -> None:
    values = {
        "income": (39200.0, 50000.0),
        "debt_to_income": (0.239, 0.273),
        "months_since_opened": (41, 139),
        "existing_credits": (2, 1),
        "late_payments_2y": (3, 0),
        "employment": ("self-employed", "employed"),
        "housing": ("with family", "own"),
        "savings": ("none", "over 10k"),
    }
    for reader in ("customer", "reviewer"):
        for name, (value, typical) in values.items():
            text = reason_text(
                CREDIT.feature(name), value, spec=CREDIT, reference=typical, reader=reader
            )
            assert _stumbles(text) == [], text
            assert text.startswith("Your " if reader == "customer" else "The customer's "), text
        option = counterfactual_text(
            {"debt_to_income": (0.239, 0.2), "income": (39200.0, 50000.0)},
            spec=CREDIT,
            reader=reader,
        )
        assert _stumbles(option) == [], option
    debt = reason_text(CREDIT.feature("debt_to_income"), 0.239, spec=CREDIT, reference=0.2)
    assert debt == (
        "Your monthly debt payments as a share of income: 23.9%. Customers with a lower value "
        "were more often approved. Typical of customers who were approved: 20%."
    )
    told = counterfactual_text({"income": (39200.0, 50000.0)}, spec=CREDIT, reader="reviewer")
    assert _plain(told) == (
        "The customer would have been approved if their yearly income were 50,000 EUR "
        "instead of 39,200 EUR."
    )


def test_routing_and_recommendation_sentences_read_cleanly() -> None:
    channel, balance = ROUTING.feature("channel"), ROUTING.feature("balance")
    routed = routing_text(
        [(channel, "email"), (balance, 5180.0)],
        chosen="standard support",
        runner_up="priority support",
    )
    assert _plain(routed) == (
        "Routed to standard support rather than priority support, mainly because of your way of "
        "getting in touch (email) and your account balance (5,180 EUR)."
    )
    one = routed_reason_text(
        ROUTING.feature("products_held"), 1, chosen="standard support", runner_up="priority support"
    )
    assert one == (
        "Your number of products held with us: 1. This weighed toward standard support rather "
        "than priority support."
    )
    logins = PRODUCTS.feature("app_logins_month")
    assert recommended_reason_text(logins, 11, reader="reviewer") == (
        "The customer's number of logins to the banking app last month: 11. This counted toward "
        "the recommendation."
    )
    listed = recommendation_text([(PRODUCTS.feature("housing"), "rent"), (logins, 11)])
    assert listed == (
        "Recommended mainly because of your housing situation (tenant) and your number of "
        "logins to the banking app last month (11)."
    )
    for text in (routed, one, listed):
        assert _stumbles(text) == [], text


def test_no_reviewer_sentence_speaks_to_the_customer() -> None:
    for locale, sentences in REVIEWER_TEMPLATES.items():
        assert sentences, locale
        for key, text in sentences.items():
            assert key in TEMPLATES[locale], (locale, key)
            lowered = f" {text.lower()} "
            assert " your " not in lowered and " you " not in lowered, (locale, key)
            assert "Ihr " not in text and " Sie " not in text, (locale, key)


def test_a_stored_explanation_is_retold_to_a_reviewer_in_the_third_person() -> None:
    stored = {
        "locale": "en",
        "reasons": [
            {"feature": "housing", "value": "rent", "contribution": 0.4, "text": "Your …"},
            {"feature": "income", "value": 12000.0, "contribution": 0.2, "text": "Your …"},
            {"feature": "gone_feature", "value": 1, "contribution": 0.1, "text": "kept"},
        ],
        "counterfactuals": [
            {"changes": {"income": {"from": 12000.0, "to": 30000.0}}, "text": "You would …"}
        ],
        "counterfactual_text": None,
        "contributions": {"housing": 0.4, "income": 0.2},
    }
    told = retold(stored, spec=CREDIT)
    assert [_plain(r["text"]) for r in told["reasons"]] == [
        "The customer's housing situation: tenant. This weighed toward the outcome “declined”.",
        "The customer's yearly income: 12,000 EUR. Customers with a higher value were more "
        "often approved.",
        "kept",
    ]
    assert _plain(told["counterfactuals"][0]["text"]) == (
        "The customer would have been approved if their yearly income were 30,000 EUR instead "
        "of 12,000 EUR."
    )
    assert told["contributions"] == stored["contributions"]
    assert stored["reasons"][0]["text"] == "Your …"  # the stored explanation is untouched
    routed = retold(
        {
            "locale": "en",
            "chosen": "standard",
            "runner_up": "priority",
            "reasons": [{"feature": "open_tickets", "value": 0, "contribution": 1.0}],
        },
        spec=ROUTING,
    )
    assert routed["reasons"][0]["text"] == (
        "The customer's number of tickets still open: 0. This weighed toward standard support "
        "rather than priority support."
    )
