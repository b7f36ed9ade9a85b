"""Attributions of one decision to the declared features, on the model's margin.

Tree boosters use their native TreeSHAP (LightGBM ``pred_contrib``, XGBoost ``pred_contribs``);
scikit-learn trees use ``shap.TreeExplainer`` when shap is installed; linear models are exact
against a background mean; any other model gets a seeded permutation estimate with its sampling
error. Every attribution adds up to the model's own output or is refused.
"""

from __future__ import annotations

import math
import warnings
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

import numpy as np
import pandas as pd

from ethica.errors import EthicaError, InputError
from ethica.explain._lightgbm_native import fast_contributions
from ethica.governance import BinaryDecision, SystemSpec
from ethica.scoring import Scorer

Method = Literal[
    "lightgbm-treeshap", "xgboost-treeshap", "shap-tree", "linear-exact", "permutation"
]
Scale = Literal["log-odds", "probability", "value"]

#: How far baseline + Σ contributions may be from the model's output.
ADDITIVITY_TOLERANCE = 1e-6

_FloatArray = np.ndarray[Any, np.dtype[np.float64]]


class AdditivityError(EthicaError, ArithmeticError):
    """Contributions do not add up to the model's output; the attribution was not emitted."""


@dataclass(frozen=True)
class Attribution:
    """How much each declared feature moved the model's output away from a baseline.

    ``baseline + sum(contributions.values()) == output`` within :data:`ADDITIVITY_TOLERANCE`;
    constructing one that does not add up raises :class:`AdditivityError`.

    Attributes
    ----------
    baseline
        The model's expected output over the background (or the trees' training data).
    contributions
        Per declared feature, on the same scale as ``output``; model columns that encode one
        feature (one-hot columns, say) are summed into it.
    output
        The model's output for this row, on ``scale``: log-odds for binary classifiers (the
        margin), probability for forests whose trees hold probabilities, value for regressors.
    method
        How the contributions were computed.
    scale
        The scale of ``baseline``, ``contributions`` and ``output``.
    sampling_error
        Per feature, the standard error of a sampled estimate (permutation method only).
    """

    baseline: float
    contributions: dict[str, float]
    output: float
    method: Method
    scale: Scale = "log-odds"
    sampling_error: dict[str, float] | None = field(default=None)

    def __post_init__(self) -> None:
        total = self.baseline + math.fsum(self.contributions.values())
        if not math.isfinite(total) or abs(total - self.output) > ADDITIVITY_TOLERANCE:
            raise AdditivityError(
                f"{self.method} contributions add up to {total!r} but the model's output is "
                f"{self.output!r}; the attribution is refused"
            )

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready copy."""
        return {
            "method": self.method,
            "scale": self.scale,
            "baseline": self.baseline,
            "output": self.output,
            "contributions": dict(self.contributions),
            "sampling_error": None if self.sampling_error is None else dict(self.sampling_error),
        }


def attribute(
    scorer: Scorer,
    features: Mapping[str, Any],
    *,
    background: pd.DataFrame | None = None,
    permutations: int = 64,
    seed: int = 0,
) -> Attribution:
    """Attribute one decision's model output to the system's declared features.

    Parameters
    ----------
    scorer
        The system's loaded model bound to its spec.
    features
        The features the model received (after minimization), by declared name.
    background
        Training rows (declared feature columns). Required for linear models unless the model
        standardizes its inputs first, and for the permutation method; tree models use the
        training data stored in their trees.
    permutations
        Number of feature orderings the permutation method samples.
    seed
        Seed of the permutation method, so the same decision is explained the same way.

    Returns
    -------
    Attribution
        Contributions on the model's margin that add up to its output.
    """
    model = scorer.model
    module = type(model).__module__
    names = [f.name for f in scorer.spec.features]
    if module.startswith("lightgbm"):
        return _lightgbm(scorer, features, names)
    if module.startswith("xgboost"):
        return _xgboost(scorer, features, names)
    final = _final_step(model)
    if _is_linear(final):
        return _linear(scorer, features, names, background)
    if _is_tree(final):
        return _sklearn_tree(scorer, features, names)
    if background is None:
        raise InputError(
            f"{type(final).__name__} is neither a tree nor a linear model: its model-agnostic "
            "attribution needs a background frame of training rows"
        )
    return _permutation(scorer, features, names, background, permutations=permutations, seed=seed)


def attribute_many(
    scorer: Scorer,
    rows: Sequence[Mapping[str, Any]],
    *,
    background: pd.DataFrame | None = None,
    permutations: int = 64,
    seed: int = 0,
) -> list[Attribution | EthicaError]:
    """:func:`attribute` for several decisions of one system, computed together where it pays.

    A LightGBM model's contributions come from one compiled TreeSHAP call for all rows (the GIL
    released once, not per row); other models are attributed row by row. A row that cannot be
    attributed gets its error in its place, so one bad row does not cost the others theirs.
    """
    if not rows:
        return []
    if type(scorer.model).__module__.startswith("lightgbm"):
        names = [f.name for f in scorer.spec.features]
        try:
            return _lightgbm_many(scorer, rows, names)
        except EthicaError as error:  # the model or its columns, not a row: every row has it
            return [error] * len(rows)
    found: list[Attribution | EthicaError] = []
    for features in rows:
        try:
            found.append(
                attribute(
                    scorer,
                    features,
                    background=background,
                    permutations=permutations,
                    seed=seed,
                )
            )
        except EthicaError as error:
            found.append(error)
    return found


def feature_of_column(column: str, names: Sequence[str]) -> str | None:
    """Name the declared feature a model column encodes, or return None.

    A column is matched by its exact name, or after dropping a scikit-learn transformer prefix
    (``onehot__``), or as ``<feature>_<category>`` (one-hot); the longest declared name wins.
    """
    candidates = [column]
    if "__" in column:
        candidates.append(column.split("__", 1)[1])
    for candidate in candidates:
        if candidate in names:
            return candidate
    for candidate in candidates:
        matches = [n for n in names if candidate.startswith(n + "_")]
        if matches:
            return max(matches, key=len)
    return None


def group_columns(contributions: Mapping[str, float], names: Sequence[str]) -> dict[str, float]:
    """Sum per-column contributions into the declared features (every feature appears)."""
    features = _features_of_columns(tuple(contributions), tuple(names))
    unmatched = [column for column, feature in features if feature is None]
    if unmatched:
        raise InputError(
            f"model columns {unmatched[:5]} match no declared feature; name transformer outputs "
            "after the features they encode (e.g. 'city_Paris' for feature 'city')"
        )
    grouped = dict.fromkeys(names, 0.0)
    for (_, feature), value in zip(features, contributions.values(), strict=True):
        grouped[str(feature)] += float(value)
    return grouped


@lru_cache(maxsize=1024)
def _features_of_columns(
    columns: tuple[str, ...], names: tuple[str, ...]
) -> tuple[tuple[str, str | None], ...]:
    # Every decision of a system asks the same question: match its columns once.
    return tuple((column, feature_of_column(column, names)) for column in columns)


def _scale(spec: SystemSpec) -> Scale:
    return "log-odds" if isinstance(spec.decision, BinaryDecision) else "value"


def _model_row(scorer: Scorer, features: Mapping[str, Any]) -> Any:
    # The scorer's own encoding, so the explained row is exactly the scored row.
    return scorer._encode(features)


def _single_output(values: _FloatArray, what: str) -> _FloatArray:
    if values.ndim != 2 or values.shape[0] != 1:
        raise InputError(f"{what}: expected one row of contributions, got shape {values.shape}")
    return np.asarray(values[0], dtype=np.float64)


def _lightgbm(scorer: Scorer, features: Mapping[str, Any], names: list[str]) -> Attribution:
    found = _lightgbm_many(scorer, [features], names)[0]
    if isinstance(found, EthicaError):
        raise found
    return found


def _lightgbm_many(
    scorer: Scorer, rows: Sequence[Mapping[str, Any]], names: list[str]
) -> list[Attribution | EthicaError]:
    booster = getattr(scorer.model, "booster_", scorer.model)
    fast = fast_contributions(booster)
    outputs = booster.num_model_per_iteration() if fast is None else fast.outputs
    if outputs != 1:
        raise InputError(
            "a multiclass LightGBM model has one margin per class: explain a class against "
            "another with attribute_contrast"
        )
    matrix = np.concatenate([_model_row(scorer, features) for features in rows])
    if fast is not None:
        contributions = fast.contributions_many(matrix)
        margins = [fast.margin(row) for row in matrix]
        columns = fast.columns
    else:
        contributions = np.asarray(
            booster.predict(matrix, pred_contrib=True, num_threads=1), dtype=np.float64
        )
        margins = np.asarray(booster.predict(matrix, raw_score=True, num_threads=1)).tolist()
        columns = list(booster.feature_name())
    found: list[Attribution | EthicaError] = []
    for values, output in zip(contributions, margins, strict=True):
        try:
            found.append(
                Attribution(
                    baseline=float(values[-1]),
                    contributions=group_columns(
                        dict(zip(columns, values[:-1].tolist(), strict=True)), names
                    ),
                    output=float(output),
                    method="lightgbm-treeshap",
                    scale=_scale(scorer.spec),
                )
            )
        except AdditivityError as error:
            found.append(error)
    return found


def _xgboost(scorer: Scorer, features: Mapping[str, Any], names: list[str]) -> Attribution:
    import xgboost

    booster = scorer.model.get_booster() if hasattr(scorer.model, "get_booster") else scorer.model
    columns = list(booster.feature_names or names)
    matrix = xgboost.DMatrix(_model_row(scorer, features), feature_names=columns)
    contributions = np.asarray(booster.predict(matrix, pred_contribs=True), dtype=np.float64)
    if contributions.ndim != 2:
        raise InputError("attributions of multiclass XGBoost models are not supported")
    row = _single_output(contributions, "XGBoost pred_contribs")
    output = float(np.asarray(booster.predict(matrix, output_margin=True))[0])
    return Attribution(
        baseline=float(row[-1]),
        contributions=group_columns(dict(zip(columns, row[:-1], strict=True)), names),
        output=output,
        method="xgboost-treeshap",
        scale=_scale(scorer.spec),
    )


def _final_step(model: Any) -> Any:
    steps = getattr(model, "steps", None)
    return steps[-1][1] if steps else model


def _preprocess(model: Any, frame: pd.DataFrame) -> tuple[_FloatArray, list[str]]:
    """Compute the final estimator's input for ``frame`` and the names of its columns."""
    if getattr(model, "steps", None) is None or len(model.steps) == 1:
        columns = list(getattr(_final_step(model), "feature_names_in_", frame.columns))
        return np.asarray(frame[columns], dtype=np.float64), [str(c) for c in columns]
    transform = model[:-1]
    values = transform.transform(frame)
    if hasattr(values, "toarray"):
        values = values.toarray()
    return np.asarray(values, dtype=np.float64), [str(c) for c in transform.get_feature_names_out()]


