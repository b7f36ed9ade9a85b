"""The oversight policy: whether a decision takes effect or waits for a human, and why."""

from __future__ import annotations

import random
from dataclasses import dataclass

from ethica.governance._spec import BinaryDecision, MulticlassDecision, SystemSpec


@dataclass(frozen=True)
class Routing:
    """The policy's verdict on one decision."""

    status: str  # "automatic" or "pending_review"
    reason: str | None = None

    @property
    def held(self) -> bool:
        """Whether a human must act before the decision is final."""
        return self.status == "pending_review"


AUTOMATIC = Routing("automatic")


def route(
    spec: SystemSpec,
    *,
    outcome: str,
    score: float | None,
    rng: random.Random,
    forced: str | None = None,
) -> Routing:
    """Decide automatic vs human review for one decision from the system's oversight policy.

    ``forced`` is a reason that holds the decision whatever the policy says (for example the
    customer objected to automated decisions).
    """
    if forced:
        return Routing("pending_review", forced)
    policy = spec.oversight
    decision = spec.decision
    if isinstance(decision, BinaryDecision):
        adverse = outcome == decision.adverse_outcome
        if policy.review_adverse and adverse and spec.risk_tier == "high":
            return Routing("pending_review", "adverse outcome of a high-risk system")
        if policy.review_adverse and adverse:
            return Routing("pending_review", "adverse outcome")
        if (
            score is not None
            and policy.margin > 0
            and abs(score - decision.threshold) < policy.margin
        ):
            return Routing("pending_review", f"score within {policy.margin} of the threshold")
    elif (
        isinstance(decision, MulticlassDecision)
        and policy.review_adverse
        and outcome in decision.adverse
    ):
        return Routing("pending_review", "adverse outcome")
    if policy.sample_rate > 0 and rng.random() < policy.sample_rate:
        return Routing("pending_review", "random quality sample")
    return AUTOMATIC
