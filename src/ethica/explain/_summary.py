"""Global views of a model's attributions: which features drive its decisions, in each group.

Where the trees allow it the whole frame is attributed in one native call (LightGBM
``pred_contrib``, XGBoost ``pred_contribs``) on the rows the scorer would build one by one;
other models are attributed row by row with :func:`attribute`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ethica.errors import InputError
from ethica.explain._attribute import attribute
from ethica.explain._attribution import feature_of_column
from ethica.scoring import Scorer

#: The column of the whole population in :func:`attribution_summary`.
OVERALL = ("overall", "all")
#: The group of a missing sensitive value, as in the fairness audit.
MISSING_GROUP = "missing"

_FloatArray = np.ndarray[Any, np.dtype[np.float64]]


def attribution_summary(
    scorer: Scorer,
    frame: pd.DataFrame,
    *,
    sensitive: pd.DataFrame | Mapping[str, Any],
    background: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Measure how much each feature moves the model's output, overall and in each group.

    Parameters
    ----------
    scorer
        The system's model bound to its spec.
    frame
        The decisions' features, one row per decision, with the declared feature columns.
    sensitive
        The sensitive features of the same rows: a frame, or a mapping of name to array-like.
        They are only used to form groups; they never reach the model.
    background
        Training rows, for models that are neither LightGBM nor XGBoost (see :func:`attribute`).

    Returns
    -------
    pandas.DataFrame
        Mean absolute attribution (on the model's margin) per declared feature (the index,
        sorted by the overall value, largest first). Columns are a two-level index
        ``(sensitive feature, group)``; the first column is ``("overall", "all")``. Group sizes
        are in ``result.attrs["counts"]``.
    """
    names = [f.name for f in scorer.spec.features]
    missing = [n for n in names if n not in frame]
    if missing:
        raise InputError(f"the frame lacks declared feature column(s) {missing}")
    groups = _sensitive_frame(sensitive, rows=len(frame))
    magnitude = np.abs(contribution_matrix(scorer, frame, background=background))
    columns: dict[tuple[str, str], _FloatArray] = {OVERALL: magnitude.mean(axis=0)}
    counts: dict[tuple[str, str], int] = {OVERALL: len(frame)}
    for name in groups.columns:
        labels = groups[name].to_numpy()
        for group in sorted(set(labels)):
            chosen = labels == group
            columns[(str(name), group)] = magnitude[chosen].mean(axis=0)
            counts[(str(name), group)] = int(chosen.sum())
    result = pd.DataFrame(columns, index=pd.Index(names, name="feature"))
    result.columns = pd.MultiIndex.from_tuples(list(columns), names=["grouping", "group"])
    result = result.sort_values(OVERALL, ascending=False, kind="stable")
    result.attrs["counts"] = counts
    return result


def contribution_matrix(
    scorer: Scorer, frame: pd.DataFrame, *, background: pd.DataFrame | None = None
) -> _FloatArray:
    """Return per-row contributions of the declared features: shape (rows, features).

    Model columns that encode one feature (one-hot) are summed into it; the baseline is left out.
    """
    names = [f.name for f in scorer.spec.features]
    module = type(scorer.model).__module__
    if module.startswith("lightgbm"):
        booster = getattr(scorer.model, "booster_", scorer.model)
        if booster.num_model_per_iteration() != 1:
            raise InputError("attributions of multiclass LightGBM models are not supported")
        columns = list(booster.feature_name())
        values = booster.predict(encode_rows(scorer, frame, columns), pred_contrib=True)
        return _grouped(np.asarray(values, dtype=np.float64)[:, :-1], columns, names)
    if module.startswith("xgboost"):
        import xgboost

        booster = (
            scorer.model.get_booster() if hasattr(scorer.model, "get_booster") else scorer.model
        )
        columns = list(booster.feature_names or names)
        matrix = xgboost.DMatrix(encode_rows(scorer, frame, columns), feature_names=columns)
        values = np.asarray(booster.predict(matrix, pred_contribs=True), dtype=np.float64)
        if values.ndim != 2:
            raise InputError("attributions of multiclass XGBoost models are not supported")
        return _grouped(values[:, :-1], columns, names)
    rows: list[dict[str, Any]] = [
        {str(k): v for k, v in r.items()} for r in frame[names].to_dict(orient="records")
    ]
    return np.array(
        [
            [attribute(scorer, row, background=background).contributions[n] for n in names]
            for row in rows
        ],
        dtype=np.float64,
    ).reshape(len(rows), len(names))


def encode_rows(scorer: Scorer, frame: pd.DataFrame, columns: list[str]) -> _FloatArray:
    """Encode a frame as the scorer encodes one row: floats, categories as the model's codes.

    Categories are coded by the model's own category lists (LightGBM's ``pandas_categorical``),
    else by the spec's declared categories; unknown or missing values become NaN.
    """
    spec = scorer.spec
    known = getattr(scorer.model, "pandas_categorical", None)
    categorical = [n for n in columns if spec.feature(n).type == "category"]
    encoded = np.empty((len(frame), len(columns)), dtype=np.float64)
    for j, name in enumerate(columns):
        values = frame[name]
        if name in categorical:
            index = categorical.index(name)
            levels = known[index] if known and index < len(known) else spec.feature(name).categories
            codes = {value: code for code, value in enumerate(levels or [])}
            encoded[:, j] = [
                np.nan if _missing(v) else codes.get(v, np.nan) for v in values.astype(object)
            ]
        else:
            encoded[:, j] = pd.to_numeric(values, errors="coerce").astype("float64").to_numpy()
    return encoded


def _grouped(values: _FloatArray, columns: list[str], names: list[str]) -> _FloatArray:
    out = np.zeros((values.shape[0], len(names)), dtype=np.float64)
    for j, column in enumerate(columns):
        feature = feature_of_column(column, names)
        if feature is None:
            raise InputError(f"model column {column!r} matches no declared feature")
        out[:, names.index(feature)] += values[:, j]
    return out


def _sensitive_frame(sensitive: pd.DataFrame | Mapping[str, Any], *, rows: int) -> pd.DataFrame:
    if isinstance(sensitive, pd.DataFrame):
        groups = sensitive.reset_index(drop=True)
    else:
        groups = pd.DataFrame({str(k): np.asarray(v, dtype=object) for k, v in sensitive.items()})
    if groups.shape[1] == 0:
        raise InputError("give at least one sensitive feature to group the attributions by")
    if len(groups) != rows:
        raise InputError(f"the sensitive features have {len(groups)} rows for {rows} decisions")
    return pd.DataFrame(
        {
            str(name): [MISSING_GROUP if _missing(v) else str(v) for v in groups[name]]
            for name in groups.columns
        }
    )


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA
