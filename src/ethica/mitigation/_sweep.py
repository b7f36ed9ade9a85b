"""The trade-off between accuracy and the gaps between groups, over candidate mitigations.

Candidates: the decisions as made, and each criterion's group thresholds, all evaluated (in
expectation) on the same count table. The recommendation rule is stated with the result: among
the candidates whose gap on the chosen criterion is at most ``materiality``, the most accurate;
when none is, the one with the smallest gap.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ethica.fairness import CountTable
from ethica.mitigation._thresholds import Criterion, group_thresholds

AS_DECIDED = "as decided"
#: The rates each criterion asks to be equal.
CRITERION_RATES: dict[str, tuple[str, ...]] = {
    "demographic_parity": ("selection_rate",),
    "equal_opportunity": ("true_positive_rate",),
    "equalized_odds": ("true_positive_rate", "false_positive_rate"),
}
RATES = ("selection_rate", "true_positive_rate", "false_positive_rate")


@dataclass(frozen=True)
class TradeOff:
    """Candidates with their accuracy, gaps, Pareto membership and the recommended one."""

    criterion: str
    points: pd.DataFrame
    recommended: str
    rule: str


def trade_off(table: CountTable, *, criterion: Criterion, materiality: float = 0.05) -> TradeOff:
    """Sweep the candidates, mark the Pareto frontier of accuracy vs the criterion's gap."""
    rows = []
    names: tuple[Criterion, ...] = ("demographic_parity", "equal_opportunity", "equalized_odds")
    for index, name in enumerate(names):
        policy = group_thresholds(table, criterion=name)
        expected = policy.expected
        groups = expected[expected["group"] != "overall"]
        overall = expected[expected["group"] == "overall"].iloc[0]
        if index == 0:
            rows.append(_row(AS_DECIDED, groups, float(overall["accuracy_before"]), "_before"))
        rows.append(_row(f"thresholds: {name}", groups, float(overall["accuracy"]), ""))
    points = pd.DataFrame(rows)
    gap = points[[f"{r}_gap" for r in CRITERION_RATES[criterion]]].max(axis=1)
    points["criterion_gap"] = gap
    points["pareto"] = [
        not ((gap <= g) & (points["accuracy"] >= a) & ((gap < g) | (points["accuracy"] > a))).any()
        for g, a in zip(gap, points["accuracy"], strict=True)
    ]
    within = (gap <= materiality).to_numpy()
    if within.any():
        accuracy = points["accuracy"].to_numpy(float)
        chosen = points["candidate"].iloc[int(np.argmax(np.where(within, accuracy, -np.inf)))]
    else:
        chosen = points["candidate"].iloc[int(np.argmin(gap.to_numpy(float)))]
    rule = (
        f"the most accurate candidate whose {criterion.replace('_', ' ')} gap is at most "
        f"{materiality:g}; if none is, the one with the smallest gap"
    )
    return TradeOff(criterion=criterion, points=points, recommended=str(chosen), rule=rule)


def _row(name: str, groups: pd.DataFrame, accuracy: float, suffix: str) -> dict[str, object]:
    row: dict[str, object] = {"candidate": name, "accuracy": accuracy}
    for rate in RATES:
        values = groups[f"{rate}{suffix}"]
        row[f"{rate}_gap"] = float(values.max() - values.min())
    return row
