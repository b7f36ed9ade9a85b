"""Attributions of scikit-learn models: linear (exact), trees (shap), any other (permutation).

Also the pipeline helpers that :mod:`ethica.explain._contrast` shares: the final estimator,
its input for a frame and the names of its columns, and the spec's frame of background rows.
"""

from __future__ import annotations

import math
import warnings
import weakref
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ethica.errors import InputError
from ethica.explain._attribution import (
    Attribution,
    Scale,
    group_columns,
    model_row,
    scale_of,
)
from ethica.governance import BinaryDecision, SystemSpec
from ethica.scoring import Scorer

_FloatArray = np.ndarray[Any, np.dtype[np.float64]]


def final_step(model: Any) -> Any:
    steps = getattr(model, "steps", None)
    return steps[-1][1] if steps else model


def preprocess(model: Any, frame: pd.DataFrame) -> tuple[_FloatArray, list[str]]:
    """Compute the final estimator's input for ``frame`` and the names of its columns."""
    if getattr(model, "steps", None) is None or len(model.steps) == 1:
        columns = list(getattr(final_step(model), "feature_names_in_", frame.columns))
        return np.asarray(frame[columns], dtype=np.float64), [str(c) for c in columns]
    transform = model[:-1]
    values = transform.transform(frame)
    if hasattr(values, "toarray"):
        values = values.toarray()
    return np.asarray(values, dtype=np.float64), [str(c) for c in transform.get_feature_names_out()]


def is_linear(estimator: Any) -> bool:
    coef = getattr(estimator, "coef_", None)
    return coef is not None and np.asarray(coef).ndim <= 2 and np.asarray(coef).size > 0


def is_tree(estimator: Any) -> bool:
    return hasattr(estimator, "estimators_") or hasattr(estimator, "tree_")


def sklearn_margin(model: Any, frame: pd.DataFrame, spec: SystemSpec) -> _FloatArray:
    if isinstance(spec.decision, BinaryDecision):
        if hasattr(model, "decision_function"):
            return np.ravel(np.asarray(model.decision_function(frame), dtype=np.float64))
        probability = np.asarray(model.predict_proba(frame), dtype=np.float64)[:, 1]
        clipped = np.clip(probability, 1e-12, 1 - 1e-12)
        return np.asarray(np.log(clipped / (1 - clipped)), dtype=np.float64)
    return np.ravel(np.asarray(model.predict(frame), dtype=np.float64))


def linear_attribution(
    scorer: Scorer, features: Mapping[str, Any], names: list[str], background: pd.DataFrame | None
) -> Attribution:
    model = scorer.model
    final = final_step(model)
    coef = np.asarray(final.coef_, dtype=np.float64)
    if coef.ndim == 2 and coef.shape[0] != 1:
        raise InputError("attributions of multiclass linear models are not supported")
    coef = coef.ravel()
    row, columns = preprocess(model, model_row(scorer, features))
    if background is not None:
        mean = preprocess(model, spec_frame(scorer.spec, background))[0].mean(axis=0)
    elif standardizes_only(model):
        # The scaler centred the training inputs: their mean is zero in the model's input space.
        mean = np.zeros_like(coef)
    else:
        raise InputError(
            "exact linear attributions need a background frame of training rows (or a pipeline "
            "that starts with a StandardScaler)"
        )
    contributions = coef * (row[0] - mean)
    intercept = float(np.ravel(np.asarray(getattr(final, "intercept_", 0.0), dtype=np.float64))[0])
    output = float(sklearn_margin(model, model_row(scorer, features), scorer.spec)[0])
    return Attribution(
        baseline=intercept + float(coef @ mean),
        contributions=group_columns(dict(zip(columns, contributions, strict=True)), names),
        output=output,
        method="linear-exact",
        scale=scale_of(scorer.spec),
    )


def standardizes_only(model: Any) -> bool:
    steps = getattr(model, "steps", None)
    if not steps or len(steps) != 2:
        return False
    scaler = steps[0][1]
    return type(scaler).__name__ == "StandardScaler" and bool(getattr(scaler, "with_mean", False))


