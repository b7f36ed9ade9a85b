"""How the console puts a case's clocks, reasons and outcomes into words for a reviewer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import get_args

from ethica._templates import time_taken
from ethica.governance import (
    BinaryDecision,
    MulticlassDecision,
    RankingDecision,
    SystemSpec,
)
from ethica.service.reviews.schemas import ReasonCode, ReviewCase

#: What each override reason code means, as the reviewer picks it.
REASON_LABELS: dict[str, str] = {
    "model_error": "The model got this case wrong",
    "new_information": "New information the model did not have",
    "policy_exception": "A policy exception applies",
    "data_quality": "The input data was wrong or incomplete",
}

#: What each review status means, in words.
STATUS_LABELS: dict[str, str] = {
    "pending_review": "Awaiting review",
    "awaiting_second_approval": "Awaiting second approval",
    "confirmed": "Confirmed",
    "overridden": "Overridden",
    "decided": "Decided by a person",
}


def reason_codes() -> list[tuple[str, str]]:
    """The override reason codes the review backend accepts, each with its label."""
    return [(code, reason_label(code)) for code in get_args(ReasonCode)]


def reason_label(code: str | None) -> str:
    """A reason code in words (the code itself, made readable, if it has no label)."""
    if code is None:
        return "—"
    return REASON_LABELS.get(code, code.replace("_", " ").capitalize())


def status_label(status: str) -> str:
    """A review status in words."""
    return STATUS_LABELS.get(status, status.replace("_", " ").capitalize())


def outcomes_of(spec: SystemSpec) -> list[str] | None:
    """The outcomes a reviewer may choose for this system; ``None`` when any text goes."""
    if isinstance(spec.decision, BinaryDecision):
        return [spec.decision.positive, spec.decision.negative]
    if isinstance(spec.decision, MulticlassDecision):
        return list(spec.decision.classes)
    return None


def outcome_label(spec: SystemSpec, outcome: str) -> str:
    """An outcome as a reviewer reads it: ``Declined``, ``Standard support``, the items' names."""
    decision = spec.decision
    if isinstance(decision, MulticlassDecision | RankingDecision):
        words = ", ".join(decision.label(part) for part in outcome.split(",") if part)
    else:
        words = spec.outcome_words(outcome)
    return words[:1].upper() + words[1:]


def score_words(spec: SystemSpec, score: float | None) -> str:
    """A model's score with what it is measured against: ``0.071 (approved from 0.5 up)``."""
    if score is None:
        return "—"
    decision = spec.decision
    if isinstance(decision, BinaryDecision):
        words = spec.outcome_words(decision.positive)
        positive = words[:1].lower() + words[1:]  # mid-sentence
        return f"{score:.3f} (on a scale of 0 to 1; {positive} from {decision.threshold:g} up)"
    return f"{score:.3f}"


def step_reason(kind: str, code: str | None) -> str:
    """The reason column of a review step: a rejection's reason is its own words, not a code.

    A rejected proposal keeps the proposer's reason code on its record; shown on the rejection's
    row it would read as the rejection's reason.
    """
    return "—" if kind == "reject" else reason_label(code)


def duration(span: timedelta) -> str:
    """A span of time as a reviewer reads it: ``45 min``, ``5 h``, ``3 days``."""
    minutes = int(abs(span).total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h"
    return f"{minutes // (24 * 60)} days"


#: A time per case in words (the one formatter of durations, shared with the dashboard).
seconds_words = time_taken


@dataclass(frozen=True)
class Clock:
    """A case's review deadline in words, and how urgent that is (for the badge)."""

    text: str
    tone: str  # a badge class: "bad" (overdue), "warn" (due within a day) or "neutral"


def deadline_clock(case: ReviewCase, *, now: datetime) -> Clock:
    """``Overdue by 5 h — escalated``, ``Due in 3 h`` or ``Due in 2 days``."""
    left = case.sla_deadline - now
    if case.escalated:
        return Clock(f"Overdue by {duration(left)} — escalated", "bad")
    return Clock(f"Due in {duration(left)}", "warn" if left < timedelta(days=1) else "neutral")
