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
    SystemSpec,
    parse_spec,
)
from ethica.privacy import UnknownKeyError, data_category, data_use
from ethica.service.decisions.record import (
    FINAL_REVIEW_STATUSES,
    PENDING,
    awaits_a_person,
)
from ethica.service.decisions.tables import Decision
from ethica.service.notifications.tables import Notification
from ethica.service.reviews.history import CaseEvent
from ethica.service.systems.tables import System

#: A decision's review status as its customer reads it.
REVIEW_WORDS = {
    "automatic": "Decided automatically, no person was needed",
    "pending_review": "A person is reviewing this decision",
    "awaiting_second_approval": "A person is reviewing this decision",
    "confirmed": "Reviewed by a person, who confirmed it",
    "overridden": "Reviewed by a person, who changed it",
    "decided": "Decided by a person",
}
_REVIEW_BADGE = {"pending_review": "warn", "awaiting_second_approval": "warn"}
_STEP_WORDS = {
    "appeal": "You asked for a person to review the decision.",
    "confirm": "A reviewer confirmed the decision: {outcome}.",
    "escalation": "The review took longer than planned: it was escalated.",
    "override": "A reviewer changed the decision to {outcome}.",
    "approve": "A reviewer changed the decision to {outcome}, and a second reviewer checked "
    "and approved the change.",
    "decide": "A person decided: {outcome}.",
}
#: Steps the customer does not see: a proposal is not a decision until a second person agrees.
_INTERNAL_STEPS = {("override", "awaiting_second_approval"), ("reject", "pending_review")}


@dataclass(frozen=True)
class Outcome:
    """An outcome in words, and the badge it wears (status never by colour alone)."""

    words: str
    badge: str  # ok, bad, warn, neutral


PERSON_WILL_DECIDE = Outcome("Pending — a person will decide", "warn")
"""What the customer reads while no model decided and a person has not decided yet."""


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


def purpose_of(spec: SystemSpec) -> str:
    """What a system is for, as its spec describes it (the taxonomy's name only without one)."""
    return spec.description.strip() or purpose_words(spec.purpose)


def category_words(key: str) -> str:
    """A data category as the customer reads it: ``"your postal code"``, or its last word."""
    try:
        entry = data_category(key)
    except UnknownKeyError:
        return key.rsplit(".", 1)[-1].replace("_", " ")
    words = entry.description.strip().rstrip(".") or entry.name
    if words.lower().startswith("user's "):
        return "your " + words[len("user's ") :]
    return words[:1].lower() + words[1:]


def outcome_of(spec: SystemSpec, outcome: str) -> Outcome:
    """The outcome as the customer reads it, with whether it is good or bad news for them."""
    decision = spec.decision
    if outcome == PENDING:
        return PERSON_WILL_DECIDE
    badge = "neutral"
    if isinstance(decision, BinaryDecision):
        badge = "bad" if outcome == decision.adverse_outcome else "ok"
    elif isinstance(decision, MulticlassDecision) and outcome in decision.adverse:
        badge = "bad"
    return Outcome(spec.outcome_words(outcome), badge)


def summary_of(row: Decision, system: System) -> DecisionSummary:
    """A decision as one line of the customer's list."""
    return DecisionSummary(
        id=row.id,
        created_at=row.created_at,
        system_name=system.name,
        purpose=purpose_of(spec_of(system)),
        outcome=PERSON_WILL_DECIDE
        if awaits_a_person(row)
        else outcome_of(spec_of(system), row.outcome),
        review=REVIEW_WORDS.get(row.review_status, row.review_status.replace("_", " ")),
        review_badge=_REVIEW_BADGE.get(row.review_status, "neutral"),
        final=row.review_status in FINAL_REVIEW_STATUSES,
    )


