"""The specification of an AI system: what it decides, from which data, for which purpose.

A spec is written in YAML (or sent as JSON to the service); its fields and their rules are
declared here, and :mod:`ethica.governance._spec_parsing` reads one and lists its problems.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ethica.governance._facts import AIActFacts
from ethica.monitoring import TESTS, DriftRule

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
_DOTTED = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")

#: Ledger chains of the service itself; a system id names its own chain, so these are taken.
RESERVED_IDS = frozenset({"root", "consent", "subjects"})

#: The longest outcome a decision records (a ranking's outcome is its top item ids joined).
MAX_OUTCOME_CHARS = 200

RiskTier = Literal["minimal", "limited", "high", "unacceptable"]
FeatureType = Literal["number", "integer", "boolean", "category", "text"]
Direction = Literal["increasing", "decreasing", "none"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _label_field(what: str, example: str) -> Any:
    return Field(
        default_factory=dict,
        description=f"How each {what} reads to people, by id ({example}); one without a label "
        "reads as its id with spaces for '_' (declare labels for ids such as 'savings-account').",
    )


def _read(labels: dict[str, str], value: str) -> str:
    """Return a class, item or category as people read it: its label, or its id with spaces."""
    return labels.get(value) or value.replace("_", " ")


def _unknown_labels(labels: dict[str, str], known: list[str] | None, what: str) -> None:
    if known is None:
        return
    unknown = sorted(set(labels) - set(known))
    if unknown:
        raise ValueError(f"labels name {what} that are not declared: {unknown}")


class FeatureSpec(_Model):
    """One input the model receives."""

    name: Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=64)]
    type: FeatureType
    data_category: Annotated[str, Field(description="Category of personal data, dotted.")]
    description: str = ""
    actionable: bool = Field(False, description="The customer can change it (counterfactuals).")
    direction: Direction = Field(
        "none", description="How the favourable outcome moves as the value grows."
    )
    categories: list[str] | None = None
    minimum: float | None = None
    maximum: float | None = None
    default: float | int | bool | str | None = Field(
        None, description="Value the model receives when the feature is withheld."
    )
    proxy_for: list[str] = Field(
        default_factory=list, description="Protected attributes this feature is a known proxy for."
    )
    labels: dict[str, str] = _label_field("category", "'rent': 'renting'")
    unit: str = Field(
        "",
        max_length=20,
        description="How a number reads to people: 'percent' for a ratio (0.71 reads 71%), "
        "or a unit written after it ('EUR', 'months'); empty for a plain number.",
    )

    @field_validator("data_category")
    @classmethod
    def _dotted(cls, value: str) -> str:
        if not _DOTTED.match(value):
            raise ValueError("must be a dotted category such as 'user.financial.income'")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> FeatureSpec:
        if self.type == "category" and not self.categories:
            raise ValueError("a category feature lists its categories")
        if self.minimum is not None and self.maximum is not None and self.minimum > self.maximum:
            raise ValueError("minimum is above maximum")
        _unknown_labels(self.labels, self.categories, "categories")
        return self


class ProtectedAttributeSpec(_Model):
    """A protected attribute collected for fairness monitoring only, never given to the model."""

    name: Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=64)]
    description: str = ""
    categories: list[str] | None = None


class BinaryDecision(_Model):
    """Approve / decline at a threshold on the model's score."""

    kind: Literal["binary"]
    threshold: Annotated[float, Field(ge=0.0, le=1.0)] = 0.5
    positive: str = Field("approved", description="Outcome when score >= threshold.")
    negative: str = Field("declined", description="Outcome when score < threshold.")
    adverse: Literal["positive", "negative"] = "negative"
    favourable_truth: str | None = Field(
        None, description="The recorded true outcome that is favourable (e.g. 'repaid')."
    )

    @property
    def adverse_outcome(self) -> str:
        """The outcome that is adverse for the customer."""
        return self.negative if self.adverse == "negative" else self.positive


class MulticlassDecision(_Model):
    """Routing to one of several classes (e.g. service tiers)."""

    kind: Literal["multiclass"]
    classes: Annotated[list[str], Field(min_length=2)]
    adverse: list[str] = Field(default_factory=list, description="Classes adverse to the customer.")
    labels: dict[str, str] = _label_field("class", "'standard': 'standard support'")

    @model_validator(mode="after")
    def _labelled(self) -> MulticlassDecision:
        _unknown_labels(self.labels, self.classes, "classes")
        return self

    def label(self, value: str) -> str:
        """Return a class as people read it (``"standard support"``)."""
        return _read(self.labels, value)


