"""Numbers as people read them: ratios as percentages, units after amounts, second person."""

from __future__ import annotations

import hashlib
from pathlib import Path

from ethica.explain._text import format_value, reason_text, routed_reason_text
from ethica.governance import FeatureSpec, load_spec, spec_digest
from ethica.governance._classification import ADDED_LATER
from ethica.ledger._canonical import canonical_json

RATIO = FeatureSpec(
    name="debt_to_income",
    type="number",
    data_category="user.financial",
    description="monthly debt payments as a share of income",
    direction="decreasing",
    unit="percent",
)
INCOME = FeatureSpec(
    name="income", type="number", data_category="user.financial", description="yearly income",
    unit="EUR",
)  # fmt: skip
CHANNEL = FeatureSpec(
    name="channel",
    type="category",
    categories=["app", "email"],
    data_category="user.behavior",
    description="way of getting in touch",
)


def test_a_ratio_reads_as_a_percentage_and_an_amount_with_its_unit() -> None:
    assert format_value(0.71, RATIO) == "71%"
    assert format_value(0.7125, RATIO) == "71.2%"
    assert format_value(0.71, RATIO, locale="de") == "71%"
    assert format_value(56200.0, INCOME) == "56,200\u00a0EUR"
    assert format_value(56200.5, INCOME, locale="de") == "56.200,5\u00a0EUR"


def test_sentences_speak_to_the_customer_with_readable_values() -> None:
    from ethica.demo import bank_specs

    credit = bank_specs()["credit-limit"]
    text = reason_text(RATIO, 0.71, spec=credit, reference=0.2)
    assert text.startswith("Your monthly debt payments as a share of income: 71%.")
    assert "0.71" not in text and "20%" in text
    routed = routed_reason_text(CHANNEL, "email", chosen="standard", runner_up="priority")
    assert routed.startswith("Your way of getting in touch: email.")


def test_the_demo_specs_use_units_and_read_after_your() -> None:
    from ethica.demo import bank_specs

    for spec in bank_specs().values():
        for feature in spec.features:
            assert "customer" not in feature.description, (spec.id, feature.name)
            assert "_" not in feature.description, (spec.id, feature.name)
    credit = bank_specs()["credit-limit"]
    assert credit.feature("debt_to_income").unit == "percent"
    assert credit.feature("income").unit == "EUR"


def test_a_spec_without_units_keeps_the_digest_it_had_before_units_existed() -> None:
    spec = load_spec(Path(__file__).parents[2] / "examples" / "bank" / "support-routing.yaml")
    without = spec.model_copy(
        update={"features": [f.model_copy(update={"unit": ""}) for f in spec.features]}
    )
    data = without.model_dump(mode="json")
    for feature in data["features"]:
        for name in ADDED_LATER:
            feature.pop(name)
    assert spec_digest(without) == hashlib.sha256(canonical_json(data)).hexdigest()
    assert spec_digest(spec) != spec_digest(without)  # the balance's unit counts once set
