"""The binary audit against fairlearn and scikit-learn on real data (Adult, German credit).

A model is trained once per data set in the test; its decisions on held-out rows are audited
by ethica and by fairlearn's MetricFrame with scikit-learn's metric functions, group by group.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
from fairlearn import metrics as fl
from peer_decisions import adult_decisions, german_decisions
from sklearn import metrics as sk

from ethica.datasets import default_datasets_dir
from ethica.fairness import Audit, audit

DATASETS = default_datasets_dir()
pytestmark = [
    pytest.mark.datasets,
    pytest.mark.skipif(
        DATASETS is None,
        reason="reference data sets not found (../shared/datasets or ETHICA_DATASETS)",
    ),
]
TOLERANCE = 1e-9


# Each of our metrics, as fairlearn / scikit-learn compute it from (y_true, y_pred).
# zero_division=nan makes scikit-learn say "undefined" where we do (a group with no predicted
# positives has no precision) instead of warning and returning 0. fairlearn's rate functions
# return 0 for a group without positives (TPR) or negatives (FPR) where we return NaN;
# _assert_close requires the NaN positions to agree, so it fails loudly if such a group appears
# (none does in these held-out sets; test_zero_division_differs_from_fairlearn shows the case).
PEER_METRICS: dict[str, Callable[..., float]] = {
    "selection_rate": fl.selection_rate,
    "true_positive_rate": fl.true_positive_rate,
    "false_positive_rate": fl.false_positive_rate,
    "true_negative_rate": fl.true_negative_rate,
    "false_negative_rate": fl.false_negative_rate,
    "precision": functools.partial(sk.precision_score, zero_division=np.nan),
    "accuracy": sk.accuracy_score,
    "f1": functools.partial(sk.f1_score, zero_division=np.nan),
    "count": fl.count,
}


@dataclass(frozen=True)
class Scored:
    """Held-out rows with the model's decision and score, and the sensitive features to audit."""

    frame: pd.DataFrame  # sensitive features, y (0/1 truth), y_pred (0/1), score
    features: tuple[str, str]

    @functools.cached_property
    def audited(self) -> Audit:
        # Scores rounded to 3 decimals have at most 1001 distinct values: with score_bins=1001
        # every distinct score keeps its own bin, so our ROC AUC is exact, not binned.
        return audit(
            self.frame,
            sensitive_features=list(self.features),
            label="y",
            prediction="y_pred",
            score="score",
            min_group_size=0,
            score_bins=1001,
        )

    @functools.cached_property
    def groupings(self) -> list[tuple[str, ...]]:
        a, b = self.features
        return [(a,), (b,), (a, b)]

    @functools.cached_property
    def peer_frames(self) -> dict[tuple[str, ...], fl.MetricFrame]:
        # fairlearn calls a Python function per group and metric (slow): build each frame once.
        return {
            grouping: fl.MetricFrame(
                metrics=PEER_METRICS,
                y_true=self.frame["y"],
                y_pred=self.frame["y_pred"],
                sensitive_features=self.frame[list(grouping)],
            )
            for grouping in self.groupings
        }


@pytest.fixture(scope="module")
def adult() -> Scored:
    assert DATASETS is not None
    return Scored(frame=adult_decisions(DATASETS).copy(), features=("sex", "race"))


@pytest.fixture(scope="module")
def german() -> Scored:
    assert DATASETS is not None
    return Scored(frame=german_decisions(DATASETS).copy(), features=("sex", "age_band"))


@pytest.fixture(params=["adult", "german"])
def scored(request: pytest.FixtureRequest) -> Scored:
    result: Scored = request.getfixturevalue(request.param)
    return result


def test_metric_frame_by_group_matches(scored: Scored) -> None:
    for grouping in scored.groupings:
        ours = scored.audited.by_group(" × ".join(grouping))
        peer = scored.peer_frames[grouping].by_group
        assert list(peer.index) == list(ours.index), grouping
        for metric in PEER_METRICS:
            _assert_close(ours[metric], peer[metric], f"{grouping} {metric}")