def disclosure_of(row: Decision) -> str:
    """Who made this decision: an AI system, a person with or without its help, or nobody yet."""
    if row.review_status == "decided":
        return "A person made this decision; no AI model decided it."
    if awaits_a_person(row):
        return "No AI model decided this: a person will decide, and you will see the decision here."
    if row.scored_by == "fallback":
        return "No profile of you was used: the standard decision applies to you."
    if row.review_status == "overridden":
        return "A person made this decision, after reviewing an AI system's recommendation."
    if row.review_status == "confirmed":
        return "An AI system recommended this decision; a person reviewed and confirmed it."
    if row.review_status == "automatic":
        return "An AI system made this decision."
    return "An AI system recommended this decision; a person is reviewing it."


def no_reasons_words(row: Decision) -> str:
    """Why the page shows no model reasons: no model decided, so there are none to give."""
    if row.review_status == "decided":
        return "A person decided this without an AI model, so there are no model reasons to show."
    if awaits_a_person(row):
        return (
            "No AI model decided this, so there are no model reasons to show. A person will "
            "decide, and you will see their decision here."
        )
    return "No reasons were recorded for this decision."


def has_notice(row: Decision, explanation: dict[str, Any] | None) -> bool:
    """Whether the decision has a formal notice: a final decision with the model's reasons."""
    return (
        row.review_status in FINAL_REVIEW_STATUSES
        and bool(explanation)
        and "reasons" in (explanation or {})
    )


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
    if (
        chosen is not None
        and runner_up is not None
        and isinstance(spec.decision, MulticlassDecision | RankingDecision)
    ):
        chosen, runner_up = spec.decision.label(chosen), spec.decision.label(runner_up)
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
    """The review history in sentences, oldest first (no reviewer ids, no internal comments,
    no proposal that a second reviewer has not approved)."""
    lines = []
    for event in events:
        if (event.kind, event.status) in _INTERNAL_STEPS:
            continue
        pattern = _STEP_WORDS[event.kind]
        lines.append((event.at, pattern.format(outcome=event.outcome)))
    return lines


#: Review steps that settle a case (a proposal awaiting a second approval does not).
_SETTLING_STEPS = {"confirm", "override", "approve", "decide"}


@dataclass(frozen=True)
class AppealAnswer:
    """A person's decision on the customer's appeal: when, and whether they changed it."""

    at: datetime
    changed: bool


def appeal_answer(row: Decision, events: list[CaseEvent]) -> AppealAnswer | None:
    """The answer to the customer's appeal, once a person gave it; None before (or without one).

    A decision answered on appeal is not appealed again: the review by a person the customer
    asked for has been given (:func:`ethica.service.reviews.appeals.appeal` refuses it too).
    """
    if row.review_status not in FINAL_REVIEW_STATUSES:
        return None
    appeals = [e for e in events if e.kind == "appeal"]
    if not appeals:
        return None
    settled = [
        e
        for e in events
        if e.kind in _SETTLING_STEPS
        and e.at >= appeals[-1].at
        and (e.kind, e.status) not in _INTERNAL_STEPS
    ]
    if not settled:
        return None
    return AppealAnswer(at=settled[-1].at, changed=row.outcome != appeals[-1].outcome)


#: What each notification tells the customer, in a sentence ({system}, {outcome}).
NOTIFICATION_WORDS = {
    "review_started": "A person started reviewing your decision about {system}.",
    "decided": "A person decided your case about {system}: {outcome}.",
    "appeal_answered": "A person answered your request for a review of {system}: {outcome}.",
    "concern_answered": "We answered your concern about your decision on {system}.",
}


@dataclass(frozen=True)
class NotificationLine:
    """One notification as the customer reads it."""

    decision_id: str
    at: datetime
    text: str
    unread: bool


def notification_line(
    row: Notification, *, system: System, outcome: Outcome | None
) -> NotificationLine:
    """A notification in a sentence, with the outcome in the customer's words."""
    text = NOTIFICATION_WORDS[row.kind].format(
        system=system.name, outcome="" if outcome is None else outcome.words.lower()
    )
    # A customer's notifications are about their decisions (alerts name no customer).
    return NotificationLine(row.decision_id or "", row.created_at, text, row.read_at is None)
