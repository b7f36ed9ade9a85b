"""What a classification is: tiers, grounds, Art. 50 duties, the result and its changes."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ethica.errors import InputError
from ethica.governance._facts import AIActFacts, ExceptionClaim
from ethica.governance._law import Citation, cite_text
from ethica.governance._spec import SystemSpec
from ethica.governance._use_cases import AnnexIIIPoint, ProhibitedPractice
from ethica.ledger import canonical_json

__all__ = [
    "CONDITIONS",
    "TIERS",
    "TRANSPARENCY_DUTIES",
    "Classification",
    "ClassificationChange",
    "Ground",
    "Tier",
    "TransparencyDuty",
    "classification_change",
    "fact",
    "spec_digest",
]


@dataclass(frozen=True)
class Tier:
    """A risk tier: what the Act makes of a system, from most to least regulated."""

    key: str
    label: str
    phrase: str
    rank: int


TIERS = {
    t.key: t
    for t in (
        Tier("unacceptable", "prohibited", "a prohibited practice", 0),
        Tier("high", "high-risk", "high-risk", 1),
        Tier("limited", "limited risk", "limited-risk, with transparency obligations", 2),
        Tier("minimal", "minimal risk", "minimal-risk", 3),
    )
}
"""The tiers by key; the keys are those a spec's ``risk_tier`` declares."""


@dataclass(frozen=True)
class Ground:
    """One reason of a classification: the provisions, a sentence, and the facts it rests on."""

    citations: tuple[Citation, ...]
    statement: str
    facts: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """Return the ground as JSON data."""
        return {
            "citations": [str(c) for c in self.citations],
            "statement": self.statement,
            "facts": list(self.facts),
        }


@dataclass(frozen=True)
class TransparencyDuty:
    """A duty of Art. 50: who bears it and when it applies."""

    paragraph: str
    role: str
    duty: str
    applies: Callable[[AIActFacts], tuple[str, ...] | None]

    @property
    def provision(self) -> str:
        """The provision as a citation writes it."""
        return f"Art. 50({self.paragraph})"


def fact(name: str, value: object) -> str:
    """Write one fact as a ground cites it: ``domain = creditworthiness``."""
    if isinstance(value, bool):
        value = str(value).lower()
    elif isinstance(value, list):
        value = ", ".join(str(v) for v in value)
    return f"{name} = {value}"


def _when(flag: bool, *facts: str) -> tuple[str, ...] | None:
    return facts if flag else None


TRANSPARENCY_DUTIES = (
    TransparencyDuty(
        "1",
        "provider",
        "design the system so that the persons it interacts with are told they are "
        "interacting with an AI system, unless that is obvious",
        lambda f: _when(f.interacts_with_persons, fact("interacts_with_persons", True)),
    ),
    TransparencyDuty(
        "2",
        "provider",
        "mark synthetic audio, image, video or text output as artificially generated, in a "
        "machine-readable format",
        lambda f: _when(f.generates_content, fact("generates_content", True)),
    ),
    TransparencyDuty(
        "3",
        "deployer",
        "inform the persons exposed to emotion recognition or biometric categorisation",
        lambda f: _when(
            f.biometrics in ("emotion_recognition", "categorisation"),
            fact("biometrics", f.biometrics),
        ),
    ),
    TransparencyDuty(
        "4",
        "deployer",
        "disclose that deep fake content has been artificially generated or manipulated",
        lambda f: _when(f.deep_fakes, fact("deep_fakes", True)),
    ),
)
"""The duties of Art. 50, in paragraph order."""

CONDITIONS = {
    "narrow_procedural_task": ("a", "performs a narrow procedural task"),
    "improves_human_activity": (
        "b",
        "improves the result of a previously completed human activity",
    ),
    "detects_patterns": (
        "c",
        "detects decision-making patterns or deviations from prior patterns, without replacing "
        "or influencing the completed human assessment without proper human review",
    ),
    "preparatory_task": ("d", "performs a preparatory task to an assessment of an Annex III use"),
}
"""The conditions of Art. 6(3), by the key a claim names: (letter, what the system does)."""


