"""Classify an AI system under the AI Act from its spec and declared facts, citing why.

The rules run in the Act's own order: a prohibited practice (Art. 5); high-risk as a safety
component of an Annex I product (Art. 6(1)) or by an Annex III point (Art. 6(2)) unless a
documented Art. 6(3) exception holds; transparency duties (Art. 50); otherwise minimal. Each
step that applies adds a :class:`Ground` naming its provisions and the facts it rests on.
"""

from __future__ import annotations

from ethica.errors import InputError
from ethica.governance._classification import (
    CONDITIONS,
    TIERS,
    TRANSPARENCY_DUTIES,
    Classification,
    Ground,
    Tier,
    fact,
    spec_digest,
)
from ethica.governance._facts import AIActFacts, ExceptionClaim
from ethica.governance._law import AI_ACT, cite
from ethica.governance._spec import SystemSpec
from ethica.governance._use_cases import (
    ANNEX_III,
    PROHIBITED,
    USE_CASES,
    AnnexIIIPoint,
    ProhibitedPractice,
)

__all__ = ["classify"]


def classify(spec: SystemSpec, facts: AIActFacts | None = None) -> Classification:
    """Classify ``spec`` under the AI Act.

    Parameters
    ----------
    spec : SystemSpec
        The system; its ``ai_act`` section holds the declared facts.
    facts : AIActFacts, optional
        Facts to classify instead of the spec's ``ai_act`` section.

    Raises
    ------
    InputError
        When no facts are declared.
    """
    facts = facts if facts is not None else spec.ai_act
    if facts is None:
        raise InputError(
            f"system {spec.id!r} declares no AI Act facts: add an 'ai_act:' section to its "
            "spec with intended_purpose, domain, affected and roles (as in "
            "examples/bank/credit-limit.yaml)"
        )
    personal = tuple(f.name for f in spec.features if f.data_category.startswith("user."))
    profiling = facts.profiling if facts.profiling is not None else bool(personal)
    profiling_fact = (
        fact("profiling", facts.profiling)
        if facts.profiling is not None
        else f"spec: features {', '.join(personal) or 'none'} are personal data (user.*)"
    )
    grounds: list[Ground] = []
    prohibited = _prohibited(facts, grounds)
    annex_i = _annex_i(facts, grounds)
    points = _annex_iii(facts, grounds)
    exception = _exception(facts, points, profiling, profiling_fact, grounds) if points else None
    duties = tuple(d for d in TRANSPARENCY_DUTIES if d.applies(facts) is not None)
    for duty in duties:
        rests_on = duty.applies(facts) or ()
        grounds.append(
            Ground(cite(AI_ACT, duty.provision), f"The {duty.role} must {duty.duty}.", rests_on)
        )
    if facts.gpai_model:
        grounds.append(
            Ground(
                cite(AI_ACT, "Art. 51", "Art. 53"),
                "As a general-purpose AI model, its provider has the obligations of Chapter V.",
                (fact("gpai_model", True),),
            )
        )
    if prohibited:
        tier = TIERS["unacceptable"]
    elif annex_i or (points and exception is None):
        tier = TIERS["high"]
    elif duties:
        tier = TIERS["limited"]
    else:
        tier = TIERS["minimal"]
        grounds.append(
            Ground(
                cite(AI_ACT, "Art. 95"),
                "No prohibited practice, Annex I product, Annex III point or Art. 50 duty "
                "applies; voluntary codes of conduct may still be followed.",
                (fact("domain", facts.domain), fact("interacts_with_persons", False)),
            )
        )
    grounds.sort(key=lambda g: _order(g, tier))
    grounds.append(_roles_ground(facts))
    return Classification(
        system=spec.id,
        tier=tier,
        grounds=tuple(grounds),
        roles=tuple(dict.fromkeys(facts.roles)),
        prohibited=prohibited,
        annex_iii=points,
        annex_i=annex_i,
        exception=exception,
        transparency=duties,
        facts=facts,
        profiling=profiling,
        personal_features=personal,
        declared_tier=spec.risk_tier,
        spec_digest=spec_digest(spec, facts),
    )


def _order(ground: Ground, tier: Tier) -> int:
    # The ground that decides the tier comes first, so a summary cites it.
    provisions = " ".join(c.provision for c in ground.citations)
    leading = {
        "unacceptable": "Art. 5",
        "high": "Art. 6",
        "limited": "Art. 50",
        "minimal": "Art. 95",
    }[tier.key]
    return 0 if provisions.startswith(leading) else 1


