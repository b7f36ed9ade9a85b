"""Reductions (fairlearn) as an option: a group-blind model with a smaller gap."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from ethica.errors import InputError
from ethica.fairness import audit
from ethica.mitigation import reduced_model, reductions


def applicants(rows: int = 4_000, seed: int = 5) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    group = rng.choice(["a", "b"], rows)
    proxy = (group == "a") + rng.normal(0, 0.5, rows)  # a feature that carries the group
    merit = rng.normal(0, 1, rows)
    label = (merit + 0.8 * (group == "a") + rng.normal(0, 0.7, rows) > 0.4).astype(int)
    return pd.DataFrame({"merit": merit, "proxy": proxy}), label, group


def selection_gap(prediction: np.ndarray, label: np.ndarray, group: np.ndarray) -> float:
    result = audit(sensitive_features=group, label=label, prediction=prediction, min_group_size=0)
    rates = result.metrics["sensitive_feature_0"].frame()["selection_rate"]
    return float(rates.max() - rates.min())


# fairlearn's reductions use pandas idioms pandas 3 deprecates (.at on a new key, setting
# an item of another dtype); only warnings raised from fairlearn's modules are silenced.
@pytest.mark.filterwarnings("ignore::pandas.errors.Pandas4Warning:fairlearn")
@pytest.mark.parametrize("method", ["exponentiated_gradient", "grid_search"])
def test_reductions_narrow_the_selection_gap_without_the_group_at_decision(method: str) -> None:
    features, label, group = applicants()
    plain = LogisticRegression().fit(features, label).predict(features)
    fitted = reductions(
        LogisticRegression(),
        features,
        label,
        sensitive_features=group,
        criterion="demographic_parity",
        method=method,  # type: ignore[arg-type]
    )
    mitigated = np.asarray(fitted.predict(features))  # no sensitive feature at decision time
    assert selection_gap(mitigated, label, group) < 0.5 * selection_gap(plain, label, group)


def test_unknown_criterion_is_refused() -> None:
    features, label, group = applicants(200)
    with pytest.raises(InputError, match="criterion must be one of"):
        reductions(LogisticRegression(), features, label, sensitive_features=group, criterion="x")


@pytest.mark.filterwarnings("ignore::pandas.errors.Pandas4Warning:fairlearn")
def test_only_a_grid_search_yields_one_model_to_store() -> None:
    features, label, group = applicants(600)
    searched = reductions(
        LogisticRegression(), features, label, sensitive_features=group, method="grid_search"
    )
    model = reduced_model(searched)
    assert isinstance(model, LogisticRegression)
    assert (model.predict(features) == searched.predict(features)).all()
    mixed = reductions(LogisticRegression(), features, label, sensitive_features=group)
    with pytest.raises(InputError, match="method='grid_search'"):
        reduced_model(mixed)