def _is_linear(estimator: Any) -> bool:
    coef = getattr(estimator, "coef_", None)
    return coef is not None and np.asarray(coef).ndim <= 2 and np.asarray(coef).size > 0


def _is_tree(estimator: Any) -> bool:
    return hasattr(estimator, "estimators_") or hasattr(estimator, "tree_")


def _margin(model: Any, frame: pd.DataFrame, spec: SystemSpec) -> _FloatArray:
    if isinstance(spec.decision, BinaryDecision):
        if hasattr(model, "decision_function"):
            return np.ravel(np.asarray(model.decision_function(frame), dtype=np.float64))
        probability = np.asarray(model.predict_proba(frame), dtype=np.float64)[:, 1]
        clipped = np.clip(probability, 1e-12, 1 - 1e-12)
        return np.asarray(np.log(clipped / (1 - clipped)), dtype=np.float64)
    return np.ravel(np.asarray(model.predict(frame), dtype=np.float64))


def _linear(
    scorer: Scorer, features: Mapping[str, Any], names: list[str], background: pd.DataFrame | None
) -> Attribution:
    model = scorer.model
    final = _final_step(model)
    coef = np.asarray(final.coef_, dtype=np.float64)
    if coef.ndim == 2 and coef.shape[0] != 1:
        raise InputError("attributions of multiclass linear models are not supported")
    coef = coef.ravel()
    row, columns = _preprocess(model, _model_row(scorer, features))
    if background is not None:
        mean = _preprocess(model, _frame(scorer.spec, background))[0].mean(axis=0)
    elif _standardizes_only(model):
        # The scaler centred the training inputs: their mean is zero in the model's input space.
        mean = np.zeros_like(coef)
    else:
        raise InputError(
            "exact linear attributions need a background frame of training rows (or a pipeline "
            "that starts with a StandardScaler)"
        )
    contributions = coef * (row[0] - mean)
    intercept = float(np.ravel(np.asarray(getattr(final, "intercept_", 0.0), dtype=np.float64))[0])
    output = float(_margin(model, _model_row(scorer, features), scorer.spec)[0])
    return Attribution(
        baseline=intercept + float(coef @ mean),
        contributions=group_columns(dict(zip(columns, contributions, strict=True)), names),
        output=output,
        method="linear-exact",
        scale=_scale(scorer.spec),
    )


