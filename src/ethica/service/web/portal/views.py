"""How the portal words a decision for its customer: outcome, review status, explanation, data.

Pure functions from a decision row, its system and its review history to what the templates
show; no queries here (the routes fetch through the domains' service functions).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ethica.governance import (
    BinaryDecision,
    FeatureSpec,
    MulticlassDecision,
    RankingDecision,
    ScoreDecision,
    SystemSpec,
    parse_spec,
)
from ethica.privacy import UnknownKeyError, data_use
from ethica.service.decisions.record import FINAL_REVIEW_STATUSES, PENDING
from ethica.service.decisions.tables import Decision
from ethica.service.reviews.history import CaseEvent
from ethica.service.systems.tables import System

#: A decision's review status as its customer reads it.
REVIEW_WORDS = {
    "automatic": "Decided automatically, no person was needed",
    "pending_review": "A person is reviewing this decision",
    "awaiting_second_approval": "A person is reviewing this decision (a second person checks)",
    "confirmed": "Reviewed by a person, who confirmed it",
    "overridden": "Reviewed by a person, who changed it",
}
_REVIEW_BADGE = {"pending_review": "warn", "awaiting_second_approval": "warn"}
_STEP_WORDS = {
    "appeal": "You asked for a person to review the decision.",
    "confirm": "A reviewer confirmed the decision: {outcome}.",
    "escalation": "The review took longer than planned: it was escalated.",
    "override": "A reviewer changed the decision to {outcome}.",
    "approve": "A second reviewer approved the change: the decision is now {outcome}.",
}
_PROPOSED = "A reviewer proposed changing the decision to {outcome}; a second reviewer must agree."


@dataclass(frozen=True)
class Outcome:
    """An outcome in words, and the badge it wears (status never by colour alone)."""

    words: str
    badge: str  # ok, bad, warn, neutral


@dataclass(frozen=True)
class DecisionSummary:
    """One line of the customer's list of decisions."""

    id: str
    created_at: datetime
    system_name: str
    purpose: str
    outcome: Outcome
    review: str
    review_badge: str
    final: bool


@dataclass(frozen=True)
class Contribution:
    """One row of the detailed contributions table."""

    feature: str
    contribution: float
    effect: str


@dataclass(frozen=True)
class Explanation:
    """What the model's explanation says, ready to read."""

    summary: str
    reasons: list[str]
    changes: list[str]
    no_change: str | None
    contributions: list[Contribution] = field(default_factory=list)


def spec_of(system: System) -> SystemSpec:
    """The system's validated spec."""
    return parse_spec(system.spec)


def purpose_words(key: str) -> str:
    """A data use in words (its name in the taxonomy), or the key when it is not known."""
    try:
        entry = data_use(key)
    except UnknownKeyError:
        return key
    return entry.name


def outcome_of(spec: SystemSpec, outcome: str) -> Outcome:
    """The outcome as the customer reads it, with whether it is good or bad news for them."""
    decision = spec.decision
    if outcome == PENDING:
        return Outcome("Waiting for a person to decide", "warn")
    if isinstance(decision, BinaryDecision):
        adverse = outcome == decision.adverse_outcome
        return Outcome(outcome.replace("_", " ").capitalize(), "bad" if adverse else "ok")
    if isinstance(decision, MulticlassDecision):
        badge = "bad" if outcome in decision.adverse else "neutral"
        return Outcome(f"Routed to {outcome.replace('_', ' ')}", badge)
    if isinstance(decision, RankingDecision):
        items = [item.replace("_", " ") for item in outcome.split(",") if item]
        words = "Recommended: " + ", ".join(items) if items else "Nothing recommended"
        return Outcome(words, "neutral")
    if isinstance(decision, ScoreDecision):
        unit = f" {decision.unit}" if decision.unit else ""
        return Outcome(f"{outcome}{unit}", "neutral")
    return Outcome(outcome, "neutral")


def summary_of(row: Decision, system: System) -> DecisionSummary:
    """A decision as one line of the customer's list."""
    return DecisionSummary(
        id=row.id,
        created_at=row.created_at,
        system_name=system.name,
        purpose=purpose_words(system.purpose),
        outcome=outcome_of(spec_of(system), row.outcome),
        review=REVIEW_WORDS.get(row.review_status, row.review_status.replace("_", " ")),
        review_badge=_REVIEW_BADGE.get(row.review_status, "neutral"),
        final=row.review_status in FINAL_REVIEW_STATUSES,
    )


def disclosure_of(row: Decision) -> str:
    """Whether an AI system made this decision, assisted a person, or was not used at all."""
    if row.scored_by == "none":
        return "No AI model was used for this decision: a person makes it."
    if row.scored_by == "fallback":
        return (
            "No profile of you was used: the standard decision applies, and a person may review it."
        )
    if row.review_status == "automatic":
        return "An AI system made this decision."
    return "An AI system assisted this decision; a person reviews or reviewed it."


def _label(spec: SystemSpec, name: str) -> str:
    feature: FeatureSpec | None = next((f for f in spec.features if f.name == name), None)
    if feature is None:
        return name.replace("_", " ")
    return feature.description.strip() or feature.name.replace("_", " ")


def explanation_of(spec: SystemSpec, explanation: dict[str, Any] | None) -> Explanation | None:
    """The stored explanation in plain words: reasons, what would change it, contributions."""
    if not explanation:
        return None
    reasons = [str(r["text"]) for r in explanation.get("reasons") or [] if r.get("text")]
    changes = [str(c["text"]) for c in explanation.get("counterfactuals") or [] if c.get("text")]
    text = str(explanation.get("text") or "")
    chosen, runner_up = explanation.get("chosen"), explanation.get("runner_up")
    raised, lowered = "raised the score", "lowered the score"
    if chosen is not None and runner_up is not None:
        raised, lowered = f"towards {chosen} rather than {runner_up}", f"towards {runner_up}"
    contributions = [
        Contribution(_label(spec, name), float(value), raised if value > 0 else lowered)
        for name, value in sorted(
            (explanation.get("contributions") or {}).items(), key=lambda item: -abs(item[1])
        )
        if isinstance(value, int | float) and value != 0
    ]
    return Explanation(
        summary=text.splitlines()[0] if text else "",
        reasons=reasons,
        changes=changes,
        no_change=explanation.get("counterfactual_text"),
        contributions=contributions,
    )


def data_of(spec: SystemSpec, data: dict[str, Any]) -> dict[str, list[Any]]:
    """The data used and withheld (with why), each feature by its description."""
    return {
        "used": [_label(spec, name) for name in data.get("used", [])],
        "withheld": [
            {"feature": _label(spec, str(w.get("feature"))), "reason": str(w.get("reason"))}
            for w in data.get("withheld", [])
        ],
    }


def history_of(events: list[CaseEvent]) -> list[tuple[datetime, str]]:
    """The review history in sentences, oldest first (no reviewer ids, no internal comments)."""
    lines = []
    for event in events:
        pattern = _STEP_WORDS[event.kind]
        if event.kind == "override" and event.status == "awaiting_second_approval":
            pattern = _PROPOSED
        lines.append((event.at, pattern.format(outcome=event.outcome)))
    return lines
