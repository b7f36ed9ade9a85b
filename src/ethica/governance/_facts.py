"""The facts a system declares for its AI Act classification (the spec's ``ai_act`` section).

Only what a spec cannot show is declared here: what the system is for, whom it affects, how it
meets people. Everything else (personal data, decision kind, oversight) is read from the spec.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ethica.governance._use_cases import USE_CASES

__all__ = ["AIActFacts", "AnnexIProduct", "ExceptionClaim", "Organisation"]

Role = Literal["provider", "deployer"]
Affected = Literal[
    "customers", "applicants", "workers", "students", "patients", "public", "businesses"
]
Biometrics = Literal[
    "none",
    "verification",
    "remote_identification",
    "categorisation",
    "categorisation_special",
    "emotion_recognition",
]
Jurisdiction = Literal["eu", "us"]
Condition = Literal[
    "narrow_procedural_task",
    "improves_human_activity",
    "detects_patterns",
    "preparatory_task",
]


def _eu_only() -> list[Jurisdiction]:
    return ["eu"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ExceptionClaim(_Model):
    """A provider's claim that an Annex III system is not high-risk (Art. 6(3)), documented.

    Art. 6(4) requires the assessment to be documented before the system is placed on the
    market or put into service; the claim is refused without who assessed it and when.
    """

    condition: Condition = Field(description="Which condition of Art. 6(3)(a)-(d) applies.")
    assessment: Annotated[str, Field(min_length=40)] = Field(
        description="Why the system poses no significant risk of harm (Art. 6(4))."
    )
    assessed_by: Annotated[str, Field(min_length=1)] = Field(
        description="The named person who made the assessment."
    )
    assessed_on: date = Field(description="When the assessment was made.")


class AnnexIProduct(_Model):
    """The product whose safety component the system is (Art. 6(1), Annex I)."""

    legislation: Annotated[str, Field(min_length=1)] = Field(
        description="The Union harmonisation legislation of Annex I (e.g. 'Regulation (EU) "
        "2017/745 on medical devices')."
    )
    third_party_assessment: bool = Field(
        description="The product needs a third-party conformity assessment under it."
    )


class Organisation(_Model):
    """Who the provider (or deployer) is, as registration and documents name it."""

    name: Annotated[str, Field(min_length=1)]
    address: str = ""
    contact: str = ""


class AIActFacts(_Model):
    """Declared facts that, with the spec, classify a system under the AI Act."""

    intended_purpose: Annotated[str, Field(min_length=10)] = Field(
        description="What the system is intended to do, in the provider's words (Art. 3(12))."
    )
    domain: str = Field(description="What it is used for: a key of ethica's use-case registry.")
    affected: Annotated[list[Affected], Field(min_length=1)] = Field(
        description="Who the system's outputs concern."
    )
    roles: Annotated[list[Role], Field(min_length=1)] = Field(
        description="The organisation's roles for this system: provider, deployer or both."
    )
    interacts_with_persons: bool = Field(
        False, description="It interacts directly with natural persons (Art. 50(1))."
    )
    biometrics: Biometrics = Field("none", description="Which biometric processing it does.")
    safety_component: AnnexIProduct | None = Field(
        None, description="It is a safety component of (or is) a product under Annex I."
    )
    gpai_model: bool = Field(False, description="It is a general-purpose AI model (Art. 3(63)).")
    generates_content: bool = Field(
        False, description="It generates synthetic audio, image, video or text (Art. 50(2))."
    )
    deep_fakes: bool = Field(False, description="It makes deep fakes shown to people (Art. 50(4)).")
    manipulative_techniques: bool = Field(
        False,
        description="It uses subliminal, manipulative or deceptive techniques (Art. 5(1)(a)).",
    )
    exploits_vulnerabilities: bool = Field(
        False, description="It exploits vulnerabilities of age, disability or situation (5(1)(b))."
    )
    profiling: bool | None = Field(
        None,
        description="It profiles natural persons (GDPR Art. 4(4)); unset: it does when any "
        "feature is personal data.",
    )
    significant_effects: bool = Field(
        False,
        description="Its decisions have legal or similarly significant effects on persons "
        "(GDPR Art. 22, AI Act Art. 86).",
    )
    public_authority: bool = Field(
        False, description="The deployer is a public body or provides public services (Art. 27)."
    )
    jurisdictions: Annotated[list[Jurisdiction], Field(min_length=1)] = Field(
        default_factory=_eu_only, description="Where it is used: 'eu', 'us' or both."
    )
    consumer_report: bool = Field(
        False, description="Its decisions use a consumer report (FCRA § 615(a))."
    )
    third_party_data: bool = Field(
        False, description="It uses personal data not obtained from the person (GDPR Art. 14)."
    )
    exception: ExceptionClaim | None = Field(
        None, description="An Art. 6(3) claim that the Annex III system is not high-risk."
    )
    organisation: Organisation | None = Field(None, description="The provider or deployer.")
    member_states: list[str] = Field(
        default_factory=list, description="Member States where it is placed on the market or used."
    )
    in_service_since: date | None = Field(
        None, description="When it was put into service; obligations due before that are overdue."
    )

    @field_validator("domain")
    @classmethod
    def _known_domain(cls, value: str) -> str:
        if value not in USE_CASES:
            raise ValueError(f"is not a known domain; use one of: {', '.join(sorted(USE_CASES))}")
        return value
