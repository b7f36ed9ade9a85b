"""Why one class and not the next: attributions of the margin difference of two classes.

A multiclass model has one margin per class and chooses by their softmax, so the difference of
two margins is the log of the ratio of the two classes' probabilities. Its attribution is the
difference of the two classes' attributions, which adds up because each of them does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ethica.errors import InputError
from ethica.explain._attribution import (
    ADDITIVITY_TOLERANCE,
    Attribution,
    group_columns,
    model_row,
)
from ethica.explain._boosters import xgboost_tolerance
from ethica.explain._lightgbm_native import fast_contributions
from ethica.explain._sklearn_models import (
    final_step,
    is_linear,
    preprocess,
    spec_frame,
    standardizes_only,
)
from ethica.governance import MulticlassDecision, RankingDecision, SystemSpec
from ethica.scoring import Scored, Scorer

_FloatArray = np.ndarray[Any, np.dtype[np.float64]]


def chosen_and_runner_up(spec: SystemSpec, scored: Scored) -> tuple[str, str]:
    """Return the chosen class and the class with the next highest probability.

    For a ranking over declared items: the top item and the item ranked second.
    """
    classes = _classes(spec)
    probabilities = scored.probabilities
    if classes is None or probabilities is None:
        raise InputError("only a scored multiclass decision has a runner-up class")
    # Ties keep the spec's class order, as argmax does when it picks the chosen class.
    ranked = sorted(classes, key=lambda c: -probabilities[c])
    chosen = ranked[0] if isinstance(spec.decision, RankingDecision) else scored.outcome
    others = [c for c in ranked if c != chosen]
    return chosen, others[0]


def _classes(spec: SystemSpec) -> list[str] | None:
    """Name the model's outputs: a multiclass decision's classes or a ranking's items."""
    decision = spec.decision
    if isinstance(decision, MulticlassDecision):
        return decision.classes
    if isinstance(decision, RankingDecision):
        return decision.items
    return None


def attribute_contrast(
    scorer: Scorer,
    features: Mapping[str, Any],
    *,
    chosen: str,
    runner_up: str,
    background: pd.DataFrame | None = None,
) -> Attribution:
    """Attribute margin(chosen) − margin(runner-up) to the declared features.

    Parameters
    ----------
    scorer
        The system's loaded multiclass model bound to its spec.
    features
        The features the model received (after minimization), by declared name.
    chosen, runner_up
        Two of the spec's classes (``spec.decision.classes``, in the model's class order), or
        of a ranking's declared ``items``.
    background
        Training rows, for linear models that do not standardize their inputs first.

    Returns
    -------
    Attribution
        On the log-odds of ``chosen`` against ``runner_up``; positive contributions favour
        ``chosen``.
    """
    declared = _classes(scorer.spec)
    if declared is None:
        raise InputError("class contrasts need a multiclass decision (or a ranking of items)")
    unknown = sorted({chosen, runner_up} - set(declared))
    if unknown or chosen == runner_up:
        raise InputError(
            f"chosen and runner_up must be two different classes of {declared}; "
            f"got {chosen!r} and {runner_up!r}"
        )
    classes = len(declared)
    first, second = declared.index(chosen), declared.index(runner_up)
    model = scorer.model
    names = [f.name for f in scorer.spec.features]
    module = type(model).__module__
    if module.startswith("lightgbm"):
        blocks, margins, columns = lightgbm_attribution(scorer, features)
        method: Any = "lightgbm-treeshap"
    elif module.startswith("xgboost"):
        blocks, margins, columns = xgboost_attribution(scorer, features, names)
        method = "xgboost-treeshap"
    elif is_linear(final_step(model)):
        blocks, margins, columns = linear_attribution(scorer, features, background)
        method = "linear-exact"
    else:
        raise InputError(
            f"class contrasts support LightGBM, XGBoost and linear models; got "
            f"{type(final_step(model)).__name__}"
        )
    blocks, margins = _every_class(blocks, margins, classes)
    difference = blocks[first] - blocks[second]
    tolerance = ADDITIVITY_TOLERANCE
    if method == "xgboost-treeshap":  # float32 sums: each class's rounding bound, added
        tolerance = sum(
            xgboost_tolerance(scorer.xgboost_booster, blocks[k], float(margins[k]))
            for k in (first, second)
        )
    return Attribution(
        baseline=float(difference[-1]),
        contributions=group_columns(dict(zip(columns, difference[:-1], strict=True)), names),
        output=float(margins[first] - margins[second]),
        method=method,
        scale="log-odds",
        tolerance=tolerance,
    )


