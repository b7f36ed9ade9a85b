"""Reason codes rank adverse features, never protected ones or proxies; sentences carry values."""

from __future__ import annotations

import string

import numpy as np
import pytest
from explain_cases import credit_frame, credit_spec, customer, lightgbm_booster, spec_data

from ethica.errors import InputError
from ethica.explain import (
    TEMPLATES,
    attribute,
    feature_ranges,
    format_value,
    reason_codes,
    reason_text,
    reference_values,
)
from ethica.governance import parse_spec
from ethica.scoring import Scorer


def test_reasons_are_the_adverse_contributions_strongest_first_without_proxies() -> None:
    spec = credit_spec()
    contributions = {
        "income": -0.4,
        "debt": -0.9,
        "years_employed": 0.3,  # pushed toward approval: not a reason
        "postcode_risk": -2.0,  # the strongest, but a declared proxy for ethnicity
        "housing": -0.1,
    }
    reasons = reason_codes(contributions, spec=spec)
    assert [r.feature for r in reasons] == ["debt", "income", "housing"]
    assert [r.contribution for r in reasons] == pytest.approx([0.9, 0.4, 0.1])
    assert [r.feature for r in reason_codes(contributions, spec=spec, max_reasons=2)] == [
        "debt",
        "income",
    ]
    with pytest.raises(InputError):
        reason_codes(contributions, spec=spec, max_reasons=0)


def test_one_hot_columns_count_as_one_reason_and_protected_attributes_never_do() -> None:
    spec = credit_spec()
    columns = {
        "onehot__housing_rent": -0.5,
        "onehot__housing_own": -0.3,  # together -0.8: housing outranks income
        "scale__income": -0.6,
        "ethnicity_b": -5.0,  # a protected attribute that leaked into a model
    }
    reasons = reason_codes(columns, spec=spec)
    assert [r.feature for r in reasons] == ["housing", "income"]
    assert reasons[0].contribution == pytest.approx(0.8)


def test_when_the_positive_outcome_is_adverse_the_signs_flip() -> None:
    spec = parse_spec(spec_data(adverse="positive"))
    reasons = reason_codes({"income": -0.4, "debt": 0.7, "postcode_risk": 3.0}, spec=spec)
    assert [(r.feature, r.contribution) for r in reasons] == [("debt", 0.7)]


def test_reasons_of_a_real_model_exclude_the_proxy_it_leans_on() -> None:
    spec = credit_spec()
    attribution = attribute(Scorer(lightgbm_booster(), spec, version="1"), customer())
    assert attribution.contributions["postcode_risk"] < 0  # the model does use the proxy
    reasons = reason_codes(attribution, spec=spec, max_reasons=10)
    assert "postcode_risk" not in {r.feature for r in reasons}
    adverse = sorted(
        (n for n, v in attribution.contributions.items() if v < 0 and n != "postcode_risk"),
        key=lambda n: attribution.contributions[n],
    )
    assert [r.feature for r in reasons] == adverse


def test_reference_values_are_the_medians_and_modes_of_approved_customers() -> None:
    frame = credit_frame()
    spec = credit_spec()
    reference = reference_values(frame, frame["repaid"].to_numpy(), spec=spec)
    approved = frame[frame["repaid"] == 1]
    assert reference["income"] == pytest.approx(float(np.median(approved["income"])))
    assert reference["years_employed"] == round(float(np.median(approved["years_employed"])))
    assert reference["housing"] == approved["housing"].astype(str).value_counts().idxmax()
    assert reference_values(frame, "repaid", spec=spec) == reference
    with pytest.raises(InputError, match="favourable"):
        reference_values(frame, "repaid", favourable=7)
    ranges = feature_ranges(frame, spec=spec)
    assert ranges["debt"] == (frame["debt"].min(), frame["debt"].max())
    assert "housing" not in ranges


def test_sentences_name_the_customers_value_the_direction_and_a_typical_value() -> None:
    spec = credit_spec()
    income = spec.feature("income")
    text = reason_text(income, 1234.5, spec=spec, reference=4000.0)
    assert text == (
        "Your monthly income (hundreds): 1,234.5. Customers with a higher value were more often "
        "approved. Typical of customers who were approved: 4,000."
    )
    debt = reason_text(spec.feature("debt"), 65.0, spec=spec)
    assert debt.startswith("Your outstanding debt (hundreds): 65.") and "lower value" in debt
    assert "Typical" not in debt
    housing = reason_text(spec.feature("housing"), "rent", spec=spec, reference="own")
    assert housing == (
        "Your housing: rent. This weighed against you. Typical of customers who were approved: own."
    )
    german = reason_text(income, 1234.5, spec=spec, reference=4000.0, locale="de")
    assert "1.234,5" in german and "höheren" in german and "4.000" in german
    own = reason_text(
        income, 12.0, spec=spec, override="Income {value} below {reference}.", reference=30
    )
    assert own == "Income 12 below 30."
    with pytest.raises(InputError, match="fields"):
        reason_text(income, 12.0, spec=spec, override="{salary}")
    with pytest.raises(InputError, match="locale"):
        reason_text(income, 12.0, spec=spec, locale="xx")


def test_every_locale_has_every_sentence_with_the_same_fields() -> None:
    def fields(text: str) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name}

    english = TEMPLATES["en"]
    for locale, sentences in TEMPLATES.items():
        assert sentences.keys() == english.keys(), locale
        for key, text in sentences.items():
            assert fields(text) == fields(english[key]), (locale, key)


def test_values_are_written_for_people() -> None:
    spec = credit_spec()
    assert format_value(3, spec.feature("years_employed")) == "3"
    assert format_value(0.12345, spec.feature("postcode_risk")) == "0.12"
    assert format_value(None, spec.feature("income")) == "not given"
    assert format_value(float("nan"), spec.feature("income"), locale="de") == "nicht angegeben"
    assert format_value("own", spec.feature("housing")) == "own"
