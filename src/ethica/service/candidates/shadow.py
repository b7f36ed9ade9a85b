"""What a candidate decides about a live decision: in shadow beside it, or served once promoted.

A threshold candidate reads the decision's score and the customer's protected attributes (the
group that picks its rule); a randomised rule draws from the decision's id, so the same decision
always gets the same draw. A model candidate scores the same minimized features as the model.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ethica.governance import BinaryDecision, SystemSpec
from ethica.mitigation import GroupRule, rules_from_dicts
from ethica.scoring import Scored, Scorer

THRESHOLDS = "thresholds"
MODEL = "model"
METHODS = (THRESHOLDS, MODEL)
MISSING = "missing"
"""The group of a customer who did not disclose an attribute (as the live audit names it)."""


@dataclass(frozen=True)
class ShadowOutcome:
    """A candidate's decision about one live decision."""

    candidate_id: str
    outcome: str
    score: float | None


@dataclass(frozen=True)
class CandidatePolicy:
    """A candidate as the gateway runs it."""

    id: str
    method: str
    sensitive_features: tuple[str, ...] = ()
    rules: Mapping[str, GroupRule] | None = None
    scorer: Scorer | None = None

    @classmethod
    def thresholds(cls, candidate_id: str, policy: Mapping[str, Any]) -> CandidatePolicy:
        """A threshold candidate from its stored policy."""
        return cls(
            id=candidate_id,
            method=THRESHOLDS,
            sensitive_features=tuple(policy["sensitive_features"]),
            rules=rules_from_dicts(policy["rules"]),
        )

    def decide(
        self,
        spec: SystemSpec,
        decision_id: str,
        scored: Scored,
        features: Mapping[str, Any],
        protected: Mapping[str, str],
    ) -> ShadowOutcome | None:
        """The candidate's decision, or None when it has no rule for the customer's group."""
        if self.scorer is not None:
            own = self.scorer.score(dict(features))
            return ShadowOutcome(self.id, own.outcome, _finite(own.score))
        assert self.rules is not None
        decision = spec.decision
        if not isinstance(decision, BinaryDecision) or scored.score != scored.score:
            return None
        group = " × ".join(protected.get(name, MISSING) for name in self.sensitive_features)
        rule = self.rules.get(group)
        if rule is None:
            return None
        chance = float(rule.probability([scored.score])[0])
        favourable = _draw(decision_id, self.id) < chance
        outcome = decision.positive if favourable else decision.negative
        return ShadowOutcome(self.id, outcome, _finite(scored.score))


def _draw(decision_id: str, candidate_id: str) -> float:
    """A uniform number in [0, 1) fixed by the decision and the candidate."""
    digest = hashlib.sha256(f"{candidate_id}:{decision_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _finite(value: float) -> float | None:
    return None if value != value else float(value)