def _standardizes_only(model: Any) -> bool:
    steps = getattr(model, "steps", None)
    if not steps or len(steps) != 2:
        return False
    scaler = steps[0][1]
    return type(scaler).__name__ == "StandardScaler" and bool(getattr(scaler, "with_mean", False))


_TREE_EXPLAINERS: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def _sklearn_tree(scorer: Scorer, features: Mapping[str, Any], names: list[str]) -> Attribution:
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
    final = _final_step(model)
    explainer = _TREE_EXPLAINERS.get(final)
    if explainer is None:
        explainer = shap.TreeExplainer(final)
        _TREE_EXPLAINERS[final] = explainer
    frame = _model_row(scorer, features)
    row, columns = _preprocess(model, frame)
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
        output = float(_margin(model, frame, scorer.spec)[0])
        scale = _scale(scorer.spec)
    return Attribution(
        baseline=baseline,
        contributions=group_columns(dict(zip(columns, values[0], strict=True)), names),
        output=output,
        method="shap-tree",
        scale=scale,
    )


def _frame(spec: SystemSpec, rows: pd.DataFrame) -> pd.DataFrame:
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


def _permutation(
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
    base = _frame(scorer.spec, background)
    if len(base) > 100:
        base = base.sample(n=100, random_state=seed).reset_index(drop=True)
    row = _model_row(scorer, features)
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
        outputs = _margin(model, stacked, scorer.spec).reshape(count + 1, len(base)).mean(axis=1)
        samples[p, order] = np.diff(outputs)
    means = samples.mean(axis=0)
    errors = samples.std(axis=0, ddof=1) / math.sqrt(permutations)
    baseline = float(_margin(model, base, scorer.spec).mean())
    output = float(_margin(model, row, scorer.spec)[0])
    contributions = {n: float(v) for n, v in zip(names, means, strict=True)}
    # Sampled means keep the telescoping sum; float rounding is the only residual.
    return Attribution(
        baseline=baseline,
        contributions=contributions,
        output=output,
        method="permutation",
        scale=_scale(scorer.spec),
        sampling_error={n: float(e) for n, e in zip(names, errors, strict=True)},
    )