class ScoreDecision(_Model):
    """An amount or score (e.g. a credit limit)."""

    kind: Literal["score"]
    unit: str = ""
    minimum: float | None = None
    maximum: float | None = None


class RankingDecision(_Model):
    """An ordered list of items (e.g. recommended products).

    Without ``items`` the model scores one item per decision. With ``items`` it scores every
    item at once (one probability per item, in this order) and the outcome is the ``top_k``
    items, best first, joined by commas.
    """

    kind: Literal["ranking"]
    top_k: Annotated[int, Field(ge=1, le=1000)] = 10
    items: list[Annotated[str, Field(min_length=1, max_length=64)]] | None = Field(
        None, min_length=2, description="The ids of the items ranked, in the model's order."
    )
    labels: dict[str, str] = _label_field("item", "'savings-account': 'a savings account'")

    def label(self, value: str) -> str:
        """Return an item as people read it (``"a savings account"``)."""
        return _read(self.labels, value)

    @field_validator("items")
    @classmethod
    def _distinct(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return value
        if len(set(value)) != len(value):
            raise ValueError("items are listed more than once")
        if any("," in item for item in value):
            raise ValueError("item ids contain no comma: a ranking's outcome joins them by commas")
        return value

    @model_validator(mode="after")
    def _fits(self) -> RankingDecision:
        _unknown_labels(self.labels, self.items, "items")
        if self.items is not None:
            longest = sorted((len(i) for i in self.items), reverse=True)[: self.top_k]
            if sum(longest) + len(longest) - 1 > MAX_OUTCOME_CHARS:
                raise ValueError(
                    f"the top {self.top_k} item ids joined by commas may exceed the "
                    f"{MAX_OUTCOME_CHARS} characters of an outcome; lower top_k or shorten the ids"
                )
        return self


DecisionSpec = Annotated[
    BinaryDecision | MulticlassDecision | ScoreDecision | RankingDecision,
    Field(discriminator="kind"),
]


class ModelSpec(_Model):
    """Where the model file is and how it is stored (never plain pickle)."""

    path: str
    format: Literal["skops", "lightgbm", "xgboost"]
    version: Annotated[str, Field(min_length=1, max_length=64)]
    training_summary: str | None = Field(
        None,
        description="A JSON file from ethica.explain.TrainingSummary.to_dict(): the typical "
        "values and ranges explanations compare a customer with.",
    )


class OversightSpec(_Model):
    """When a decision waits for a human instead of taking effect."""

    review_adverse: bool = Field(False, description="Hold every adverse outcome for review.")
    margin: Annotated[float, Field(ge=0.0, le=1.0)] = Field(
        0.0, description="Hold when the score is within this distance of the threshold."
    )
    sample_rate: Annotated[float, Field(ge=0.0, le=1.0)] = Field(
        0.0, description="Share of automatic decisions held at random for quality review."
    )
    review_unfamiliar: bool = Field(
        False,
        description="Hold a decision whose input is unlike the model's training data: a number "
        "outside the range seen in training, or a category never seen in training.",
    )
    sla_hours: Annotated[int, Field(ge=1, le=24 * 90)] | None = Field(
        None,
        description="Hours a held decision may wait for a reviewer; unset: two business days.",
    )
    priority: Literal["urgent", "high", "normal", "low"] | None = Field(
        None,
        description="Place of this system's cases in the review queue; unset: high for a "
        "high-risk system, normal otherwise.",
    )
    blind_first: bool = Field(
        False,
        description="Reviewers record their own judgement before they see the model's outcome, "
        "score and explanation (an automation-bias safeguard, EU AI Act Art. 14(4)(b)).",
    )


class FallbackSpec(_Model):
    """What a customer who objected to profiling gets instead of the model's personalized output."""

    score: float | None = Field(
        None, description="A fixed score, turned into an outcome by the decision rule."
    )
    outcome: str | None = Field(None, description="A fixed outcome (e.g. a standard offer).")
    ranking: list[str] | None = Field(None, description="A default, non-personalized ranking.")

    @model_validator(mode="after")
    def _one(self) -> FallbackSpec:
        given = [v for v in (self.score, self.outcome, self.ranking) if v is not None]
        if len(given) != 1:
            raise ValueError("a fallback declares exactly one of score, outcome or ranking")
        return self


class DriftRuleSpec(_Model):
    """How drift of one input is judged, where Evidently's default rule does not fit it."""

    feature: str = Field(description="A declared feature.")
    test: str | None = Field(
        None,
        description="A drift test: ks, chisquare, z, wasserstein, jensenshannon or psi "
        "(empty: the default rule's choice by type and reference size).",
    )
    threshold: Annotated[float, Field(ge=0.0)] | None = Field(
        None, description="The test's threshold instead of its default (p-value or distance)."
    )

    @field_validator("test")
    @classmethod
    def _known_test(cls, value: str | None) -> str | None:
        if value is not None and value not in TESTS:
            raise ValueError(f"unknown drift test {value!r}: use one of {sorted(TESTS)}")
        return value

    def rule(self) -> DriftRule:
        """Return the rule the monitoring library applies."""
        return DriftRule(self.test, self.threshold)


class MonitoringSpec(_Model):
    """The system's own monitoring rules, beside the defaults every system gets."""

    drift: list[DriftRuleSpec] = Field(
        default_factory=list, description="Per-feature overrides of the default drift rule."
    )

    def drift_rules(self) -> dict[str, DriftRule]:
        """Return the drift overrides by feature, as :func:`ethica.monitoring.drift_all` reads."""
        return {override.feature: override.rule() for override in self.drift}


class SystemSpec(_Model):
    """One registered AI system."""

    id: str
    name: Annotated[str, Field(min_length=1, max_length=200)]
    purpose: str
    legal_basis: Literal[
        "consent", "contract", "legal_obligation", "vital_interests", "public_interest",
        "legitimate_interests",
    ] = "contract"  # fmt: skip
    risk_tier: RiskTier = "limited"
    decision: DecisionSpec
    features: Annotated[list[FeatureSpec], Field(min_length=1)]
    protected_attributes: list[ProtectedAttributeSpec] = Field(default_factory=list)
    model: ModelSpec | None = None
    oversight: OversightSpec = OversightSpec()
    fallback: FallbackSpec | None = Field(
        None, description="The non-personalized decision for customers who object to profiling."
    )
    retention_months: Annotated[int, Field(ge=1, le=1200)] | None = Field(
        None, description="How long decision records are kept (e.g. 25 for credit)."
    )
    owner: Annotated[str, Field(min_length=1)]
    description: str = ""
    ai_act: AIActFacts | None = Field(
        None, description="Declared facts for the system's EU AI Act classification."
    )
    monitoring: MonitoringSpec = Field(
        default_factory=MonitoringSpec, description="Overrides of the default monitoring rules."
    )

    @field_validator("id")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not _SLUG.match(value):
            raise ValueError("must be a lowercase slug such as 'credit-limit'")
        if value in RESERVED_IDS:
            raise ValueError(f"{value!r} is reserved (a ledger chain of the service); pick another")
        return value

    @field_validator("purpose")
    @classmethod
    def _purpose(cls, value: str) -> str:
        if not _DOTTED.match(value):
            raise ValueError("must be a dotted data use such as 'essential.service'")
        return value

    @model_validator(mode="after")
    def _names(self) -> SystemSpec:
        names = [f.name for f in self.features]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"features are declared twice: {repeated}")
        overlap = sorted(set(names) & {p.name for p in self.protected_attributes})
        if overlap:
            raise ValueError(
                f"{overlap} are declared both as features and as protected attributes; protected "
                "attributes never reach the model"
            )
        overridden = [o.feature for o in self.monitoring.drift]
        undeclared = sorted(set(overridden) - set(names))
        if undeclared:
            raise ValueError(f"monitoring.drift names undeclared features {undeclared}")
        twice = sorted({n for n in overridden if overridden.count(n) > 1})
        if twice:
            raise ValueError(f"monitoring.drift has two rules for {twice}; keep one each")
        protected = {p.name for p in self.protected_attributes}
        for feature in self.features:
            unknown = sorted(set(feature.proxy_for) - protected)
            if unknown:
                raise ValueError(
                    f"feature {feature.name!r} is a proxy for undeclared attributes {unknown}"
                )
        return self

    def feature(self, name: str) -> FeatureSpec:
        """Return the feature called ``name``."""
        for feature in self.features:
            if feature.name == name:
                return feature
        raise KeyError(name)

    def outcome_words(self, outcome: str) -> str:
        """Return an outcome as people read it, from the labels the spec declares.

        ``"Approved"``, ``"Routed to standard support"``, ``"Recommended a savings account
        and a credit card"`` or ``"1200 EUR"``.
        """
        decision = self.decision
        if isinstance(decision, MulticlassDecision):
            return f"Routed to {decision.label(outcome)}"
        if isinstance(decision, RankingDecision):
            items = [decision.label(item) for item in outcome.split(",") if item]
            if not items:
                return "Nothing recommended"
            listed = ", ".join(items[:-1]) + " and " + items[-1] if len(items) > 1 else items[0]
            return f"Recommended {listed}"
        if isinstance(decision, ScoreDecision):
            return f"{outcome} {decision.unit}".strip()
        return outcome.replace("_", " ").capitalize()