_TREE_EXPLAINERS: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def sklearn_tree_attribution(
    scorer: Scorer, features: Mapping[str, Any], names: list[str]
) -> Attribution:
    try:
        with warnings.catch_warnings():
            # shap's plotting colours call a matplotlib API that warns on import; we draw nothing.
            warnings.filterwarnings("ignore", category=PendingDeprecationWarning)
            warnings.filterwarnings("ignore", category=DeprecationWarning)
            import shap  # type: ignore[import-untyped]
    except ImportError as error:
        raise InputError(
            "attributions of scikit-learn tree models need shap: pip install shap (LightGBM, "
            "XGBoost and linear models need nothing more)"
        ) from error
    model = scorer.model
    final = final_step(model)
    explainer = _TREE_EXPLAINERS.get(final)
    if explainer is None:
        explainer = shap.TreeExplainer(final)
        _TREE_EXPLAINERS[final] = explainer
    frame = model_row(scorer, features)
    row, columns = preprocess(model, frame)
    values = np.asarray(explainer.shap_values(row, check_additivity=False), dtype=np.float64)
    expected = np.ravel(np.asarray(explainer.expected_value, dtype=np.float64))
    binary = isinstance(scorer.spec.decision, BinaryDecision)
    if values.ndim == 3:  # (rows, columns, classes): explain the positive class
        values, baseline = values[:, :, -1], float(expected[-1])
    else:
        baseline = float(expected[0])
    if binary and not hasattr(final, "decision_function"):
        # Forests average probability trees: their attributions are on the probability scale.
        output = float(np.asarray(model.predict_proba(frame), dtype=np.float64)[0, 1])
        scale: Scale = "probability"
    else:
        output = float(sklearn_margin(model, frame, scorer.spec)[0])
        scale = scale_of(scorer.spec)
    return Attribution(
        baseline=baseline,
        contributions=group_columns(dict(zip(columns, values[0], strict=True)), names),
        output=output,
        method="shap-tree",
        scale=scale,
    )


def spec_frame(spec: SystemSpec, rows: pd.DataFrame) -> pd.DataFrame:
    """Rows with the spec's columns and dtypes, as the scorer builds a one-row frame."""
    names = [f.name for f in spec.features]
    missing = [n for n in names if n not in rows]
    if missing:
        raise InputError(f"the background frame lacks declared feature column(s) {missing}")
    frame = rows[names].reset_index(drop=True).copy()
    for feature in spec.features:
        if feature.type in ("number", "integer"):
            frame[feature.name] = frame[feature.name].astype("float64")
    return frame


def permutation_attribution(
    scorer: Scorer,
    features: Mapping[str, Any],
    names: list[str],
    background: pd.DataFrame,
    *,
    permutations: int,
    seed: int,
) -> Attribution:
    """Shapley values estimated from sampled feature orderings, each compared to the background.

    Along one ordering the marginal contributions telescope from the background's mean output
    to the row's output, so every estimate adds up exactly; the spread across orderings gives
    the stated sampling error.
    """
    if permutations < 2:
        raise InputError(f"permutations must be at least 2; got {permutations}")
    model = scorer.model
    base = spec_frame(scorer.spec, background)
    if len(base) > 100:
        base = base.sample(n=100, random_state=seed).reset_index(drop=True)
    row = model_row(scorer, features)
    rng = np.random.default_rng(seed)
    count = len(names)
    samples = np.zeros((permutations, count))
    for p in range(permutations):
        order = rng.permutation(count)
        # Stack the background with the first 0..count features of the ordering set to the row.
        stacked = pd.concat([base] * (count + 1), ignore_index=True)
        for step in range(1, count + 1):
            chosen = [names[j] for j in order[:step]]
            start = step * len(base)
            for name in chosen:
                stacked.loc[start : start + len(base) - 1, name] = row[name].iloc[0]
        outputs = (
            sklearn_margin(model, stacked, scorer.spec).reshape(count + 1, len(base)).mean(axis=1)
        )
        samples[p, order] = np.diff(outputs)
    means = samples.mean(axis=0)
    errors = samples.std(axis=0, ddof=1) / math.sqrt(permutations)
    baseline = float(sklearn_margin(model, base, scorer.spec).mean())
    output = float(sklearn_margin(model, row, scorer.spec)[0])
    contributions = {n: float(v) for n, v in zip(names, means, strict=True)}
    # Sampled means keep the telescoping sum; float rounding is the only residual.
    return Attribution(
        baseline=baseline,
        contributions=contributions,
        output=output,
        method="permutation",
        scale=scale_of(scorer.spec),
        sampling_error={n: float(e) for n, e in zip(names, errors, strict=True)},
    )
