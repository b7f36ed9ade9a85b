"""The facts of a classification's grounds, said in words (the JSON keeps ``name = value``)."""

from __future__ import annotations

import pytest

from ethica.demo import bank_specs
from ethica.governance import classify, fact_words
from ethica.governance._classification import fact


@pytest.mark.parametrize(
    ("written", "said"),
    [
        (fact("domain", "creditworthiness"),
         "Used for creditworthiness or credit score of natural persons"),
        (fact("affected", ["customers", "workers"]), "Its outputs concern customers and workers"),
        (fact("roles", ["deployer"]), "The organisation is its deployer"),
        (fact("interacts_with_persons", True), "It interacts directly with people"),
        (fact("interacts_with_persons", False), "It does not interact directly with people"),
        (fact("profiling", False), "It does not profile people"),
        (fact("biometrics", "emotion_recognition"), "It does emotion recognition"),
        (fact("exception.condition", "preparatory_task"),
         "Claimed: it performs a preparatory task to an assessment of an Annex III use"),
        (fact("safety_component.third_party_assessment", True),
         "The product needs a third-party conformity assessment"),
        (fact("made_up_flag", "x"), "Made up flag: x"),
    ],
)  # fmt: skip
def test_a_fact_reads_as_words(written: str, said: str) -> None:
    assert fact_words(written) == said


def test_no_ground_of_the_demo_bank_reads_as_a_field_name() -> None:
    for spec in bank_specs().values():
        for ground in classify(spec).grounds:
            for written in ground.facts:
                assert " = " in written  # the ground keeps the exact fact
                said = fact_words(written)
                assert " = " not in said and "_" not in said, (written, said)