def _every_class(
    blocks: _FloatArray, margins: _FloatArray, classes: int
) -> tuple[_FloatArray, _FloatArray]:
    """Per-class blocks of a multi-output model; a binary model's first class has margin 0."""
    if blocks.shape[0] == 1 and classes == 2:
        return np.vstack([np.zeros_like(blocks), blocks]), np.array([0.0, margins[0]])
    if blocks.shape[0] != classes:
        raise InputError(
            f"the model has {blocks.shape[0]} outputs; the spec declares {classes} classes"
        )
    return blocks, margins


def lightgbm_attribution(
    scorer: Scorer, features: Mapping[str, Any]
) -> tuple[_FloatArray, _FloatArray, list[str]]:
    booster = getattr(scorer.model, "booster_", scorer.model)
    outputs = booster.num_model_per_iteration()
    row = model_row(scorer, features)
    fast = fast_contributions(booster)
    if fast is not None:
        flat, margins, columns = fast.contributions(row), fast.margins(row), fast.columns
    else:
        flat = np.asarray(booster.predict(row, pred_contrib=True, num_threads=1))[0]
        margins = np.ravel(np.asarray(booster.predict(row, raw_score=True, num_threads=1)))
        columns = list(booster.feature_name())
    # pred_contrib lays the classes side by side: (1, classes × (features + 1)).
    blocks = np.asarray(flat, dtype=np.float64).reshape(outputs, len(columns) + 1)
    return blocks, np.asarray(margins, dtype=np.float64), columns


def xgboost_attribution(
    scorer: Scorer, features: Mapping[str, Any], names: list[str]
) -> tuple[_FloatArray, _FloatArray, list[str]]:
    import xgboost

    booster = scorer.xgboost_booster
    columns = list(booster.feature_names or names)
    matrix = xgboost.DMatrix(model_row(scorer, features), feature_names=columns, nthread=1)
    contributions = np.asarray(booster.predict(matrix, pred_contribs=True), dtype=np.float64)
    margins = np.ravel(np.asarray(booster.predict(matrix, output_margin=True), dtype=np.float64))
    # Multiclass: (1, classes, features + 1); a single output: (1, features + 1).
    blocks = contributions[0] if contributions.ndim == 3 else contributions
    return blocks, margins, columns


def linear_attribution(
    scorer: Scorer, features: Mapping[str, Any], background: pd.DataFrame | None
) -> tuple[_FloatArray, _FloatArray, list[str]]:
    model = scorer.model
    final = final_step(model)
    coef = np.atleast_2d(np.asarray(final.coef_, dtype=np.float64))
    intercept = np.ravel(np.asarray(getattr(final, "intercept_", 0.0), dtype=np.float64))
    intercept = np.broadcast_to(intercept, (coef.shape[0],))
    frame = model_row(scorer, features)
    row, columns = preprocess(model, frame)
    if background is not None:
        mean = preprocess(model, spec_frame(scorer.spec, background))[0].mean(axis=0)
    elif standardizes_only(model):
        mean = np.zeros(coef.shape[1])  # the scaler centred the training inputs
    else:
        raise InputError(
            "exact linear attributions need a background frame of training rows (or a pipeline "
            "that starts with a StandardScaler)"
        )
    contributions = coef * (row[0] - mean)
    baselines = intercept + coef @ mean
    blocks = np.hstack([contributions, baselines[:, None]])
    margins = np.ravel(np.asarray(model.decision_function(frame), dtype=np.float64))
    return blocks, margins, columns
