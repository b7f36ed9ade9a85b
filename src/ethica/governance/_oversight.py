"""The oversight policy: whether a decision takes effect or waits for a human, and why."""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

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

#: The reason a decision waits for a person when its required explanation could not be made.
UNEXPLAINED = "UNEXPLAINED"


def explanation_required(spec: SystemSpec, *, outcome: str) -> bool:
    """Whether a decision may take effect only with its explanation (reasons, counterfactuals).

    An adverse outcome of a high-risk system: the customer is owed the main reasons for it
    (EU AI Act Art. 86, GDPR Art. 22(3)), so one that cannot be explained is held for a person
    (:data:`UNEXPLAINED`), never served without reasons.
    """
    return spec.risk_tier == "high" and outcome_is_adverse(spec, outcome=outcome)


def outcome_is_adverse(spec: SystemSpec, *, outcome: str) -> bool:
    """Whether ``outcome`` is adverse to the customer, as the system's decision declares.

    A binary decision's adverse side, a routing's adverse classes; an amount (a score
    decision) declares none, so none of its outcomes counts as adverse.
    """
    decision = spec.decision
    if isinstance(decision, BinaryDecision):
        return outcome == decision.adverse_outcome
    if isinstance(decision, MulticlassDecision):
        return outcome in decision.adverse
    return False


class TrainingData(Protocol):
    """What the policy reads of a model's training summary (``ethica.explain.TrainingSummary``)."""

    @property
    def ranges(self) -> Mapping[str, tuple[float, float]]:
        """Observed range of each numeric feature."""
        ...

    @property
    def background(self) -> Any:
        """A sample of training rows (a DataFrame), or ``None``."""
        ...


def unlike_training(
    spec: SystemSpec, training: TrainingData | None, features: Mapping[str, Any]
) -> list[str]:
    """List the features whose value is unlike the model's training data (``route(unfamiliar=)``).

    A number outside the range observed in training, or a category that does not occur in the
    training sample. Empty when the system's policy does not ask (``review_unfamiliar``) or
    no training summary is known, so the common path costs nothing.

    Parameters
    ----------
    spec
        The system's spec: its oversight policy and feature types.
    training
        The training summary of the model version that scored the decision.
    features
        The values the model received (after minimization).
    """
    if not spec.oversight.review_unfamiliar or training is None:
        return []
    background = training.background
    unlike = []
    for feature in spec.features:
        value = features.get(feature.name)
        if value is None:
            continue
        if feature.type in ("number", "integer") and feature.name in training.ranges:
            low, high = training.ranges[feature.name]
            number = float(value)
            if math.isnan(number) or number < low or number > high:
                unlike.append(feature.name)
        elif (
            feature.type == "category"
            and background is not None
            and feature.name in background.columns
            and str(value) not in set(background[feature.name].astype(str))
        ):
            unlike.append(feature.name)
    return unlike


def route(
    spec: SystemSpec,
    *,
    outcome: str,
    score: float | None,
    rng: random.Random,
    forced: str | None = None,
    unfamiliar: Sequence[str] = (),
    unexplained: bool = False,
) -> Routing:
    """Decide automatic vs human review for one decision from the system's oversight policy.

    ``forced`` is a reason that holds the decision whatever the policy says (for example the
    customer objected to automated decisions). ``unfamiliar`` names the inputs unlike the
    training data (:func:`unlike_training`); any holds the decision. ``unexplained`` says the
    decision's explanation failed: where :func:`explanation_required`, it is held with reason
    :data:`UNEXPLAINED` whatever the policy says.
    """
    if forced:
        return Routing("pending_review", forced)
    if unexplained and explanation_required(spec, outcome=outcome):
        return Routing("pending_review", UNEXPLAINED)
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
    if unfamiliar:
        names = sorted(unfamiliar)
        # Two names at most: the reason is stored in 200 characters, a feature name takes 64.
        more = f" and {len(names) - 2} more" if len(names) > 2 else ""
        return Routing(
            "pending_review", f"input unlike the training data: {', '.join(names[:2])}{more}"
        )
    if policy.sample_rate > 0 and rng.random() < policy.sample_rate:
        return Routing("pending_review", "random quality sample")
    return AUTOMATIC
