"""AI Act classification: each Annex III point of customer engagement, each Art. 6(3) exception,
prohibited practices, Art. 50 duties, and re-classification when a spec changes."""

from __future__ import annotations

from typing import Any

import pytest
from governance_cases import bank, spec_with

from ethica.errors import InputError
from ethica.governance import (
    SpecError,
    applicable_obligations,
    classification_change,
    classify,
    parse_spec,
)


def provisions(classification: Any) -> list[str]:
    return [str(c) for c in classification.citations]


def test_the_demo_banks_three_systems_are_classified_as_the_issue_expects() -> None:
    credit = classify(bank("credit-limit"))
    assert credit.tier.key == "high"
    assert [p.point for p in credit.annex_iii] == ["5(b)"]
    assert credit.summary() == "credit-limit is high-risk (AI Act Art. 6(2), Annex III point 5(b))."
    assert credit.grounds[0].facts == ("domain = creditworthiness", "affected = customers")
    assert credit.mismatch is None

    routing = classify(bank("support-routing"))
    assert routing.tier.key == "limited"
    assert [d.provision for d in routing.transparency] == ["Art. 50(1)"]
    assert routing.grounds[0].facts == ("interacts_with_persons = true",)
    assert "told they are interacting with an AI system" in routing.grounds[0].statement

    recommendations = classify(bank("product-recommendations"))
    assert recommendations.tier.key == "minimal"
    assert provisions(recommendations)[0] == "AI Act Art. 95"
    assert recommendations.transparency == ()


# Each Annex III point that meets customers, employees-to-be or the public in a service.
ANNEX_III_CASES = [
    ("1(a)", {"domain": "general", "biometrics": "remote_identification"}, "biometrics"),
    ("1(b)", {"domain": "general", "biometrics": "categorisation"}, "biometrics"),
    ("1(c)", {"domain": "customer-support", "biometrics": "emotion_recognition"}, "biometrics"),
    ("3(a)", {"domain": "education-admission", "affected": ["students"]}, "domain"),
    ("3(b)", {"domain": "education-assessment", "affected": ["students"]}, "domain"),
    ("3(c)", {"domain": "education-level", "affected": ["students"]}, "domain"),
    ("3(d)", {"domain": "exam-proctoring", "affected": ["students"]}, "domain"),
    ("4(a)", {"domain": "recruitment", "affected": ["applicants"]}, "domain"),
    ("4(b)", {"domain": "workforce-management", "affected": ["workers"]}, "domain"),
    ("5(a)", {"domain": "public-benefits", "public_authority": True}, "domain"),
    ("5(b)", {"domain": "creditworthiness"}, "domain"),
    ("5(c)", {"domain": "life-health-insurance"}, "domain"),
    ("5(d)", {"domain": "emergency-triage", "affected": ["public"]}, "domain"),
]


@pytest.mark.parametrize(
    ("point", "facts", "rests_on"), ANNEX_III_CASES, ids=[c[0] for c in ANNEX_III_CASES]
)
def test_each_annex_iii_point_makes_a_system_high_risk_and_cites_it(
    point: str, facts: dict[str, Any], rests_on: str
) -> None:
    classification = classify(spec_with(**facts))
    assert classification.tier.key == "high"
    assert point in [p.point for p in classification.annex_iii]
    ground = next(
        g for g in classification.grounds if f"Annex III point {point}" in str(g.citations)
    )
    assert [str(c) for c in ground.citations] == [
        "AI Act Art. 6(2)",
        f"AI Act Annex III point {point}",
    ]
    assert any(f.startswith(rests_on) for f in ground.facts)
    assert classification.summary().startswith(f"{classification.system} is high-risk")


def test_points_for_natural_persons_do_not_reach_systems_about_businesses_only() -> None:
    business = classify(spec_with(domain="creditworthiness", affected=["businesses"]))
    assert business.tier.key == "minimal"
    assert business.annex_iii == ()
    assert any("concerns natural persons" in g.statement for g in business.grounds)


@pytest.mark.parametrize(
    ("domain", "words"),
    [
        ("fraud-detection", "detect financial fraud"),
        ("other-insurance", "life and health insurance only"),
    ],
)
def test_the_annex_iii_carve_outs_are_not_high_risk_and_say_why(domain: str, words: str) -> None:
    classification = classify(spec_with(domain=domain))
    assert classification.tier.key == "minimal"
    assert any(words in g.statement for g in classification.grounds)


def exception(condition: str, **overrides: Any) -> dict[str, Any]:
    return {
        "condition": condition,
        "assessment": "The model only reorders a queue that a person then works through in full; "
        "no outcome depends on it.",
        "assessed_by": "Dana Ortiz",
        "assessed_on": "2026-01-15",
        **overrides,
    }


