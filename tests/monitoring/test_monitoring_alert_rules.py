"""An alert rule fires exactly when its condition holds; an alert moves open -> ack -> resolved."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ethica.errors import InputError
from ethica.monitoring._alerts import (
    TRANSITIONS,
    Alert,
    AlertRule,
    Observation,
    State,
    default_rules,
    evaluate,
    fires,
)

rules = st.builds(
    AlertRule,
    name=st.sampled_from(["gap", "drift", "drop"]),
    watch=st.sampled_from(["fairness_gap", "drift", "performance_drop"]),
    subject=st.sampled_from(["sex", "age", "all"]),
    metric=st.sampled_from(["selection_rate", "accuracy"]),
    threshold=st.floats(0, 1),
    span_days=st.integers(1, 90),
    min_count=st.integers(0, 500),
    severity=st.sampled_from(["info", "warning"]),
    require_significant=st.booleans(),
)
observations = st.builds(
    Observation,
    subject=st.sampled_from(["sex", "age"]),
    metric=st.sampled_from(["selection_rate", "accuracy"]),
    value=st.one_of(st.floats(-1, 1), st.just(math.nan), st.just(math.inf)),
    count=st.integers(0, 1000),
    significant=st.booleans(),
)


@given(rules, observations)
@settings(max_examples=500)
def test_a_rule_fires_exactly_when_its_condition_holds(
    rule: AlertRule, observation: Observation
) -> None:
    condition = (
        rule.subject in (observation.subject, "all")
        and rule.metric == observation.metric
        and math.isfinite(observation.value)
        and observation.count >= rule.min_count
        and abs(observation.value) >= rule.threshold
        and (
            observation.significant or not rule.require_significant or rule.watch != "fairness_gap"
        )
    )
    assert fires(rule, observation) == condition
    alerts = evaluate([rule], [observation])
    assert len(alerts) == int(condition)
    if alerts:
        assert alerts[0].state == "open" and alerts[0].value == observation.value


@given(rules, observations, st.floats(0, 1), st.integers(0, 1000))
@settings(max_examples=300)
def test_more_evidence_never_silences_a_rule(
    rule: AlertRule, observation: Observation, extra: float, more: int
) -> None:
    """A larger gap, or more decisions behind it, cannot stop a firing rule from firing."""
    if not fires(rule, observation):
        return
    sign = 1.0 if observation.value >= 0 else -1.0
    stronger = Observation(
        observation.subject,
        observation.metric,
        observation.value + sign * extra,
        observation.count + more,
        observation.significant,
    )
    assert fires(rule, stronger)


@given(st.lists(st.sampled_from(["open", "acknowledged", "resolved"]), max_size=8))
def test_an_alert_moves_only_forward_and_keeps_who_and_why(moves: list[State]) -> None:
    alert = Alert("gap", "warning", "sex", "f", "selection_rate", 0.12, 0.05)
    accepted = 0
    for to in moves:
        allowed = to in TRANSITIONS[alert.state]
        if allowed:
            alert = alert.move(to, who="officer@bank.example", why="looked into it")
            accepted += 1
            assert alert.state == to
        else:
            with pytest.raises(InputError, match="cannot become"):
                alert.move(to, who="officer@bank.example", why="again")
    assert len(alert.history) == accepted
    states = ["open", *(h[0] for h in alert.history)]
    assert all(b in TRANSITIONS[a] for a, b in zip(states, states[1:], strict=False))


def test_who_and_why_are_required() -> None:
    alert = Alert("gap", "warning", "sex", "f", "selection_rate", 0.12, 0.05)
    with pytest.raises(InputError, match="who"):
        alert.move("acknowledged", who=" ", why="seen")


def test_only_a_critical_rule_may_suspend() -> None:
    with pytest.raises(InputError, match="critical"):
        AlertRule("gap", "fairness_gap", "sex", "selection_rate", 0.1, suspend=True)
    AlertRule(
        "gap", "fairness_gap", "sex", "selection_rate", 0.1, severity="critical", suspend=True
    )


def test_high_risk_systems_get_a_critical_gap_rule() -> None:
    limited = default_rules("limited", ["sex"])
    high = default_rules("high", ["sex", "age_band"])
    assert {r.severity for r in limited} == {"warning"}
    critical = [r for r in high if r.severity == "critical"]
    assert [r.subject for r in critical] == ["sex", "age_band"]
    assert all(r.threshold == 0.10 and not r.suspend for r in critical)