@dataclass(frozen=True)
class Classification:
    """Where the AI Act places one system, and why.

    Attributes
    ----------
    system : str
        The system's id.
    tier : Tier
        The computed tier.
    grounds : tuple of Ground
        Every reason, each citing its provisions and the facts it rests on.
    roles : tuple of str
        ``"provider"``, ``"deployer"`` or both.
    prohibited : tuple of ProhibitedPractice
        The Art. 5(1) practices that apply.
    annex_iii : tuple of AnnexIIIPoint
        The Annex III points the system falls under (also when an exception lifts them).
    annex_i : bool
        It is a safety component of a product under Annex I needing third-party assessment.
    exception : ExceptionClaim or None
        The Art. 6(3) exception that was accepted; ``None`` when none was claimed or it failed.
    transparency : tuple of TransparencyDuty
        The Art. 50 duties that apply, whatever the tier.
    facts : AIActFacts
        The declared facts classified.
    profiling : bool
        Whether the system profiles natural persons (declared, or read from the spec).
    personal_features : tuple of str
        The features whose data category is personal data (``user.*``).
    declared_tier : str
        The ``risk_tier`` the spec declares; see :attr:`mismatch`.
    spec_digest : str
        SHA-256 of the spec and facts classified: a changed spec has another digest.
    """

    system: str
    tier: Tier
    grounds: tuple[Ground, ...]
    roles: tuple[str, ...]
    prohibited: tuple[ProhibitedPractice, ...]
    annex_iii: tuple[AnnexIIIPoint, ...]
    annex_i: bool
    exception: ExceptionClaim | None
    transparency: tuple[TransparencyDuty, ...]
    facts: AIActFacts
    profiling: bool
    personal_features: tuple[str, ...]
    declared_tier: str
    spec_digest: str

    @property
    def high_risk(self) -> bool:
        """Whether the system is high-risk."""
        return self.tier.key == "high"

    @property
    def citations(self) -> tuple[Citation, ...]:
        """Every provision the grounds cite, once each, in order."""
        return tuple(dict.fromkeys(c for g in self.grounds for c in g.citations))

    @property
    def mismatch(self) -> str | None:
        """A sentence when the spec's declared ``risk_tier`` differs from the computed tier."""
        if self.declared_tier == self.tier.key:
            return None
        return (
            f"The spec declares risk_tier {self.declared_tier!r}, but the facts make the system "
            f"{self.tier.phrase} ({self.tier.key!r}): set risk_tier: {self.tier.key} in its spec."
        )

    def summary(self) -> str:
        """One sentence: the tier and its first provisions."""
        return f"{self.system} is {self.tier.phrase} ({cite_text(self.grounds[0].citations)})."

    def to_dict(self) -> dict[str, Any]:
        """Return the classification as JSON data (the form a ledger entry records)."""
        return {
            "system": self.system,
            "tier": self.tier.key,
            "tier_label": self.tier.label,
            "roles": list(self.roles),
            "prohibited": [p.provision for p in self.prohibited],
            "annex_iii": [p.point for p in self.annex_iii],
            "annex_i": self.annex_i,
            "exception": None if self.exception is None else self.exception.condition,
            "transparency": [d.provision for d in self.transparency],
            "grounds": [g.to_dict() for g in self.grounds],
            "declared_tier": self.declared_tier,
            "mismatch": self.mismatch,
            "spec_digest": self.spec_digest,
        }


#: Feature fields added after specs were first digested, with the default that leaves them out.
ADDED_LATER: dict[str, object] = {"unit": ""}


def spec_digest(spec: SystemSpec, facts: AIActFacts | None = None) -> str:
    """Return the SHA-256 of a spec (and facts classified in its place), as hex."""
    data = spec.model_dump(mode="json")
    for feature in data.get("features", []):
        # Fields added after digests were first recorded count only when set, so a spec that
        # does not use them keeps the digest it always had.
        for name, default in ADDED_LATER.items():
            if feature.get(name) == default:
                feature.pop(name, None)
    if facts is not None:
        data["ai_act"] = facts.model_dump(mode="json")
    return hashlib.sha256(canonical_json(data)).hexdigest()


@dataclass(frozen=True)
class ClassificationChange:
    """A system classified again after its spec changed (a ledger entry in the service)."""

    system: str
    previous_tier: str
    tier: str
    previous_digest: str
    digest: str
    added: tuple[str, ...]
    removed: tuple[str, ...]

    def summary(self) -> str:
        """One sentence on what changed."""
        if self.previous_tier == self.tier:
            return f"{self.system} stays {self.tier} after its spec changed."
        return (
            f"{self.system} is now {self.tier} (was {self.previous_tier}) after its spec changed."
        )

    def to_dict(self) -> dict[str, Any]:
        """Return the change as JSON data."""
        return {
            "system": self.system,
            "previous_tier": self.previous_tier,
            "tier": self.tier,
            "previous_digest": self.previous_digest,
            "digest": self.digest,
            "added": list(self.added),
            "removed": list(self.removed),
            "summary": self.summary(),
        }


def classification_change(
    previous: Classification | None, current: Classification
) -> ClassificationChange | None:
    """Return what changed between two classifications of a system, or ``None`` if the spec did not.

    ``previous`` is ``None`` for a system classified for the first time: that is a change too.
    """
    if previous is not None and previous.system != current.system:
        raise InputError(f"cannot compare {previous.system!r} with {current.system!r}")
    if previous is not None and previous.spec_digest == current.spec_digest:
        return None
    before = {g.statement for g in previous.grounds} if previous is not None else set()
    after = {g.statement for g in current.grounds}
    return ClassificationChange(
        system=current.system,
        previous_tier="unclassified" if previous is None else previous.tier.key,
        tier=current.tier.key,
        previous_digest="" if previous is None else previous.spec_digest,
        digest=current.spec_digest,
        added=tuple(g.statement for g in current.grounds if g.statement not in before),
        removed=tuple(
            g.statement for g in (previous.grounds if previous else ()) if g.statement not in after
        ),
    )
