"""Alert rules, when they fire, and the life of an alert: open, acknowledged, resolved.

A rule names what it watches (a fairness gap of a grouping, a feature's drift, an estimated or
realised performance figure), a threshold, the span it reads, the fewest decisions it needs and
a severity. It fires exactly when, over its span, the watched value crosses the threshold with
enough decisions behind it (and, for a gap, the audit finds it significant too). A critical
rule may suspend the system; the service decides, the rule only says so.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal

from ethica.errors import InputError

Watch = Literal["fairness_gap", "drift", "performance_drop"]
Severity = Literal["info", "warning", "critical"]
State = Literal["open", "acknowledged", "resolved"]

#: The span the default input-drift rule reads, and the fewest decisions it needs. A distance
#: between a sample and its own population shrinks as one over the root of its size: for a
#: feature of two dozen categories, Jensen-Shannon is about 0.1 (Evidently's threshold) from
#: noise alone at 300 rows, 0.05 at 1,000. Two weeks of a few thousand decisions a month clear
#: it; a week of them does not.
DRIFT_SPAN_DAYS = 14
DRIFT_MIN_COUNT = 1000

#: The moves an alert may make, and who may make them is the service's business.
TRANSITIONS: dict[State, tuple[State, ...]] = {
    "open": ("acknowledged", "resolved"),
    "acknowledged": ("resolved",),
    "resolved": (),
}


@dataclass(frozen=True)
class AlertRule:
    """One rule of a system's monitoring."""

    name: str
    watch: Watch
    subject: str  # a grouping ("sex", "sex × age_band"), a feature, or "all"
    metric: str  # "selection_rate", "drift_score", "accuracy", ...
    threshold: float
    span_days: int = 7
    min_count: int = 30
    severity: Severity = "warning"
    require_significant: bool = True
    suspend: bool = False

    def __post_init__(self) -> None:
        if self.span_days < 1 or self.min_count < 0:
            raise InputError(f"rule {self.name!r}: span_days >= 1 and min_count >= 0")
        if not math.isfinite(self.threshold) or self.threshold < 0:
            raise InputError(f"rule {self.name!r}: the threshold is a non-negative number")
        if self.suspend and self.severity != "critical":
            raise InputError(f"rule {self.name!r}: only a critical rule may suspend a system")


@dataclass(frozen=True)
class Observation:
    """What a rule reads over its span: the value, how many decisions, and significance.

    A drift observation's value is 1 where its test says the feature drifted, else 0;
    ``score`` and ``score_threshold`` are that test's own figure (a distance or a p-value) and
    the threshold it was judged by, so an alert can say how far the feature moved.
    """

    subject: str
    metric: str
    value: float
    count: int
    significant: bool = True
    group: str = ""
    end: datetime | None = None
    score: float | None = None
    score_threshold: float | None = None


def fires(rule: AlertRule, observation: Observation) -> bool:
    """Whether ``rule`` fires on ``observation``.

    A gap or a drop fires at or above the threshold in absolute value; a drift score fires at
    or above it too (distances), both only with ``min_count`` decisions behind them, and a gap
    only when significant if the rule asks for it. A value that is not a number never fires.
    """
    if observation.subject != rule.subject and rule.subject != "all":
        return False
    if observation.metric != rule.metric or not math.isfinite(observation.value):
        return False
    if observation.count < rule.min_count:
        return False
    if rule.watch == "fairness_gap" and rule.require_significant and not observation.significant:
        return False
    return abs(observation.value) >= rule.threshold


@dataclass(frozen=True)
class Alert:
    """A rule that fired, and what happened to it since."""

    rule: str
    severity: Severity
    subject: str
    group: str
    metric: str
    value: float
    threshold: float
    state: State = "open"
    history: tuple[tuple[State, str, str], ...] = field(default_factory=tuple)
    score: float | None = None
    score_threshold: float | None = None

    def move(self, to: State, *, who: str, why: str) -> Alert:
        """Acknowledge or resolve; the history keeps who did it and why."""
        if to not in TRANSITIONS[self.state]:
            raise InputError(f"an alert that is {self.state} cannot become {to}")
        if not who.strip() or not why.strip():
            raise InputError("say who acknowledges or resolves an alert, and why")
        return replace(self, state=to, history=(*self.history, (to, who, why)))


def evaluate(rules: Sequence[AlertRule], observations: Sequence[Observation]) -> list[Alert]:
    """Raise an alert for every (rule, observation) pair that fires, most severe first."""
    alerts = [
        Alert(
            rule=rule.name,
            severity=rule.severity,
            subject=observation.subject,
            group=observation.group,
            metric=observation.metric,
            value=observation.value,
            threshold=rule.threshold,
            score=observation.score,
            score_threshold=observation.score_threshold,
        )
        for rule in rules
        for observation in observations
        if fires(rule, observation)
    ]
    return most_severe_first(alerts)


def most_severe_first(alerts: Sequence[Alert]) -> list[Alert]:
    """Sort alerts as :func:`evaluate` does: critical first, then by rule, subject and group."""
    order = {"critical": 0, "warning": 1, "info": 2}
    return sorted(alerts, key=lambda a: (order[a.severity], a.rule, a.subject, a.group))


def default_rules(risk_tier: str, groupings: Sequence[str]) -> list[AlertRule]:
    """Return the rules a system gets unless its spec says otherwise (stricter for high risk).

    Per grouping: a material (5 points) and significant selection-rate gap over 7 days warns; for
    a high-risk system a 10-point gap is critical (it does not suspend unless the spec says so).
    Drift of any feature past Evidently's default threshold warns, read over
    :data:`DRIFT_SPAN_DAYS` with at least :data:`DRIFT_MIN_COUNT` decisions counted.
    """
    rules = [
        AlertRule(f"selection-gap-{g}", "fairness_gap", g, "selection_rate", 0.05)
        for g in groupings
    ]
    if risk_tier == "high":
        rules += [
            AlertRule(
                f"selection-gap-{g}-critical",
                "fairness_gap",
                g,
                "selection_rate",
                0.10,
                severity="critical",
            )
            for g in groupings
        ]
    # A drift observation's value is 1 where the feature's drift test (Evidently's default
    # rule, or the system's override) says it drifted, else 0.
    rules.append(
        AlertRule(
            "input-drift",
            "drift",
            "all",
            "drifted",
            1.0,
            span_days=DRIFT_SPAN_DAYS,
            min_count=DRIFT_MIN_COUNT,
        )
    )
    return rules
