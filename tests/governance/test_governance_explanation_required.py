"""A decision that must be explained and cannot be is held for a person, never served bare."""

from __future__ import annotations

import random
from typing import Any

import pytest

from ethica.governance import (
    UNEXPLAINED,
    SystemSpec,
    explanation_required,
    parse_spec,
    route,
)


def _spec(
    *, risk_tier: str, decision: dict[str, Any] | None = None, **oversight: Any
) -> SystemSpec:
    return parse_spec(
        {
            "id": "credit",
            "name": "Credit",
            "purpose": "essential.service",
            "risk_tier": risk_tier,
            "decision": decision or {"kind": "binary", "threshold": 0.5, "adverse": "negative"},
            "features": [{"name": "income", "type": "number", "data_category": "user.financial"}],
            "oversight": oversight,
            "owner": "risk@example.com",
        }
    )


def test_adverse_decisions_of_high_risk_systems_require_an_explanation() -> None:
    high = _spec(risk_tier="high")
    declined = high.decision.negative  # type: ignore[union-attr]
    approved = high.decision.positive  # type: ignore[union-attr]
    assert explanation_required(high, outcome=declined)
    assert not explanation_required(high, outcome=approved)
    assert not explanation_required(_spec(risk_tier="limited"), outcome=declined)
    multiclass = _spec(
        risk_tier="high",
        decision={
            "kind": "multiclass",
            "classes": ["gold", "basic", "refer"],
            "adverse": ["refer"],
        },
    )
    assert explanation_required(multiclass, outcome="refer")
    assert not explanation_required(multiclass, outcome="gold")
    score = _spec(risk_tier="high", decision={"kind": "score"})
    assert not explanation_required(score, outcome="0.3")


@pytest.mark.parametrize("review_adverse", [False, True])
def test_an_unexplained_adverse_high_risk_decision_is_held_as_unexplained(
    review_adverse: bool,
) -> None:
    spec = _spec(risk_tier="high", review_adverse=review_adverse)
    declined = spec.decision.negative  # type: ignore[union-attr]
    routing = route(spec, outcome=declined, score=0.2, rng=random.Random(0), unexplained=True)
    assert routing.held
    assert routing.reason == UNEXPLAINED
    # Explained, the same decision follows the system's own policy.
    explained = route(spec, outcome=declined, score=0.2, rng=random.Random(0))
    assert explained.held is review_adverse
    assert explained.reason != UNEXPLAINED


def test_other_unexplained_decisions_follow_the_policy_and_a_forced_reason_comes_first() -> None:
    spec = _spec(risk_tier="high")
    approved = spec.decision.positive  # type: ignore[union-attr]
    declined = spec.decision.negative  # type: ignore[union-attr]
    assert not route(spec, outcome=approved, score=0.9, rng=random.Random(0), unexplained=True).held
    limited = _spec(risk_tier="limited")
    assert not route(
        limited, outcome=declined, score=0.2, rng=random.Random(0), unexplained=True
    ).held
    forced = route(
        spec,
        outcome=declined,
        score=0.2,
        rng=random.Random(0),
        forced="the customer objected to automated decision-making (GDPR Art. 22)",
        unexplained=True,
    )
    assert forced.reason is not None and "objected" in forced.reason
