"""The trade-off sweep: the Pareto frontier and the stated recommendation rule hold."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest
from test_thresholds_vs_fairlearn import generated

from ethica.errors import InputError
from ethica.fairness import count_table
from ethica.mitigation import CostMatrix, group_thresholds, trade_off, trade_off_figure


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
    # Partial strengths move each group part of the way: the criterion's gap shrinks with them.
    partial = points[(points["strength"] > 0) & (points["strength"] < 1)]
    if criterion == "equalized_odds":
        assert partial.empty
    else:
        assert sorted(partial["strength"]) == [0.25, 0.5, 0.75]
        before = points.loc["as decided", "criterion_gap"]
        for strength, gap_at in zip(partial["strength"], partial["criterion_gap"], strict=True):
            assert gap_at == pytest.approx((1 - strength) * before, abs=1e-9)
        half = f"thresholds: {criterion} at 50%"
        policy = group_thresholds(table, criterion=criterion, strength=0.5)  # type: ignore[arg-type]
        assert points.loc[half, "accuracy"] == pytest.approx(policy.objective_value)


def test_strength_is_a_share_and_equalized_odds_moves_only_all_the_way() -> None:
    table = _table()
    with pytest.raises(InputError, match="strength is a share"):
        group_thresholds(table, criterion="equalized_odds", strength=0.5)
    with pytest.raises(InputError, match="strength is a share"):
        group_thresholds(table, criterion="demographic_parity", strength=1.5)
    with pytest.raises(InputError, match="strictly between 0 and 1"):
        trade_off(table, criterion="demographic_parity", strengths=(0.5, 1.0))
    unmoved = group_thresholds(table, criterion="demographic_parity", strength=0.0).expected
    rates = unmoved[unmoved["group"] != "overall"]
    assert rates["selection_rate"].to_numpy() == pytest.approx(
        rates["selection_rate_before"].to_numpy(), abs=1e-12
    )


def test_when_no_candidate_is_within_materiality_the_smallest_gap_wins() -> None:
    table = count_table(
        generated(), sensitive_features="group", label="y", prediction="pred", score="score"
    )
    swept = trade_off(table, criterion="equalized_odds", materiality=-1.0)
    assert (
        swept.recommended == swept.points.loc[swept.points["criterion_gap"].idxmin(), "candidate"]
    )


def _table() -> Any:
    return count_table(
        generated(), sensitive_features="group", label="y", prediction="pred", score="score"
    )


def test_each_point_carries_intervals_equal_to_the_peers_on_the_decisions_as_made() -> None:
    from statsmodels.stats.proportion import proportion_confint

    frame = generated()
    swept = trade_off(_table(), criterion="demographic_parity")
    points = swept.points.set_index("candidate")
    for name, row in points.iterrows():
        assert row["accuracy_low"] <= row["accuracy"] <= row["accuracy_high"], name
        for rate in ("selection_rate", "true_positive_rate", "false_positive_rate"):
            assert row[f"{rate}_gap_low"] <= row[f"{rate}_gap"] <= row[f"{rate}_gap_high"]
    made = points.loc["as decided"]
    right = int((frame["pred"] == frame["y"]).sum())
    low, high = proportion_confint(right, len(frame), alpha=0.05, method="wilson")
    assert (made["accuracy_low"], made["accuracy_high"]) == pytest.approx((low, high), abs=1e-12)
    rates = frame.groupby("group")["pred"].agg(["sum", "count"])
    shares = rates["sum"] / rates["count"]
    assert made["selection_rate_gap"] == pytest.approx(shares.max() - shares.min(), abs=1e-12)


def test_a_cost_matrix_makes_the_sweep_weigh_expected_profit() -> None:
    frame = generated()
    table = _table()
    costs = CostMatrix.parse("tp=120, fp=-600, fn=-20")
    assert costs.as_dict() == {"tp": 120.0, "fp": -600.0, "fn": -20.0, "tn": 0.0}
    swept = trade_off(table, criterion="equal_opportunity", costs=costs, materiality=0.05)
    assert swept.objective == "profit" and "most profitable" in swept.rule
    points = swept.points.set_index("candidate")
    values = np.select(
        [
            (frame["pred"] == 1) & (frame["y"] == 1),
            (frame["pred"] == 1) & (frame["y"] == 0),
            (frame["pred"] == 0) & (frame["y"] == 1),
        ],
        [120.0, -600.0, -20.0],
        0.0,
    )
    made = points.loc["as decided"]
    assert made["profit"] == pytest.approx(values.mean(), abs=1e-9)
    half = 1.959963984540054 * values.std() / np.sqrt(len(values))
    assert (made["profit_low"], made["profit_high"]) == pytest.approx(
        (values.mean() - half, values.mean() + half), abs=1e-9
    )
    # The thresholds' expected profit, from the rows themselves (within the bins' resolution).
    policy = group_thresholds(table, criterion="equal_opportunity")
    chance = policy.probability(frame["score"], frame["group"].tolist())
    good = frame["y"].to_numpy() == 1
    row_profit = np.where(good, chance * 120 + (1 - chance) * -20, chance * -600)
    assert points.loc["thresholds: equal_opportunity", "profit"] == pytest.approx(
        row_profit.mean(), abs=0.5
    )
    within = points[points["criterion_gap"] <= 0.05]
    assert swept.recommended == within["profit"].idxmax()


@pytest.mark.parametrize(
    ("text", "message"),
    [("tp=1", "at least tp and fp"), ("tp=1,fp=x", "not a number"), ("gain=3", "tp=VALUE")],
)
def test_a_bad_cost_matrix_says_how_to_write_one(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        CostMatrix.parse(text)


def test_the_chart_is_accessible_and_its_table_holds_the_same_numbers() -> None:
    swept = trade_off(_table(), criterion="demographic_parity")
    figure = trade_off_figure(swept)
    assert "<svg role='img' aria-labelledby='t-trade-off d-trade-off'" in figure
    assert "<title id='t-trade-off'>Accuracy against the demographic parity gap" in figure
    assert f"Recommended (filled): {swept.recommended}." in figure
    rows = re.findall(r"<tr><th scope='row'>(.*?)</th>(.*?)</tr>", figure)
    assert [name for name, _ in rows] == list(swept.points["candidate"])
    for (name, cells), point in zip(rows, swept.points.itertuples(), strict=True):
        assert f"{point.accuracy:.3f} ({point.accuracy_low:.3f} to" in cells
        assert f"{point.selection_rate_gap:.3f} ({point.selection_rate_gap_low:.3f} to" in cells
        said = "<td data-label='Recommended'>yes</td>" in cells
        assert said == (name == swept.recommended)
    assert figure.count("<circle") == len(swept.points)
