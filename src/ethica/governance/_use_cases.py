"""What an AI system is used for, as the AI Act sorts it: Annex III points and Art. 5 practices.

A system declares its ``domain`` (a key of :data:`USE_CASES`); the domain names the Annex III
point or the prohibited practice it falls under, if any. Points that follow from other facts
(biometrics) are found by the classifier from those facts.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ANNEX_III",
    "PROHIBITED",
    "USE_CASES",
    "AnnexIIIPoint",
    "ProhibitedPractice",
    "UseCase",
]


@dataclass(frozen=True)
class AnnexIIIPoint:
    """One point of Annex III: an area and a use that make a system high-risk (Art. 6(2)).

    Attributes
    ----------
    point : str
        As Annex III numbers it: ``"5(b)"``.
    area : str
        The area of the point's heading (``"Access to essential services"``).
    use : str
        What a system under this point is intended to do, in the Annex's words, shortened.
    natural_persons : bool
        The point concerns natural persons only (5(b), 5(c)): a system that assesses only
        businesses is not under it.
    """

    point: str
    area: str
    use: str
    natural_persons: bool = False

    @property
    def provision(self) -> str:
        """The provision as a citation writes it."""
        return f"Annex III point {self.point}"


_BIOMETRICS = "Biometrics"
_INFRASTRUCTURE = "Critical infrastructure"
_EDUCATION = "Education and vocational training"
_EMPLOYMENT = "Employment, workers' management and access to self-employment"
_SERVICES = "Access to and enjoyment of essential private services and essential public services"
_LAW = "Law enforcement"
_MIGRATION = "Migration, asylum and border control management"
_JUSTICE = "Administration of justice and democratic processes"

ANNEX_III: dict[str, AnnexIIIPoint] = {
    p.point: p
    for p in (
        AnnexIIIPoint("1(a)", _BIOMETRICS, "remote biometric identification of natural persons"),
        AnnexIIIPoint(
            "1(b)",
            _BIOMETRICS,
            "biometric categorisation according to sensitive or protected attributes",
        ),
        AnnexIIIPoint("1(c)", _BIOMETRICS, "emotion recognition"),
        AnnexIIIPoint(
            "2",
            _INFRASTRUCTURE,
            "safety component in the management and operation of critical digital "
            "infrastructure, road traffic, or the supply of water, gas, heating or electricity",
        ),
        AnnexIIIPoint("3(a)", _EDUCATION, "determining access or admission to education"),
        AnnexIIIPoint("3(b)", _EDUCATION, "evaluating learning outcomes"),
        AnnexIIIPoint("3(c)", _EDUCATION, "assessing the appropriate level of education"),
        AnnexIIIPoint("3(d)", _EDUCATION, "monitoring prohibited behaviour of students in tests"),
        AnnexIIIPoint(
            "4(a)",
            _EMPLOYMENT,
            "recruitment or selection: targeted job ads, filtering applications, evaluating "
            "candidates",
        ),
        AnnexIIIPoint(
            "4(b)",
            _EMPLOYMENT,
            "decisions on work-related relationships: promotion, termination, task allocation "
            "from behaviour or traits, monitoring and evaluating performance",
        ),
        AnnexIIIPoint(
            "5(a)",
            _SERVICES,
            "evaluating eligibility for essential public assistance benefits and services, or "
            "granting, reducing, revoking or reclaiming them (by or for public authorities)",
        ),
        AnnexIIIPoint(
            "5(b)",
            _SERVICES,
            "evaluating the creditworthiness of natural persons or establishing their credit "
            "score (except to detect financial fraud)",
            natural_persons=True,
        ),
        AnnexIIIPoint(
            "5(c)",
            _SERVICES,
            "risk assessment and pricing in relation to natural persons for life and health "
            "insurance",
            natural_persons=True,
        ),
        AnnexIIIPoint(
            "5(d)",
            _SERVICES,
            "evaluating and classifying emergency calls, dispatching or prioritising emergency "
            "first response, emergency healthcare patient triage",
        ),
        AnnexIIIPoint("6", _LAW, "uses by or on behalf of law enforcement authorities"),
        AnnexIIIPoint("7", _MIGRATION, "uses by or on behalf of migration or border authorities"),
        AnnexIIIPoint(
            "8(a)", _JUSTICE, "assisting a judicial authority in researching and applying the law"
        ),
        AnnexIIIPoint(
            "8(b)", _JUSTICE, "influencing the outcome of an election or referendum or voting"
        ),
    )
}
"""Every point of Annex III, by its number."""


@dataclass(frozen=True)
class ProhibitedPractice:
    """A practice Art. 5(1) prohibits."""

    point: str
    practice: str

    @property
    def provision(self) -> str:
        """The provision as a citation writes it."""
        return f"Art. 5(1)({self.point})"


PROHIBITED: dict[str, ProhibitedPractice] = {
    p.point: p
    for p in (
        ProhibitedPractice(
            "a",
            "subliminal, purposefully manipulative or deceptive techniques that materially "
            "distort behaviour and cause significant harm",
        ),
        ProhibitedPractice(
            "b",
            "exploiting the vulnerabilities of persons due to age, disability or a specific "
            "social or economic situation, materially distorting behaviour with significant harm",
        ),
        ProhibitedPractice(
            "c",
            "social scoring: evaluating or classifying persons by social behaviour or personal "
            "characteristics, leading to detrimental treatment in unrelated contexts or out of "
            "proportion",
        ),
        ProhibitedPractice(
            "d",
            "assessing the risk that a person commits a criminal offence based solely on "
            "profiling or personality traits",
        ),
        ProhibitedPractice(
            "e",
            "facial recognition databases built by untargeted scraping of facial images",
        ),
        ProhibitedPractice(
            "f", "inferring the emotions of persons in the workplace or in education institutions"
        ),
        ProhibitedPractice(
            "g",
            "biometric categorisation that deduces race, political opinions, trade union "
            "membership, religious or philosophical beliefs, sex life or sexual orientation",
        ),
        ProhibitedPractice(
            "h",
            "real-time remote biometric identification in publicly accessible spaces for law "
            "enforcement (outside the narrow exceptions of Art. 5(1)(h) and 5(2)-(7))",
        ),
    )
}
"""Every practice of Art. 5(1), by its letter."""


@dataclass(frozen=True)
class UseCase:
    """A domain a system declares: what it is used for, and where the AI Act places that."""

    key: str
    label: str
    annex_iii: AnnexIIIPoint | None = None
    prohibited: ProhibitedPractice | None = None
    note: str = ""


USE_CASES: dict[str, UseCase] = {
    u.key: u
    for u in (
        UseCase(
            "creditworthiness",
            "creditworthiness or credit score of natural persons",
            ANNEX_III["5(b)"],
        ),
        UseCase(
            "fraud-detection",
            "detecting financial fraud",
            note="Annex III point 5(b) excepts systems used to detect financial fraud",
        ),
        UseCase(
            "life-health-insurance",
            "risk assessment and pricing of life or health insurance",
            ANNEX_III["5(c)"],
        ),
        UseCase(
            "other-insurance",
            "pricing or claims of insurance other than life and health",
            note="Annex III point 5(c) names life and health insurance only",
        ),
        UseCase("emergency-triage", "emergency calls, dispatch and triage", ANNEX_III["5(d)"]),
        UseCase("public-benefits", "eligibility for public assistance benefits", ANNEX_III["5(a)"]),
        UseCase("recruitment", "recruitment and selection of candidates", ANNEX_III["4(a)"]),
        UseCase(
            "workforce-management",
            "promotion, termination, task allocation or performance of workers",
            ANNEX_III["4(b)"],
        ),
        UseCase("education-admission", "admission to education", ANNEX_III["3(a)"]),
        UseCase("education-assessment", "evaluating learning outcomes", ANNEX_III["3(b)"]),
        UseCase("education-level", "assessing the level of education", ANNEX_III["3(c)"]),
        UseCase("exam-proctoring", "monitoring students during tests", ANNEX_III["3(d)"]),
        UseCase("critical-infrastructure", "critical infrastructure operation", ANNEX_III["2"]),
        UseCase("law-enforcement", "law enforcement", ANNEX_III["6"]),
        UseCase("migration", "migration, asylum and border control", ANNEX_III["7"]),
        UseCase("justice", "administration of justice", ANNEX_III["8(a)"]),
        UseCase("elections", "influencing elections or voting", ANNEX_III["8(b)"]),
        UseCase("customer-support", "customer support and ticket routing"),
        UseCase("recommendation", "recommending products or content"),
        UseCase("marketing", "marketing and customer communication"),
        UseCase("pricing", "pricing of goods or services (not life or health insurance)"),
        UseCase("general", "another use not listed in Annex III"),
        UseCase("social-scoring", "social scoring", prohibited=PROHIBITED["c"]),
        UseCase("crime-prediction", "predicting criminal offences", prohibited=PROHIBITED["d"]),
        UseCase("facial-scraping", "scraping facial images", prohibited=PROHIBITED["e"]),
    )
}
"""Every domain a system can declare, by key."""
