"""How the officer's pages name systems, purposes, outcomes and groups: in words, not keys.

Ids stay where a person needs them (to call the API or the command line), in a secondary
style; everything else reads by the spec's labels, or a humanised fallback.
"""

from __future__ import annotations

from typing import Any

from ethica.governance import (
    MulticlassDecision,
    RankingDecision,
    ScoreDecision,
    SpecError,
    SystemSpec,
    parse_spec,
)
from ethica.monitoring._report import DRIFTED
from ethica.service.decisions.record import PENDING

#: What each kind of decision does, as an officer reads it.
KIND_WORDS = {
    "binary": "Approves or declines",
    "multiclass": "Routes to one of several classes",
    "ranking": "Ranks items",
    "score": "Gives a score or amount",
}
#: The EU AI Act risk tiers, as the dashboard writes them.
TIER_WORDS = {
    "minimal": "Minimal risk",
    "limited": "Limited risk",
    "high": "High risk",
    "unacceptable": "Unacceptable risk",
}

#: A customer's rights request, by kind, as a line of the dashboard starts.
REQUEST_WORDS = {
    "access": "Access to their data",
    "erasure": "Erasure of their data",
    "objection": "Objection to automated decisions",
    "rectification": "Correction of their data",
}


def humanised(key: str) -> str:
    """A key in words: ``age_band`` reads ``age band``, ``self-service`` reads ``self service``."""
    return key.replace("_", " ").replace("-", " ").strip()


def kind_words(kind: str) -> str:
    """A decision kind in words (``binary`` reads ``Approves or declines``)."""
    return KIND_WORDS.get(kind, humanised(kind).capitalize())


def tier_words(tier: str) -> str:
    """A risk tier in words (``high`` reads ``High risk``)."""
    return TIER_WORDS.get(tier, humanised(tier).capitalize())


def outcome_count(spec: SystemSpec | None, outcome: str, count: int) -> str:
    """A count of decisions with one outcome, in words: ``776 approved``, ``111 to priority
    support``, ``83 with a savings account first``, ``9 left to a person``."""
    if outcome == PENDING:
        return f"{count:,} left to a person"
    decision = None if spec is None else spec.decision
    if isinstance(decision, MulticlassDecision):
        return f"{count:,} to {decision.label(outcome)}"
    if isinstance(decision, RankingDecision):
        first = outcome.split(",")[0]
        return f"{count:,} with {decision.label(first)} first"
    if isinstance(decision, ScoreDecision):
        return f"{count:,} at {outcome} {decision.unit}".rstrip()
    return f"{count:,} {humanised(outcome)}"


def spec_or_none(data: dict[str, Any]) -> SystemSpec | None:
    """The stored spec, validated; ``None`` for a spec that no longer validates."""
    try:
        return parse_spec(data)
    except SpecError:
        return None


def rule_words(metric: str, subject: str) -> str:
    """What a monitoring rule watches, in words: ``Selection-rate gap by age band``."""
    if metric == DRIFTED:
        return f"Drift of {humanised(subject)}" if subject != "all" else "Drift of the inputs"
    what = humanised(metric).capitalize()
    if metric == "selection_rate":
        what = "Selection-rate gap"
    return f"{what} by {humanised(subject)}" if subject and subject != "all" else what


def group_words(subject: str, group: str, metric: str = "") -> str:
    """A group and the attribute it belongs to: ``Female (sex)``, ``18-24 (age band)``.

    A feature's drift is of every decision of the span (its group names the test).
    """
    if metric == DRIFTED:
        return "All decisions"
    if not subject or subject == "all":
        return group
    return f"{group} ({humanised(subject)})"
