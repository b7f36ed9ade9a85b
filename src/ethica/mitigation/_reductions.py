"""In-processing: fairlearn's reductions (ExponentiatedGradient, GridSearch), as an option.

The model is retrained under the criterion as a constraint; the decision never reads the
protected attribute, so this is a group-blind alternative to group thresholds. Needs the
``peers`` extra (fairlearn).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any, Literal

from ethica.errors import InputError

ReductionMethod = Literal["exponentiated_gradient", "grid_search"]
#: ethica's criterion -> fairlearn's constraint class.
CONSTRAINTS = {
    "demographic_parity": "DemographicParity",
    "equal_opportunity": "TruePositiveRateParity",
    "equalized_odds": "EqualizedOdds",
}
METHODS = {"exponentiated_gradient": "ExponentiatedGradient", "grid_search": "GridSearch"}


def reductions(
    estimator: Any,
    features: Any,
    label: Any,
    *,
    sensitive_features: Any,
    criterion: str = "equal_opportunity",
    method: ReductionMethod = "exponentiated_gradient",
    **options: Any,
) -> Any:
    """Fit ``estimator`` (scikit-learn API, e.g. LightGBM) under ``criterion`` with fairlearn.

    Returns the fitted fairlearn mitigator; its ``predict(features)`` needs no sensitive feature.
    ``options`` go to the fairlearn class (``eps``, ``max_iter``, ``grid_size``, ...).
    """
    if criterion not in CONSTRAINTS:
        raise InputError(f"criterion must be one of {sorted(CONSTRAINTS)}; got {criterion!r}")
    if method not in METHODS:
        raise InputError(f"method must be one of {sorted(METHODS)}; got {method!r}")
    try:
        fairlearn = import_module("fairlearn.reductions")
    except ImportError as error:
        raise InputError("reductions need fairlearn: pip install 'ethica[peers]'") from error
    constraint = getattr(fairlearn, CONSTRAINTS[criterion])()
    mitigator = getattr(fairlearn, METHODS[method])(estimator, constraints=constraint, **options)
    mitigator.fit(features, label, sensitive_features=sensitive_features)
    return mitigator


def reduced_model(mitigator: Any) -> Any:
    """Return the one model a fitted GridSearch chose, to store as a model version like any other.

    ExponentiatedGradient's result is a randomised mixture of models, which no model file
    holds; fit with ``method="grid_search"`` to get one model to store and serve.
    """
    chosen = getattr(mitigator, "best_idx_", None)
    if chosen is None or not hasattr(mitigator, "predictors_"):
        raise InputError(
            "only a fitted grid search yields one model to store (ExponentiatedGradient mixes "
            "several at random): fit with method='grid_search'"
        )
    return mitigator.predictors_[chosen]
