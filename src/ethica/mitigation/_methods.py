"""The mitigation methods, and where a method that uses a protected attribute is unlawful.

Group thresholds decide with the protected attribute in hand: disparate treatment in regimes
such as US credit (ECOA, Regulation B). ethica names the regime, offers the group-blind methods,
and never applies such a policy on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ethica.errors import InputError

if TYPE_CHECKING:
    from ethica.governance import SystemSpec


@dataclass(frozen=True)
class MitigationMethod:
    """One way to mitigate a disparity, and whether it uses a protected attribute to decide."""

    name: str
    stage: str
    uses_protected_attribute: bool
    description: str


METHODS: dict[str, MitigationMethod] = {
    m.name: m
    for m in (
        MitigationMethod(
            "thresholds",
            "post-processing",
            True,
            "a (randomised) score threshold per group, chosen to meet the criterion",
        ),
        MitigationMethod(
            "reweigh",
            "pre-processing",
            False,
            "training weights that make the outcome independent of the group (Kamiran-Calders)",
        ),
        MitigationMethod(
            "reductions",
            "in-processing",
            False,
            "a model retrained under the criterion as a constraint (fairlearn reductions)",
        ),
    )
}


@dataclass(frozen=True)
class Regime:
    """A legal regime in which deciding with a protected attribute is disparate treatment."""

    name: str
    law: str


#: Jurisdiction and domain (as ``"us-credit"``) -> the regime that forbids group thresholds.
DISPARATE_TREATMENT: dict[str, Regime] = {
    "us-credit": Regime(
        "US credit",
        "the Equal Credit Opportunity Act and Regulation B (12 CFR 1002.4, 1002.6)",
    ),
    "us-employment": Regime(
        "US employment", "Title VII of the Civil Rights Act (42 U.S.C. 2000e-2(l))"
    ),
    "us-housing": Regime("US housing", "the Fair Housing Act (42 U.S.C. 3605)"),
    "eu-insurance": Regime(
        "EU insurance",
        "Directive 2004/113/EC as read in Test-Achats (C-236/09): no sex-based pricing",
    ),
}


#: (jurisdiction, AI Act use-case domain) of a spec -> its key in :data:`DISPARATE_TREATMENT`.
REGIME_OF_USE: dict[tuple[str, str], str] = {
    ("us", "creditworthiness"): "us-credit",
    ("us", "recruitment"): "us-employment",
    ("us", "workforce-management"): "us-employment",
    ("eu", "life-health-insurance"): "eu-insurance",
    ("eu", "other-insurance"): "eu-insurance",
}


def spec_jurisdictions(spec: SystemSpec) -> list[str]:
    """Return the regimes the spec's declared jurisdictions and use put the system under.

    They come from the spec's ``ai_act`` facts: ``jurisdictions`` (``eu``, ``us``) and
    ``domain`` (``creditworthiness``, ...); a spec without them names no regime.
    """
    facts = spec.ai_act
    if facts is None:
        return []
    keys = (REGIME_OF_USE.get((place, facts.domain)) for place in facts.jurisdictions)
    return [key for key in keys if key is not None]


def spec_guard_rail(name: str, spec: SystemSpec) -> str | None:
    """:func:`guard_rail` under every regime the spec's jurisdictions and use name."""
    for jurisdiction in spec_jurisdictions(spec):
        warning = guard_rail(name, jurisdiction)
        if warning is not None:
            return warning
    return None


def method(name: str) -> MitigationMethod:
    """Return the method of this name, or raise an error listing the known ones."""
    if name not in METHODS:
        raise InputError(f"method must be one of {', '.join(METHODS)}; got {name!r}")
    return METHODS[name]


def guard_rail(name: str, jurisdiction: str | None) -> str | None:
    """Say why ``name`` may not be applied under ``jurisdiction`` (``"us-credit"``), or None."""
    chosen = method(name)
    if not chosen.uses_protected_attribute or jurisdiction is None:
        return None
    regime = DISPARATE_TREATMENT.get(jurisdiction.lower())
    if regime is None:
        return None
    blind = ", ".join(m.name for m in METHODS.values() if not m.uses_protected_attribute)
    return (
        f"{chosen.name} decide with the protected attribute: disparate treatment in "
        f"{regime.name} under {regime.law}. Group-blind alternatives: {blind}, or one "
        "threshold re-chosen for everyone."
    )