def test_balanced_accuracy_matches_where_both_classes_occur(scored: Scored) -> None:
    # scikit-learn averages recall over the classes present in y_true, so in a group where
    # every row has the same truth it reports that one recall; ours is (TPR + TNR) / 2 and NaN
    # there, since one of the two rates is undefined. Groups with both classes must agree.
    frame = scored.frame
    for grouping in scored.groupings:
        ours = scored.audited.by_group(" × ".join(grouping))["balanced_accuracy"]
        for key, part in frame.groupby(list(grouping)):
            label = key if len(grouping) > 1 else key[0]
            if part["y"].nunique() == 2:
                expected = sk.balanced_accuracy_score(part["y"], part["y_pred"])
                assert ours.loc[label] == pytest.approx(expected, abs=TOLERANCE), label
            else:
                assert np.isnan(ours.loc[label])


def test_roc_auc_and_mean_score_match(scored: Scored) -> None:
    frame = scored.frame
    for grouping in scored.groupings:
        ours = scored.audited.by_group(" × ".join(grouping))
        checked = 0
        for key, part in frame.groupby(list(grouping)):
            label = key if len(grouping) > 1 else key[0]
            assert ours.loc[label, "mean_score"] == pytest.approx(
                part["score"].mean(), abs=TOLERANCE
            )
            if part["y"].nunique() == 2:  # AUC is undefined with one class (sklearn warns)
                expected = sk.roc_auc_score(part["y"], part["score"])
                assert ours.loc[label, "roc_auc"] == pytest.approx(expected, abs=TOLERANCE), label
                checked += 1
            else:
                assert np.isnan(ours.loc[label, "roc_auc"])
        assert checked >= 2
    overall = sk.roc_auc_score(frame["y"], frame["score"])
    assert scored.audited.overall.values["roc_auc"][0] == pytest.approx(overall, abs=TOLERANCE)


def test_binned_roc_auc_is_within_the_tie_bound(adult: Scored) -> None:
    # Raw probabilities have ~16,000 distinct values: the default 1000 equal-width bins turn
    # positive-negative pairs less than one bin width apart into ties (counted as 1/2), so
    # |AUC_binned - AUC_exact| <= 1/2 * share of such pairs. That bound is computed here
    # without our bins, and the binned AUC must fall within it (and it must be small).
    rng = np.random.default_rng(0)
    frame = adult.frame.assign(
        score=adult.frame["score"] + rng.uniform(-5e-4, 5e-4, len(adult.frame))
    )
    binned = audit(frame, sensitive_features=["sex"], label="y", prediction="y_pred", score="score")
    assert binned.table.bins is not None and binned.table.bins.method == "equal_width"
    width = (frame["score"].max() - frame["score"].min()) / 1000
    for sex, part in frame.groupby("sex"):
        positives = np.sort(part.loc[part["y"] == 1, "score"].to_numpy())
        negatives = np.sort(part.loc[part["y"] == 0, "score"].to_numpy())
        close = np.searchsorted(negatives, positives + width) - np.searchsorted(
            negatives, positives - width
        )
        bound = 0.5 * close.sum() / (positives.size * negatives.size)
        exact = sk.roc_auc_score(part["y"], part["score"])
        ours = binned.by_group("sex").loc[sex, "roc_auc"]
        assert abs(ours - exact) <= bound + TOLERANCE
        assert bound < 0.01


# fairlearn's named disparity functions and the criterion of the audit they correspond to.
DISPARITIES: list[tuple[Callable[..., float], str, str]] = [
    (fl.demographic_parity_difference, "demographic_parity", "difference"),
    (fl.demographic_parity_ratio, "demographic_parity", "ratio"),
    (fl.equalized_odds_difference, "equalized_odds", "difference"),
    (fl.equalized_odds_ratio, "equalized_odds", "ratio"),
    (fl.equal_opportunity_difference, "equal_opportunity", "difference"),
    (fl.equal_opportunity_ratio, "equal_opportunity", "ratio"),
]
RATE_METRICS = [m for m in PEER_METRICS if m.endswith("rate")] + ["precision", "accuracy", "f1"]