@pytest.mark.parametrize(
    ("condition", "letter"),
    [
        ("narrow_procedural_task", "a"),
        ("improves_human_activity", "b"),
        ("detects_patterns", "c"),
        ("preparatory_task", "d"),
    ],
)
def test_each_art_6_3_exception_lifts_an_annex_iii_system_with_a_documented_assessment(
    condition: str, letter: str
) -> None:
    spec = spec_with(domain="creditworthiness", profiling=False, exception=exception(condition))
    classification = classify(spec)
    assert classification.tier.key == "minimal"
    assert [p.point for p in classification.annex_iii] == ["5(b)"]  # still listed, and lifted
    assert classification.exception is not None
    ground = next(g for g in classification.grounds if "Art. 6(3)" in str(g.citations))
    assert [str(c) for c in ground.citations] == [
        f"AI Act Art. 6(3)({letter})",
        "AI Act Art. 6(4)",
        "AI Act Art. 49(2)",
    ]
    assert "Dana Ortiz" in ground.statement and "2026-01-15" in ground.statement
    assert f"exception.condition = {condition}" in ground.facts
    keys = [o.key for o in applicable_obligations(classification)]
    assert "ai-act-6-4" in keys and "ai-act-49" in keys
    assert "ai-act-14" not in keys


def test_an_exception_for_a_system_that_profiles_people_is_refused() -> None:
    spec = spec_with(domain="creditworthiness", exception=exception("preparatory_task"))
    classification = classify(spec)  # profiling is read from the spec: its features are personal
    assert classification.tier.key == "high"
    assert classification.exception is None
    refusal = next(g for g in classification.grounds if g.citations[0].provision == "Art. 6(3)")
    assert "always high-risk" in refusal.statement
    assert any("are personal data" in f for f in refusal.facts)


def test_an_exception_without_its_documented_assessment_is_refused_by_the_spec() -> None:
    with pytest.raises(SpecError) as caught:
        spec_with(
            domain="creditworthiness",
            exception=exception("narrow_procedural_task", assessment="trust us", assessed_by=""),
        )
    text = str(caught.value)
    assert "ai_act.exception.assessment" in text and "ai_act.exception.assessed_by" in text


PROHIBITED_CASES = [
    ("a", {"domain": "marketing", "manipulative_techniques": True}),
    ("b", {"domain": "marketing", "exploits_vulnerabilities": True}),
    ("c", {"domain": "social-scoring"}),
    ("d", {"domain": "crime-prediction"}),
    ("e", {"domain": "facial-scraping"}),
    (
        "f",
        {
            "domain": "workforce-management",
            "affected": ["workers"],
            "biometrics": "emotion_recognition",
        },
    ),
    ("g", {"domain": "general", "biometrics": "categorisation_special"}),
    ("h", {"domain": "law-enforcement", "biometrics": "remote_identification"}),
]


@pytest.mark.parametrize(
    ("letter", "facts"), PROHIBITED_CASES, ids=[c[0] for c in PROHIBITED_CASES]
)
def test_each_prohibited_practice_is_unacceptable_with_no_obligations_to_meet(
    letter: str, facts: dict[str, Any]
) -> None:
    classification = classify(spec_with(**facts))
    assert classification.tier.key == "unacceptable"
    assert provisions(classification)[0] == f"AI Act Art. 5(1)({letter})"
    assert "may not be placed on the market" in classification.grounds[0].statement
    assert applicable_obligations(classification) == ()


def test_emotion_recognition_of_customers_is_high_risk_but_of_workers_prohibited() -> None:
    customers = classify(spec_with(domain="customer-support", biometrics="emotion_recognition"))
    assert customers.tier.key == "high" and [p.point for p in customers.annex_iii] == ["1(c)"]
    assert [d.provision for d in customers.transparency] == ["Art. 50(3)"]
    workers = classify(
        spec_with(domain="customer-support", biometrics="emotion_recognition", affected=["workers"])
    )
    assert workers.tier.key == "unacceptable" and workers.annex_iii == ()


def test_annex_i_safety_components_are_high_risk_only_with_third_party_assessment() -> None:
    product = {"legislation": "Regulation (EU) 2017/745 on medical devices"}
    assessed = classify(
        spec_with(domain="general", safety_component={**product, "third_party_assessment": True})
    )
    assert assessed.tier.key == "high" and assessed.annex_i
    assert provisions(assessed)[:2] == ["AI Act Art. 6(1)", "AI Act Annex I"]
    self_assessed = classify(
        spec_with(domain="general", safety_component={**product, "third_party_assessment": False})
    )
    assert self_assessed.tier.key == "minimal" and not self_assessed.annex_i


