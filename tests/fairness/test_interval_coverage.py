"""Confidence intervals cover the true value about as often as they claim (by simulation).

Each test draws many data sets from a known truth with a seeded generator and counts how often
the 95% interval contains the truth. With D draws the observed coverage has binomial standard
error sqrt(0.95 * 0.05 / D): 0.0015 for 20,000 draws (so 93-97% is a band of more than 10
standard errors), 0.0109 for 400 and 0.0178 for 150 (bands of 3 standard errors are used).
The methods are used where they are known to be near nominal (n >= 150, p in 0.2-0.5). A width
check next to each coverage check stops an interval passing by being too wide.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from ethica.fairness import audit, count_table, katz_ratio, newcombe, wilson

Z = 1.959963984540054  # two-sided 95% normal quantile
DRAWS = 20_000


def _band(draws: int, sigmas: float = 3.0) -> tuple[float, float]:
    """Nominal 0.95 plus or minus a number of binomial standard errors, at least 93-97%."""
    error = math.sqrt(0.95 * 0.05 / draws)
    return min(0.93, 0.95 - sigmas * error), max(0.97, 0.95 + sigmas * error)


@pytest.mark.parametrize(("n", "p"), [(200, 0.2), (500, 0.35), (1000, 0.5)])
def test_wilson_covers_the_proportion(n: int, p: float) -> None:
    rng = np.random.default_rng(1)
    x = rng.binomial(n, p, DRAWS)
    low, high = wilson(x, np.full(DRAWS, n))
    coverage = np.mean((low <= p) & (p <= high))
    assert 0.93 <= coverage <= 0.97, coverage
    expected_width = 2 * Z * math.sqrt(p * (1 - p) / n)
    assert np.mean(high - low) == pytest.approx(expected_width, rel=0.05)


def test_wilson_follows_the_confidence_level() -> None:
    rng = np.random.default_rng(2)
    n, p = 400, 0.3
    x = rng.binomial(n, p, DRAWS)
    low, high = wilson(x, np.full(DRAWS, n), confidence=0.8)
    assert 0.78 <= np.mean((low <= p) & (p <= high)) <= 0.82


SETTINGS_TWO = [(200, 0.3, 300, 0.2), (500, 0.45, 400, 0.5), (250, 0.25, 250, 0.4)]


@pytest.mark.parametrize(("n1", "p1", "n2", "p2"), SETTINGS_TWO)
def test_newcombe_covers_the_difference(n1: int, p1: float, n2: int, p2: float) -> None:
    rng = np.random.default_rng(3)
    x1, x2 = rng.binomial(n1, p1, DRAWS), rng.binomial(n2, p2, DRAWS)
    low, high = newcombe(x1, np.full(DRAWS, n1), x2, np.full(DRAWS, n2))
    truth = p1 - p2
    assert 0.93 <= np.mean((low <= truth) & (truth <= high)) <= 0.97
    expected_width = 2 * Z * math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    assert np.mean(high - low) == pytest.approx(expected_width, rel=0.05)


@pytest.mark.parametrize(("n1", "p1", "n2", "p2"), SETTINGS_TWO)
def test_katz_covers_the_ratio(n1: int, p1: float, n2: int, p2: float) -> None:
    rng = np.random.default_rng(4)
    x1, x2 = rng.binomial(n1, p1, DRAWS), rng.binomial(n2, p2, DRAWS)
    low, high = katz_ratio(x1, np.full(DRAWS, n1), x2, np.full(DRAWS, n2))
    truth = p1 / p2
    assert 0.93 <= np.mean((low <= truth) & (truth <= high)) <= 0.97
    # On the log scale the delta-method width is 2 z sqrt((1-p1)/(n1 p1) + (1-p2)/(n2 p2)).
    log_width = 2 * Z * math.sqrt((1 - p1) / (n1 * p1) + (1 - p2) / (n2 * p2))
    assert np.mean(np.log(high) - np.log(low)) == pytest.approx(log_width, rel=0.05)


def test_bootstrap_covers_each_groups_rates() -> None:
    # 400 independent groups in one audit: the bootstrap resamples each group on its own
    # (sizes fixed), so every group's interval is an independent draw of the coverage event.
    rng = np.random.default_rng(5)
    groups, size = 400, 400
    selection_truth = rng.uniform(0.2, 0.5, groups)
    tpr_truth = rng.uniform(0.5, 0.8, groups)
    base_rate = 0.4
    # P(decision | truth) chosen so that the selection rate is selection_truth:
    # s = b tpr + (1 - b) fpr  =>  fpr = (s - b tpr) / (1 - b), kept in [0, 1] by the ranges.
    fpr_truth = np.clip((selection_truth - base_rate * tpr_truth) / (1 - base_rate), 0, 1)
    selection_truth = base_rate * tpr_truth + (1 - base_rate) * fpr_truth
    group = np.repeat(np.arange(groups), size)
    label = rng.random(group.size) < base_rate
    chance = np.where(label, tpr_truth[group], fpr_truth[group])
    decision = rng.random(group.size) < chance
    table = count_table(
        sensitive_features={"g": np.char.zfill(group.astype(str), 3)},
        label=label.astype(np.int64),
        prediction=decision.astype(np.int64),
    )
    result = audit(table, sensitive_features=["g"], bootstrap=400, seed=11, min_group_size=0)
    rows = result.comparisons.set_index(["metric", "group"])
    low_band, high_band = _band(groups)
    for metric, truth, spread in (
        (
            "selection_rate",
            selection_truth,
            np.sqrt(selection_truth * (1 - selection_truth) / size),
        ),
        (
            "true_positive_rate",
            tpr_truth,
            np.sqrt(tpr_truth * (1 - tpr_truth) / (base_rate * size)),
        ),
    ):
        part = rows.loc[metric].sort_index()
        covered = (part["boot_value_low"] <= truth) & (truth <= part["boot_value_high"])
        assert low_band <= covered.mean() <= high_band, (metric, covered.mean())
        width = (part["boot_value_high"] - part["boot_value_low"]).to_numpy()
        assert np.mean(width) == pytest.approx(np.mean(2 * Z * spread), rel=0.1), metric


def test_bootstrap_covers_gaps_between_two_groups() -> None:
    # Separate two-group data sets, each audited on its own: the gap of a group to the whole
    # population (fixed group sizes: overall = (n_a p_a + n_b p_b) / n), and the summary gap
    # max - min = |p_a - p_b|. 150 data sets keep the run short; band of 3 standard errors.
    rng = np.random.default_rng(6)
    datasets, n_a, n_b, p_a, p_b = 150, 300, 500, 0.3, 0.45
    overall = (n_a * p_a + n_b * p_b) / (n_a + n_b)
    sex = np.repeat(["a", "b"], [n_a, n_b])
    chance = np.where(sex == "a", p_a, p_b)
    to_overall, between = [], []
    widths = []
    for draw in range(datasets):
        decision = (rng.random(sex.size) < chance).astype(np.int64)
        table = count_table(sensitive_features={"sex": sex}, prediction=decision)
        result = audit(
            table, sensitive_features=["sex"], bootstrap=400, seed=draw, min_group_size=0
        )
        row = result.comparisons.set_index("group").loc["a"]
        to_overall.append(
            row["boot_difference_low"] <= p_a - overall <= row["boot_difference_high"]
        )
        widths.append(row["boot_difference_high"] - row["boot_difference_low"])
        summary = result.summary.iloc[0]
        between.append(
            summary["boot_difference_low"] <= abs(p_a - p_b) <= summary["boot_difference_high"]
        )
    low_band, high_band = _band(datasets)
    assert low_band <= np.mean(to_overall) <= high_band, np.mean(to_overall)
    assert low_band <= np.mean(between) <= high_band, np.mean(between)
    # a - overall = (n_b / n) (a - b), so its standard error is that share of the gap's.
    share = n_b / (n_a + n_b)
    spread = share * math.sqrt(p_a * (1 - p_a) / n_a + p_b * (1 - p_b) / n_b)
    assert np.mean(widths) == pytest.approx(2 * Z * spread, rel=0.1)


def test_bootstrap_gap_interval_brackets_the_reported_gap_with_a_reference() -> None:
    # With reference=, "difference" is the gap to the reference group; its bootstrap interval
    # must be an interval for that same gap, not for the gap to the whole population.
    rng = np.random.default_rng(7)
    sex = np.repeat(["F", "M"], [400, 600])
    decision = (rng.random(sex.size) < np.where(sex == "F", 0.25, 0.45)).astype(np.int64)
    frame = pd.DataFrame({"sex": sex, "decision": decision})
    result = audit(
        frame,
        sensitive_features=["sex"],
        prediction="decision",
        reference={"sex": "M"},
        bootstrap=400,
        min_group_size=0,
    )
    row = result.comparisons.set_index("group").loc["F"]
    gap = frame.loc[sex == "F", "decision"].mean() - frame.loc[sex == "M", "decision"].mean()
    assert row["difference"] == pytest.approx(gap, abs=1e-12)
    assert row["boot_difference_low"] <= gap <= row["boot_difference_high"]
    # ... and about as wide as the analytic (Newcombe) interval of the same gap.
    analytic = row["difference_high"] - row["difference_low"]
    boot = row["boot_difference_high"] - row["boot_difference_low"]
    assert boot == pytest.approx(analytic, rel=0.15)


@pytest.mark.parametrize("n", [150, 400])
def test_exposure_per_item_intervals_cover_the_mean_and_the_gap(n: int) -> None:
    from ethica.fairness._intervals import mean_moments, normal_interval

    # Two groups placed at random in the top 20, the second pushed down (positions 5-20).
    discount = 1.0 / np.log2(np.arange(1, 21) + 1.0)
    truth_first, truth_second = discount.mean(), discount[4:].mean()
    rng = np.random.default_rng(3)
    draws = 4000
    first = discount[rng.integers(0, 20, (draws, n))]
    second = discount[4:][rng.integers(0, 16, (draws, n))]
    m1, v1 = mean_moments(first.sum(1), (first**2).sum(1), np.full(draws, n))
    m2, v2 = mean_moments(second.sum(1), (second**2).sum(1), np.full(draws, n))
    low, high = normal_interval(m1, v1)
    band = _band(draws)
    assert band[0] <= np.mean((low <= truth_first) & (truth_first <= high)) <= band[1]
    assert np.mean(high - low) == pytest.approx(2 * Z * discount.std() / math.sqrt(n), rel=0.05)
    d_low, d_high = normal_interval(m1 - m2, v1 + v2)
    gap = truth_first - truth_second
    assert band[0] <= np.mean((d_low <= gap) & (gap <= d_high)) <= band[1]