@pytest.mark.parametrize("method", ["between_groups", "to_overall"])
@pytest.mark.parametrize(
    ("peer", "criterion", "kind"), DISPARITIES, ids=[d[0].__name__ for d in DISPARITIES]
)
def test_named_disparities_match_on_the_intersection(
    scored: Scored, method: str, peer: Callable[..., float], criterion: str, kind: str
) -> None:
    # fairlearn builds fresh MetricFrames in every call (slow), so the named functions run on
    # the finest grouping, where groups are smallest; every grouping is checked metric by
    # metric in test_gaps_per_metric_match.
    grouping = scored.groupings[-1]
    frame = scored.frame
    expected = peer(
        frame["y"], frame["y_pred"], sensitive_features=frame[list(grouping)], method=method
    )
    criteria = scored.audited.criteria
    row = criteria[
        (criteria["grouping"] == " × ".join(grouping)) & (criteria["criterion"] == criterion)
    ]
    column = kind if method == "between_groups" else f"{kind}_to_overall"
    assert float(row[column].iloc[0]) == pytest.approx(expected, abs=TOLERANCE)


@pytest.mark.parametrize("method", ["between_groups", "to_overall"])
def test_gaps_per_metric_match(scored: Scored, method: str) -> None:
    for grouping in scored.groupings:
        peer = scored.peer_frames[grouping]
        label = " × ".join(grouping)
        differences = peer.difference(method=method)
        ratios = peer.ratio(method=method)
        for metric in RATE_METRICS:
            ours = scored.audited.difference(metric, method=method, grouping=label)
            assert ours == pytest.approx(differences[metric], abs=TOLERANCE), (label, metric)
            ours = scored.audited.ratio(metric, method=method, grouping=label)
            assert ours == pytest.approx(ratios[metric], abs=TOLERANCE), (label, metric)
        # Equalized odds is the worse of the TPR and FPR gaps, as in fairlearn's "worst_case".
        criteria = scored.audited.criteria
        row = criteria[
            (criteria["grouping"] == label) & (criteria["criterion"] == "equalized_odds")
        ]
        column = "difference" if method == "between_groups" else "difference_to_overall"
        worst = max(differences["true_positive_rate"], differences["false_positive_rate"])
        assert float(row[column].iloc[0]) == pytest.approx(worst, abs=TOLERANCE), label


def test_zero_division_differs_from_fairlearn() -> None:
    # A group with no positive truth has no true positive rate: we say NaN, fairlearn says 0.
    frame = pd.DataFrame({"g": ["a", "a", "b", "b"], "y": [0, 0, 1, 0], "y_pred": [0, 1, 1, 0]})
    ours = audit(frame, sensitive_features=["g"], label="y", prediction="y_pred", min_group_size=0)
    peer = fl.MetricFrame(
        metrics=fl.true_positive_rate,
        y_true=frame["y"],
        y_pred=frame["y_pred"],
        sensitive_features=frame["g"],
    ).by_group
    assert np.isnan(ours.by_group("g").loc["a", "true_positive_rate"])
    assert peer.loc["a"] == 0.0
    assert ours.by_group("g").loc["b", "true_positive_rate"] == peer.loc["b"] == 1.0


def _assert_close(ours: pd.Series, peer: pd.Series, what: str) -> None:
    ours_values = ours.to_numpy(dtype=np.float64)
    peer_values = peer.to_numpy(dtype=np.float64)
    np.testing.assert_array_equal(np.isnan(ours_values), np.isnan(peer_values), err_msg=what)
    np.testing.assert_allclose(ours_values, peer_values, rtol=0, atol=TOLERANCE, err_msg=what)
