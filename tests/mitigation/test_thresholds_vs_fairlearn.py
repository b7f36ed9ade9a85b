"""Group thresholds from the count table equal fairlearn's ThresholdOptimizer on the same data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fairlearn_peer import fairlearn_probability, fairlearn_rules, fairlearn_thresholds
from peer_decisions import adult_decisions, german_decisions

from ethica.datasets import default_datasets_dir
from ethica.errors import InputError
from ethica.fairness import count_table
from ethica.mitigation import ThresholdPolicy, group_thresholds

CRITERIA = ("demographic_parity", "equal_opportunity", "equalized_odds")
DATASETS = default_datasets_dir()
needs_datasets = pytest.mark.skipif(
    DATASETS is None, reason="reference data sets not found (../shared/datasets or ETHICA_DATASETS)"
)


def generated(rows: int = 20_000, *, decimals: int | None = 3, seed: int = 1) -> pd.DataFrame:
    """Three groups with different base rates and score shifts."""
    rng = np.random.default_rng(seed)
    group = rng.choice(["a", "b", "c"], rows, p=[0.5, 0.3, 0.2])
    shift = pd.Series(group).map({"a": 0.0, "b": -0.5, "c": 0.3}).to_numpy()
    label = rng.random(rows) < 1 / (1 + np.exp(-shift))
    logit = 2 * label - 1 + shift + rng.normal(0, 1.2, rows)
    score = 1 / (1 + np.exp(-logit))
    if decimals is not None:
        score = np.round(score, decimals)
    return pd.DataFrame(
        {"group": group, "y": label.astype(int), "score": score, "pred": (score > 0.5).astype(int)}
    )


def policy_of(frame: pd.DataFrame, criterion: str, *, score_bins: int = 1000) -> ThresholdPolicy:
    table = count_table(
        frame,
        sensitive_features="group",
        label="y",
        prediction="pred",
        score="score",
        score_bins=score_bins,
    )
    return group_thresholds(table, criterion=criterion)  # type: ignore[arg-type]


def assert_same_as_fairlearn(frame: pd.DataFrame, criterion: str) -> ThresholdPolicy:
    ours = policy_of(frame, criterion)
    theirs = fairlearn_thresholds(
        frame, criterion=criterion, group="group", label="y", score="score"
    )
    assert ours.rate == theirs._x_best
    expected = fairlearn_rules(theirs)
    assert set(ours.rules) == set(expected)
    for name, rule in ours.rules.items():
        got = (rule.p0, rule.threshold0, rule.p1, rule.threshold1, rule.p_ignore)
        np.testing.assert_allclose(got, expected[name], rtol=0, atol=1e-12)
    probability = ours.probability(frame["score"], frame["group"].astype(str).tolist())
    np.testing.assert_allclose(
        probability,
        fairlearn_probability(theirs, frame, group="group", score="score"),
        rtol=0,
        atol=1e-12,
    )
    return ours


@pytest.mark.parametrize("criterion", CRITERIA)
def test_generated_data_gets_fairlearns_thresholds(criterion: str) -> None:
    assert_same_as_fairlearn(generated(), criterion)


@pytest.mark.parametrize("criterion", CRITERIA)
def test_the_criterion_holds_in_expectation(criterion: str) -> None:
    policy = policy_of(generated(), criterion)
    groups = policy.expected[policy.expected["group"] != "overall"]
    rates = {
        "demographic_parity": ["selection_rate"],
        "equal_opportunity": ["true_positive_rate"],
        "equalized_odds": ["true_positive_rate", "false_positive_rate"],
    }[criterion]
    for rate in rates:
        assert np.ptp(groups[rate].to_numpy()) < 1e-9, rate
    assert np.ptp(groups[f"{rates[0]}_before"].to_numpy()) > 0.05  # there was a gap to close


@pytest.mark.parametrize("criterion", CRITERIA)
def test_binned_scores_agree_with_fairlearn_within_the_bin_width(criterion: str) -> None:
    """Continuous scores in 200 equal-width bins: fairlearn's accuracy and parity, to about a bin.

    The objective is flat near its best, so the chosen rate itself may move more than a bin;
    what the customer sees (accuracy, and the rates the criterion equalises) must not.
    """
    frame = generated(decimals=None)
    ours = policy_of(frame, criterion, score_bins=200)
    theirs = fairlearn_thresholds(
        frame, criterion=criterion, group="group", label="y", score="score"
    )
    label = frame["y"].to_numpy()
    for chance in (
        ours.probability(frame["score"], frame["group"].tolist()),
        fairlearn_probability(theirs, frame, group="group", score="score"),
    ):
        accuracy = float(np.mean(chance * label + (1 - chance) * (1 - label)))
        assert abs(accuracy - ours.objective_value) <= 0.005
        rates = []
        for name in ("a", "b", "c"):
            rows = (frame["group"] == name).to_numpy()
            positives = rows & (label == 1)
            rates.append(
                chance[rows].mean()
                if criterion == "demographic_parity"
                else chance[positives].mean()
            )
        assert np.ptp(rates) <= 0.02


def test_duckdb_on_parquet_gives_the_same_policy(tmp_path: Path) -> None:
    frame = generated()
    path = tmp_path / "decisions.parquet"
    frame.to_parquet(path)
    in_memory = policy_of(frame, "equalized_odds")
    table = count_table(
        str(path),
        sensitive_features="group",
        label="y",
        prediction="pred",
        score="score",
        engine="duckdb",
    )
    on_duckdb = group_thresholds(table, criterion="equalized_odds")
    assert on_duckdb.rules == in_memory.rules


def test_bad_input_says_what_to_fix() -> None:
    frame = generated(2_000)
    no_score = count_table(frame, sensitive_features="group", label="y", prediction="pred")
    with pytest.raises(InputError, match="score="):
        group_thresholds(no_score)
    one_label = frame.assign(y=np.where(frame["group"] == "c", 1, frame["y"]))
    with pytest.raises(InputError, match="'c' has only one label"):
        policy_of(one_label, "demographic_parity")
    with pytest.raises(InputError, match="criterion must be"):
        policy_of(frame, "equal_odds")
    with pytest.raises(InputError, match=r"no threshold for group\(s\) \['d'\]"):
        policy_of(frame, "demographic_parity").probability([0.5], ["d"])


@pytest.mark.datasets
@needs_datasets
@pytest.mark.parametrize("criterion", CRITERIA)
@pytest.mark.parametrize("load", [adult_decisions, german_decisions], ids=["adult", "german"])
def test_adult_and_german_get_fairlearns_thresholds(criterion: str, load: object) -> None:
    assert DATASETS is not None
    decisions = load(DATASETS)  # type: ignore[operator]
    frame = decisions.rename(columns={"sex": "group", "y_pred": "pred"})
    assert_same_as_fairlearn(frame[["group", "y", "pred", "score"]], criterion)
