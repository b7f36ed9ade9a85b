"""The binary audit against AIF360 0.6 (ClassificationMetric) on Adult and German credit.

AIF360 compares an unprivileged group with a privileged one; ethica does the same with a
reference group (``reference={"sex": "Male"}``), whose gaps land in ``Audit.comparisons``.
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pytest
from peer_decisions import adult_decisions, german_decisions

from ethica.datasets import default_datasets_dir
from ethica.fairness import Audit, audit

with warnings.catch_warnings():
    # AIF360's modules carry docstrings with invalid escape sequences ("\e", "\s"); Python
    # reports them when it compiles those files. Nothing else is silenced.
    for category in (DeprecationWarning, SyntaxWarning):
        warnings.filterwarnings("ignore", message="invalid escape sequence", category=category)
    from aif360.datasets import BinaryLabelDataset
    from aif360.metrics import ClassificationMetric

DATASETS = default_datasets_dir()
pytestmark = [
    pytest.mark.datasets,
    pytest.mark.skipif(
        DATASETS is None,
        reason="reference data sets not found (../shared/datasets or ETHICA_DATASETS)",
    ),
]
TOLERANCE = 1e-9

# ethica's metric name -> AIF360's ClassificationMetric method of the same quantity.
PER_GROUP = {
    "selection_rate": "selection_rate",
    "base_rate": "base_rate",
    "true_positive_rate": "true_positive_rate",
    "false_positive_rate": "false_positive_rate",
    "true_negative_rate": "true_negative_rate",
    "false_negative_rate": "false_negative_rate",
    "precision": "positive_predictive_value",
    "negative_predictive_value": "negative_predictive_value",
    "false_discovery_rate": "false_discovery_rate",
    "false_omission_rate": "false_omission_rate",
    "accuracy": "accuracy",
}


@dataclass(frozen=True)
class Case:
    """Held-out decisions with the sensitive features as text, and the privileged groups."""

    frame: pd.DataFrame  # features as text, y and y_pred as 0/1
    reference: dict[str, str]

    @functools.cached_property
    def audited(self) -> Audit:
        return audit(
            self.frame,
            sensitive_features=list(self.reference),
            label="y",
            prediction="y_pred",
            reference=self.reference,
            min_group_size=0,
        )

    @functools.cached_property
    def codes(self) -> dict[str, dict[str, float]]:
        """AIF360 wants numbers: each feature's values coded 0, 1, ... in sorted order."""
        return {
            f: {v: float(i) for i, v in enumerate(sorted(self.frame[f].unique()))}
            for f in self.reference
        }

    @functools.cached_property
    def datasets(self) -> tuple[Any, Any]:
        """The true labels and the decisions, as two AIF360 data sets."""
        numeric = pd.DataFrame({f: self.frame[f].map(c) for f, c in self.codes.items()})
        truth = numeric.assign(y=self.frame["y"].astype(float))
        decided = numeric.assign(y=self.frame["y_pred"].astype(float))
        made = [
            BinaryLabelDataset(
                df=part,
                label_names=["y"],
                protected_attribute_names=list(self.reference),
                favorable_label=1.0,
                unfavorable_label=0.0,
            )
            for part in (truth, decided)
        ]
        return made[0], made[1]

    def metric(self, group: dict[str, str], privileged: dict[str, str]) -> Any:
        truth, decided = self.datasets
        return ClassificationMetric(
            truth,
            decided,
            unprivileged_groups=[{f: self.codes[f][v] for f, v in group.items()}],
            privileged_groups=[{f: self.codes[f][v] for f, v in privileged.items()}],
        )


@pytest.fixture(scope="module")
def adult() -> Case:
    assert DATASETS is not None
    return Case(frame=adult_decisions(DATASETS).copy(), reference={"sex": "Male", "race": "White"})


@pytest.fixture(scope="module")
def german() -> Case:
    assert DATASETS is not None
    return Case(
        frame=german_decisions(DATASETS).copy(), reference={"sex": "Male", "age_band": "25+"}
    )


@pytest.fixture(params=["adult", "german"])
def case(request: pytest.FixtureRequest) -> Case:
    result: Case = request.getfixturevalue(request.param)
    return result


def _comparisons(
    case: Case, grouping: tuple[str, ...]
) -> list[tuple[dict[str, str], pd.DataFrame]]:
    """Each non-reference group of a grouping, with its comparison rows indexed by metric."""
    rows = case.audited.comparisons
    rows = rows[rows["grouping"] == " × ".join(grouping)]
    out = []
    for label, part in rows.groupby("group", sort=True):
        values = dict(zip(grouping, str(label).split(" × "), strict=True))
        if values != {f: case.reference[f] for f in grouping}:
            out.append((values, part.set_index("metric")))
    return out


def _groupings(case: Case) -> list[tuple[str, ...]]:
    a, b = case.reference
    return [(a,), (b,), (a, b)]


def test_gaps_to_the_privileged_group_match(case: Case) -> None:
    compared = 0
    for grouping in _groupings(case):
        privileged = {f: case.reference[f] for f in grouping}
        for group, rows in _comparisons(case, grouping):
            peer = case.metric(group, privileged)
            what = f"{group} vs {privileged}"
            selection, tpr, fpr = (
                rows.loc[m] for m in ("selection_rate", "true_positive_rate", "false_positive_rate")
            )
            assert selection["difference"] == pytest.approx(
                peer.statistical_parity_difference(), abs=TOLERANCE
            ), what
            assert selection["ratio"] == pytest.approx(peer.disparate_impact(), abs=TOLERANCE), what
            assert tpr["difference"] == pytest.approx(
                peer.equal_opportunity_difference(), abs=TOLERANCE
            ), what
            average_odds = 0.5 * (fpr["difference"] + tpr["difference"])
            assert average_odds == pytest.approx(peer.average_odds_difference(), abs=TOLERANCE), (
                what
            )
            assert selection["compared_to"] == " × ".join(privileged.values())
            compared += 1
    assert compared >= 3


def test_rates_of_each_group_and_of_the_privileged_group_match(case: Case) -> None:
    for grouping in _groupings(case):
        privileged = {f: case.reference[f] for f in grouping}
        for group, rows in _comparisons(case, grouping):
            peer = case.metric(group, privileged)
            assert rows["count"].iloc[0] == peer.num_instances(privileged=False)
            for ours, theirs in PER_GROUP.items():
                method = getattr(peer, theirs)
                what = f"{ours} of {group}"
                assert rows.loc[ours, "value"] == pytest.approx(
                    method(privileged=False), abs=TOLERANCE
                ), what
                assert rows.loc[ours, "reference_value"] == pytest.approx(
                    method(privileged=True), abs=TOLERANCE
                ), what
