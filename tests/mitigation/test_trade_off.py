"""The trade-off sweep: the Pareto frontier and the stated recommendation rule hold."""

from __future__ import annotations

import numpy as np
import pytest
from test_thresholds_vs_fairlearn import generated

from ethica.fairness import count_table
from ethica.mitigation import group_thresholds, trade_off


@pytest.mark.parametrize("criterion", ["demographic_parity", "equal_opportunity", "equalized_odds"])
def test_recommendation_follows_the_stated_rule(criterion: str) -> None:
    frame = generated()
    table = count_table(
        frame, sensitive_features="group", label="y", prediction="pred", score="score"
    )
    swept = trade_off(table, criterion=criterion, materiality=0.05)  # type: ignore[arg-type]
    points = swept.points.set_index("candidate")
    assert "at most 0.05" in swept.rule
    within = points[points["criterion_gap"] <= 0.05]
    assert swept.recommended == within["accuracy"].idxmax()
    # The criterion's own thresholds close its gap, so they are always eligible.
    assert points.loc[f"thresholds: {criterion}", "criterion_gap"] < 1e-9
    own = group_thresholds(table, criterion=criterion)  # type: ignore[arg-type]
    assert points.loc[f"thresholds: {criterion}", "accuracy"] == pytest.approx(own.objective_value)
    # Pareto: no other candidate is at least as good on both and better on one.
    gap, accuracy = points["criterion_gap"].to_numpy(), points["accuracy"].to_numpy()
    for name, is_pareto in points["pareto"].items():
        g, a = points.loc[name, "criterion_gap"], points.loc[name, "accuracy"]
        dominated = np.any((gap <= g) & (accuracy >= a) & ((gap < g) | (accuracy > a)))
        assert bool(is_pareto) == (not dominated)
    assert points.loc["as decided", "pareto"]  # the most accurate, with the largest gaps


def test_when_no_candidate_is_within_materiality_the_smallest_gap_wins() -> None:
    table = count_table(
        generated(), sensitive_features="group", label="y", prediction="pred", score="score"
    )
    swept = trade_off(table, criterion="equalized_odds", materiality=-1.0)
    assert (
        swept.recommended == swept.points.loc[swept.points["criterion_gap"].idxmin(), "candidate"]
    )