def _prohibited(facts: AIActFacts, grounds: list[Ground]) -> tuple[ProhibitedPractice, ...]:
    found: list[tuple[ProhibitedPractice, tuple[str, ...]]] = []
    use_case = USE_CASES[facts.domain]
    if use_case.prohibited is not None:
        found.append((use_case.prohibited, (fact("domain", facts.domain),)))
    if facts.manipulative_techniques:
        found.append((PROHIBITED["a"], (fact("manipulative_techniques", True),)))
    if facts.exploits_vulnerabilities:
        found.append((PROHIBITED["b"], (fact("exploits_vulnerabilities", True),)))
    at_work = sorted(set(facts.affected) & {"workers", "students"})
    if facts.biometrics == "emotion_recognition" and at_work:
        found.append(
            (PROHIBITED["f"], (fact("biometrics", facts.biometrics), fact("affected", at_work)))
        )
    if facts.biometrics == "categorisation_special":
        found.append((PROHIBITED["g"], (fact("biometrics", facts.biometrics),)))
    if facts.biometrics == "remote_identification" and facts.domain == "law-enforcement":
        found.append(
            (
                PROHIBITED["h"],
                (fact("biometrics", facts.biometrics), fact("domain", facts.domain)),
            )
        )
    for practice, rests_on in found:
        grounds.append(
            Ground(
                cite(AI_ACT, practice.provision),
                f"Prohibited practice: {practice.practice}. It may not be placed on the market, "
                "put into service or used in the Union.",
                rests_on,
            )
        )
    return tuple(practice for practice, _ in found)


def _annex_i(facts: AIActFacts, grounds: list[Ground]) -> bool:
    product = facts.safety_component
    if product is None:
        return False
    rests_on = (
        fact("safety_component.legislation", product.legislation),
        fact("safety_component.third_party_assessment", product.third_party_assessment),
    )
    if not product.third_party_assessment:
        grounds.append(
            Ground(
                cite(AI_ACT, "Art. 6(1)"),
                "A safety component of an Annex I product is high-risk only when the product "
                "needs a third-party conformity assessment; this one does not.",
                rests_on,
            )
        )
        return False
    grounds.append(
        Ground(
            cite(AI_ACT, "Art. 6(1)", "Annex I"),
            f"High-risk: a safety component of a product under {product.legislation} that "
            "needs a third-party conformity assessment.",
            rests_on,
        )
    )
    return True


def _annex_iii(facts: AIActFacts, grounds: list[Ground]) -> tuple[AnnexIIIPoint, ...]:
    found: list[tuple[AnnexIIIPoint, tuple[str, ...]]] = []
    use_case = USE_CASES[facts.domain]
    point = use_case.annex_iii
    if point is not None:
        persons = [a for a in facts.affected if a != "businesses"]
        if point.natural_persons and not persons:
            grounds.append(
                Ground(
                    cite(AI_ACT, point.provision),
                    f"Annex III point {point.point} concerns natural persons; the system's "
                    "outputs concern businesses only.",
                    (fact("domain", facts.domain), fact("affected", facts.affected)),
                )
            )
        else:
            found.append((point, (fact("domain", facts.domain), fact("affected", persons))))
    elif use_case.note:
        grounds.append(
            Ground(cite(AI_ACT, "Annex III"), use_case.note + ".", (fact("domain", facts.domain),))
        )
    biometric = {
        "remote_identification": "1(a)",
        "categorisation": "1(b)",
        "emotion_recognition": "1(c)",
    }.get(facts.biometrics)
    at_work = set(facts.affected) & {"workers", "students"}
    if biometric and not (biometric == "1(c)" and at_work):
        found.append((ANNEX_III[biometric], (fact("biometrics", facts.biometrics),)))
    for point, rests_on in found:
        grounds.append(
            Ground(
                cite(AI_ACT, "Art. 6(2)", point.provision),
                f"High-risk: {point.use} ({point.area}).",
                rests_on,
            )
        )
    return tuple(point for point, _ in found)


def _exception(
    facts: AIActFacts,
    points: tuple[AnnexIIIPoint, ...],
    profiling: bool,
    profiling_fact: str,
    grounds: list[Ground],
) -> ExceptionClaim | None:
    claim = facts.exception
    if claim is None:
        return None
    letter, does = CONDITIONS[claim.condition]
    claimed = fact("exception.condition", claim.condition)
    if profiling:
        grounds.append(
            Ground(
                cite(AI_ACT, "Art. 6(3)"),
                f"The claimed exception of Art. 6(3)({letter}) cannot apply: an Annex III system "
                "that profiles natural persons is always high-risk (Art. 6(3), last subparagraph).",
                (claimed, profiling_fact),
            )
        )
        return None
    grounds.append(
        Ground(
            cite(AI_ACT, f"Art. 6(3)({letter})", "Art. 6(4)", "Art. 49(2)"),
            f"Not high-risk despite Annex III point {', '.join(p.point for p in points)}: it "
            f"{does}, as {claim.assessed_by} documented on {claim.assessed_on.isoformat()}. "
            "The provider keeps the assessment for the authorities and registers the system "
            "(Annex VIII Section B).",
            (claimed, fact("exception.assessed_by", claim.assessed_by), profiling_fact),
        )
    )
    return claim


def _roles_ground(facts: AIActFacts) -> Ground:
    roles = tuple(dict.fromkeys(facts.roles))
    provisions = tuple({"provider": "Art. 3(3)", "deployer": "Art. 3(4)"}[r] for r in roles)
    words = " and ".join(roles)
    return Ground(
        cite(AI_ACT, *provisions),
        f"The organisation is its {words}; the obligations follow each role.",
        (fact("roles", list(roles)),),
    )
