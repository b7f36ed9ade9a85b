"""The obligations a system's tier and roles bring, and the evidence that can meet each.

One record per obligation (:data:`OBLIGATIONS`): the provisions, who bears it, when it applies,
which kinds of evidence meet it (all of them, each current), and whether it falls due before
the system is put into service. An obligation with no evidence kind is met by attestation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from ethica.governance._classification import Classification
from ethica.governance._law import AI_ACT, ECOA, FCRA, GDPR, Citation, cite
from ethica.governance._spec import SystemSpec

__all__ = ["OBLIGATIONS", "Obligation", "applicable_obligations"]

Applies = Callable[[Classification], bool]
Check = Callable[[SystemSpec], str | None]


@dataclass(frozen=True)
class Obligation:
    """One obligation of one instrument.

    Attributes
    ----------
    key : str
        Stable key (``"ai-act-12"``), named by attestations and ledger entries.
    citations : tuple of Citation
        The provisions it comes from.
    title : str
        A short name (``"Record-keeping"``).
    duty : str
        What it requires, in one sentence.
    roles : frozenset of str
        The roles that bear it.
    applies : callable
        Whether it applies to a classification (beyond the roles).
    evidence : tuple of str
        Keys of :data:`~ethica.governance.EVIDENCE_KINDS` that together meet it.
    due : str
        ``"before_service"`` (overdue once the system is in service without it) or
        ``"ongoing"``.
    check : callable, optional
        A condition on the spec itself; returns why it fails, or ``None``.
    """

    key: str
    citations: tuple[Citation, ...]
    title: str
    duty: str
    roles: frozenset[str]
    applies: Applies
    evidence: tuple[str, ...] = ()
    due: Literal["before_service", "ongoing"] = "ongoing"
    check: Check | None = None


_PROVIDER = frozenset({"provider"})
_DEPLOYER = frozenset({"deployer"})
_BOTH = frozenset({"provider", "deployer"})


def _high(c: Classification) -> bool:
    return c.high_risk


def _eu_personal(c: Classification) -> bool:
    return "eu" in c.facts.jurisdictions and bool(c.personal_features)


def _duty(paragraph: str) -> Applies:
    return lambda c: any(d.paragraph == paragraph for d in c.transparency)


def _fria(c: Classification) -> bool:
    return c.high_risk and (
        c.facts.public_authority or any(p.point in ("5(b)", "5(c)") for p in c.annex_iii)
    )


def _registration(c: Classification) -> bool:
    return (c.high_risk and bool(c.annex_iii)) or c.exception is not None


def _explanation_right(c: Classification) -> bool:
    listed = [p for p in c.annex_iii if p.point != "2"]
    return c.high_risk and bool(listed) and c.facts.significant_effects


def _retention(spec: SystemSpec) -> str | None:
    months = spec.retention_months
    if months is None or months < 6:
        kept = "no retention period" if months is None else f"{months} months"
        return (
            f"the spec declares {kept} for decision records; logs are kept at least six months "
            "(set retention_months: 6 or more)"
        )
    return None


def _dpia(c: Classification) -> bool:
    return _eu_personal(c) and (c.high_risk or (c.profiling and c.facts.significant_effects))


def _us_credit(c: Classification) -> bool:
    return "us" in c.facts.jurisdictions and c.facts.domain == "creditworthiness"


OBLIGATIONS: tuple[Obligation, ...] = (
    Obligation(
        "ai-act-9", cite(AI_ACT, "Art. 9"), "Risk management system",
        "Establish, document and maintain a risk management system over the whole lifecycle.",
        _PROVIDER, _high, due="before_service",
    ),
    Obligation(
        "ai-act-10", cite(AI_ACT, "Art. 10"), "Data and data governance",
        "Examine training, validation and test data for possible biases and their detection, "
        "prevention and mitigation.",
        _PROVIDER, _high, ("training-data-audit",), due="before_service",
    ),
    Obligation(
        "ai-act-11", cite(AI_ACT, "Art. 11", "Annex IV"), "Technical documentation",
        "Draw up the technical documentation of Annex IV and keep it up to date.",
        _PROVIDER, _high, ("document:annex-iv",), due="before_service",
    ),
    Obligation(
        "ai-act-12", cite(AI_ACT, "Art. 12"), "Record-keeping",
        "Record events automatically over the system's lifetime, so that its functioning can "
        "be traced.",
        _PROVIDER, _high, ("ledger-verification",),
    ),
    Obligation(
        "ai-act-13", cite(AI_ACT, "Art. 13"), "Information to deployers",
        "Give deployers instructions for use: purpose, accuracy, known risks, oversight.",
        _PROVIDER, _high, ("document:model-card",), due="before_service",
    ),
    Obligation(
        "ai-act-14", cite(AI_ACT, "Art. 14", "Art. 26(2)"), "Human oversight",
        "Design the system so people can oversee it, and assign competent people to do so.",
        _BOTH, _high, ("oversight",),
    ),
    Obligation(
        "ai-act-15", cite(AI_ACT, "Art. 15"), "Accuracy, robustness and cybersecurity",
        "Reach and declare an appropriate level of accuracy, consistently over the lifecycle.",
        _PROVIDER, _high, ("decisions-audit",),
    ),
    Obligation(
        "ai-act-17", cite(AI_ACT, "Art. 17"), "Quality management system",
        "Put a documented quality management system in place.",
        _PROVIDER, _high, due="before_service",
    ),
    Obligation(
        "ai-act-19", cite(AI_ACT, "Art. 19", "Art. 26(6)"), "Keeping the logs",
        "Keep the automatically generated logs for at least six months.",
        _BOTH, _high, ("ledger-verification",), check=_retention,
    ),
    Obligation(
        "ai-act-26", cite(AI_ACT, "Art. 26"), "Obligations of deployers",
        "Use the system as instructed, under assigned human oversight, monitor it and keep "
        "its logs.",
        _DEPLOYER, _high, ("oversight", "ledger-verification"),
    ),
    Obligation(
        "ai-act-27", cite(AI_ACT, "Art. 27"), "Fundamental-rights impact assessment",
        "Assess the impact on fundamental rights before first use, and notify the authority.",
        _DEPLOYER, _fria, ("document:fria",), due="before_service",
    ),
    Obligation(
        "ai-act-6-4", cite(AI_ACT, "Art. 6(4)"), "Documented non-high-risk assessment",
        "Document the assessment that the Annex III system is not high-risk before use.",
        _PROVIDER, lambda c: c.exception is not None, due="before_service",
    ),
    Obligation(
        "ai-act-49", cite(AI_ACT, "Art. 49", "Annex VIII"), "Registration",
        "Register the system in the EU database before placing it on the market or in service.",
        _PROVIDER, _registration, due="before_service",
    ),
    Obligation(
        "ai-act-49-3", cite(AI_ACT, "Art. 49(3)"), "Registration of use by a public body",
        "As a public deployer, register the use in the EU database before using the system.",
        _DEPLOYER, lambda c: c.high_risk and c.facts.public_authority, due="before_service",
    ),
    Obligation(
        "ai-act-50-1", cite(AI_ACT, "Art. 50(1)"), "Telling people they deal with an AI",
        "Inform the people the system interacts with that it is an AI system.",
        _PROVIDER, _duty("1"), ("disclosure",),
    ),
    Obligation(
        "ai-act-50-2", cite(AI_ACT, "Art. 50(2)"), "Marking generated content",
        "Mark synthetic output as artificially generated, machine-readably.",
        _PROVIDER, _duty("2"),
    ),
    Obligation(
        "ai-act-50-3", cite(AI_ACT, "Art. 50(3)"), "Informing people exposed to biometrics",
        "Inform the people exposed to emotion recognition or biometric categorisation.",
        _DEPLOYER, _duty("3"),
    ),
    Obligation(
        "ai-act-50-4", cite(AI_ACT, "Art. 50(4)"), "Disclosing deep fakes",
        "Disclose that deep fake content is artificially generated or manipulated.",
        _DEPLOYER, _duty("4"),
    ),
    Obligation(
        "ai-act-53", cite(AI_ACT, "Art. 53"), "General-purpose AI model",
        "Document the model, inform downstream providers, respect copyright, publish a "
        "training-content summary.",
        _PROVIDER, lambda c: c.facts.gpai_model, due="before_service",
    ),
    Obligation(
        "ai-act-72", cite(AI_ACT, "Art. 72"), "Post-market monitoring",
        "Collect and analyse data on the system's performance throughout its lifetime.",
        _PROVIDER, _high, ("monitoring-audit",),
    ),
    Obligation(
        "ai-act-73", cite(AI_ACT, "Art. 73"), "Reporting serious incidents",
        "Report each serious incident to the market surveillance authority within 2, 10 or 15 "
        "days.",
        _PROVIDER, _high, ("incidents",),
    ),
    Obligation(
        "ai-act-86", cite(AI_ACT, "Art. 86"), "Right to explanation",
        "Give affected persons clear and meaningful explanations of the AI system's role in a "
        "decision about them.",
        _DEPLOYER, _explanation_right, ("explanations",),
    ),
    Obligation(
        "gdpr-13", cite(GDPR, "Art. 13", "Art. 13(2)(f)"), "Information to data subjects",
        "Tell people what data is used and why, and the logic of automated decisions.",
        _DEPLOYER, _eu_personal, ("notice",), due="before_service",
    ),
    Obligation(
        "gdpr-14", cite(GDPR, "Art. 14"), "Information on data from other sources",
        "Tell people about personal data not obtained from them, and its source.",
        _DEPLOYER, lambda c: _eu_personal(c) and c.facts.third_party_data, ("notice",),
        due="before_service",
    ),
    Obligation(
        "gdpr-15", cite(GDPR, "Art. 15", "Art. 15(1)(h)"), "Right of access",
        "Give people their data and meaningful information about automated decisions.",
        _DEPLOYER, _eu_personal, ("path-test:access",),
    ),
    Obligation(
        "gdpr-17", cite(GDPR, "Art. 17"), "Right to erasure",
        "Erase a person's data on request when the grounds of Art. 17 apply.",
        _DEPLOYER, _eu_personal, ("path-test:erasure",),
    ),
    Obligation(
        "gdpr-21", cite(GDPR, "Art. 21"), "Right to object",
        "Stop profiling a person who objects, unless compelling grounds override.",
        _DEPLOYER, lambda c: _eu_personal(c) and c.profiling, ("path-test:objection",),
    ),
    Obligation(
        "gdpr-22", cite(GDPR, "Art. 22", "Art. 22(3)"), "Automated individual decisions",
        "Let people obtain human intervention, express their view and contest the decision.",
        _DEPLOYER, lambda c: _eu_personal(c) and c.facts.significant_effects,
        ("path-test:human-review",),
    ),
    Obligation(
        "gdpr-35", cite(GDPR, "Art. 35"), "Data protection impact assessment",
        "Assess the impact of the processing on data protection before it starts.",
        _DEPLOYER,
        _dpia,
        due="before_service",
    ),
    Obligation(
        "reg-b-1002-9", cite(ECOA, "§ 1002.9"), "Adverse action notices",
        "Notify applicants of adverse action within 30 days, with its principal reasons.",
        _DEPLOYER, _us_credit, ("explanations",),
    ),
    Obligation(
        "fcra-615a", cite(FCRA, "§ 615(a)"), "Adverse action based on a consumer report",
        "Tell the person of the adverse action, the credit score used, the agency, and their "
        "rights to a free report and to dispute it.",
        _DEPLOYER, lambda c: "us" in c.facts.jurisdictions and c.facts.consumer_report,
        ("explanations",),
    ),
)  # fmt: skip
"""Every obligation ethica tracks, in the order registers list them."""


def applicable_obligations(classification: Classification) -> tuple[Obligation, ...]:
    """Return the obligations that apply to a classification and the roles it has."""
    if classification.tier.key == "unacceptable":
        return ()
    roles = set(classification.roles)
    return tuple(o for o in OBLIGATIONS if o.roles & roles and o.applies(classification))
