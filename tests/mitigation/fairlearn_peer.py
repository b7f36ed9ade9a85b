"""fairlearn's ThresholdOptimizer run on given scores, and its rules in ethica's terms."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from fairlearn.postprocessing import ThresholdOptimizer
from sklearn.base import BaseEstimator, ClassifierMixin

#: ethica's criterion -> fairlearn's constraint of the same rate.
CONSTRAINTS = {
    "demographic_parity": "demographic_parity",
    "equal_opportunity": "true_positive_rate_parity",
    "equalized_odds": "equalized_odds",
}


class GivenScore(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """A fitted "model" whose prediction is the score column it is given."""

    def fit(self, features: Any, label: Any = None) -> GivenScore:
        """Nothing to learn."""
        self.fitted_ = True
        return self

    def predict(self, features: Any) -> npt.NDArray[np.float64]:
        """The first column is the score."""
        return np.asarray(features, dtype=np.float64)[:, 0]


def fairlearn_thresholds(
    frame: pd.DataFrame, *, criterion: str, group: str, label: str, score: str
) -> ThresholdOptimizer:
    """Fit fairlearn's ThresholdOptimizer on the scores as they are."""
    optimizer = ThresholdOptimizer(
        estimator=GivenScore().fit(None),
        constraints=CONSTRAINTS[criterion],
        prefit=True,
        predict_method="predict",
    )
    optimizer.fit(frame[[score]], frame[label], sensitive_features=frame[group].astype(str))
    return optimizer


def fairlearn_rules(optimizer: ThresholdOptimizer) -> dict[str, tuple[float, ...]]:
    """Per group: (p0, threshold0, p1, threshold1, p_ignore)."""
    rules = optimizer.interpolated_thresholder_.interpolation_dict
    return {
        str(group): (
            float(rule.p0),
            float(rule.operation0.threshold),
            float(rule.p1),
            float(rule.operation1.threshold),
            float(rule.get("p_ignore", 0.0)),
        )
        for group, rule in rules.items()
    }


def fairlearn_probability(
    optimizer: ThresholdOptimizer, frame: pd.DataFrame, *, group: str, score: str
) -> npt.NDArray[np.float64]:
    """fairlearn's probability of a favourable decision per row."""
    pmf = optimizer._pmf_predict(frame[[score]], sensitive_features=frame[group].astype(str))
    return np.asarray(pmf[:, 1], dtype=np.float64)
