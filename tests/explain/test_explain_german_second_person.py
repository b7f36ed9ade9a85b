"""German explanations address the customer as the English ones do ("Ihr Wert", "your ...")."""

from __future__ import annotations

from explain_cases import credit_spec

from ethica.explain import TEMPLATES
from ethica.explain._text import (
    recommendation_text,
    recommended_reason_text,
    routed_reason_text,
    routing_text,
)


def test_every_german_sentence_about_a_value_names_it_as_the_customers() -> None:
    about_a_value = {key: text for key, text in TEMPLATES["de"].items() if "Wert für" in text}
    assert {"higher", "lower", "other", "change", "routed_reason", "because_value"} <= set(
        about_a_value
    )
    for key, text in about_a_value.items():
        assert text.startswith("Ihr Wert für „{description}“"), (key, text)


def test_routing_and_recommendation_sentences_in_german_say_your_value() -> None:
    spec = credit_spec()
    income, years = spec.feature("income"), spec.feature("years_employed")
    assert routing_text(
        [(income, 1234.5), (years, 3)], chosen="Stufe 2", runner_up="Stufe 1", locale="de"
    ) == (
        "Zugeordnet zu „Stufe 2“ statt „Stufe 1“, vor allem weil Ihr Wert für "
        "„monthly income (hundreds)“ 1.234,5 ist und Ihr Wert für „years in employment“ 3 ist."
    )
    assert routed_reason_text(
        income, 1234.5, chosen="Stufe 2", runner_up="Stufe 1", locale="de"
    ) == (
        "Ihr Wert für „monthly income (hundreds)“ ist 1.234,5; "
        "das sprach für „Stufe 2“ statt „Stufe 1“."
    )
    assert recommendation_text([(income, 1234.5)], locale="de") == (
        "Empfohlen, weil Ihr Wert für „monthly income (hundreds)“ 1.234,5 ist."
    )
    assert recommended_reason_text(years, 3, locale="de") == (
        "Ihr Wert für „years in employment“ ist 3; das hat die Empfehlung gestärkt."
    )
    # The English sentences say the same in the second person.
    assert recommended_reason_text(years, 3, locale="en") == (
        "Your years in employment: 3. This counted toward the recommendation."
    )