@pytest.mark.parametrize(
    ("facts", "paragraph", "role"),
    [
        ({"interacts_with_persons": True}, "1", "provider"),
        ({"generates_content": True}, "2", "provider"),
        ({"deep_fakes": True}, "4", "deployer"),
    ],
)
def test_art_50_duties_make_a_system_limited_risk_and_name_who_bears_them(
    facts: dict[str, Any], paragraph: str, role: str
) -> None:
    classification = classify(spec_with(domain="marketing", **facts))
    assert classification.tier.key == "limited"
    (duty,) = classification.transparency
    assert (duty.paragraph, duty.role) == (paragraph, role)
    assert classification.grounds[0].statement.startswith(f"The {role} must")
    keys = [o.key for o in applicable_obligations(classification)]
    assert f"ai-act-50-{paragraph}" in keys


def test_a_deployer_only_does_not_bear_the_providers_art_50_1_duty() -> None:
    classification = classify(
        spec_with(domain="marketing", interacts_with_persons=True, roles=["deployer"])
    )
    assert "ai-act-50-1" not in [o.key for o in applicable_obligations(classification)]
    assert classification.grounds[-1].facts == ("roles = deployer",)


def test_a_gpai_model_brings_chapter_v_obligations() -> None:
    classification = classify(spec_with(domain="general", gpai_model=True))
    assert "AI Act Art. 53" in provisions(classification)
    assert "ai-act-53" in [o.key for o in applicable_obligations(classification)]


def test_a_declared_tier_that_disagrees_says_how_to_fix_the_spec() -> None:
    data = bank("support-routing").model_dump(mode="json")
    data["ai_act"]["domain"] = "creditworthiness"
    classification = classify(parse_spec(data))
    assert classification.mismatch == (
        "The spec declares risk_tier 'limited', but the facts make the system high-risk "
        "('high'): set risk_tier: high in its spec."
    )


def test_a_spec_without_facts_or_with_an_unknown_domain_is_refused_clearly() -> None:
    data = bank("credit-limit").model_dump(mode="json")
    data.pop("ai_act")
    with pytest.raises(InputError, match="declares no AI Act facts: add an 'ai_act:' section"):
        classify(parse_spec(data))
    data["ai_act"] = {
        "intended_purpose": "Scores customers.",
        "domain": "credit",
        "affected": ["customers"],
        "roles": ["deployer"],
    }
    with pytest.raises(
        SpecError, match=r"ai_act\.domain: is not a known domain; use one of: .*creditworthiness"
    ):
        parse_spec(data)


def test_a_spec_change_reclassifies_and_says_what_changed() -> None:
    before = classify(bank("support-routing"))
    first = classification_change(None, before)
    assert first is not None and first.previous_tier == "unclassified" and first.tier == "limited"
    assert classification_change(before, classify(bank("support-routing"))) is None

    data = bank("support-routing").model_dump(mode="json")
    data["ai_act"]["domain"] = "creditworthiness"
    data["risk_tier"] = "high"
    after = classify(parse_spec(data))
    change = classification_change(before, after)
    assert change is not None
    assert (change.previous_tier, change.tier) == ("limited", "high")
    assert change.previous_digest == before.spec_digest != change.digest
    assert any(s.startswith("High-risk: evaluating the creditworthiness") for s in change.added)
    assert change.removed == ()  # it still interacts with customers: Art. 50(1) stays
    assert change.summary() == "support-routing is now high (was limited) after its spec changed."
    assert change.to_dict()["summary"] == change.summary()


def test_a_change_of_anything_in_the_spec_changes_its_digest() -> None:
    spec = bank("credit-limit")
    data = spec.model_dump(mode="json")
    data["retention_months"] = 24
    changed = classify(parse_spec(data))
    assert changed.spec_digest != classify(spec).spec_digest
    assert changed.tier == classify(spec).tier
    change = classification_change(classify(spec), changed)
    assert (
        change is not None and change.summary() == "credit-limit stays high after its spec changed."
    )


def test_facts_given_apart_from_the_spec_are_classified_in_its_place() -> None:
    spec = bank("product-recommendations")
    facts = spec_with(domain="life-health-insurance").ai_act
    assert facts is not None
    classification = classify(spec, facts)
    assert classification.tier.key == "high" and classification.annex_iii[0].point == "5(c)"
    assert classification.spec_digest != classify(spec).spec_digest
