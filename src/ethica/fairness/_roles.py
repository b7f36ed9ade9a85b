"""Turning what the caller passed (a table with column names, or arrays) into one source table.

fairlearn-style calls pass arrays (``label=y_true, prediction=y_pred, sensitive_features=sex``);
table-style calls pass ``data`` and column names. Both end up as a source an engine can read
plus the names of the columns that play each role.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ethica.errors import InputError
from ethica.fairness._plan import Roles as Roles
from ethica.fairness._plan import named_roles

ColumnOrArray = str | Sequence[Any] | np.ndarray[Any, Any] | pd.Series | None


def resolve_roles(
    data: Any,
    *,
    sensitive_features: Any,
    label: ColumnOrArray,
    prediction: ColumnOrArray,
    score: ColumnOrArray = None,
    list_id: ColumnOrArray = None,
) -> tuple[Any, Roles]:
    """Return the source table and its roles, from column names (with ``data``) or arrays."""
    if data is not None:
        return data, named_roles(
            sensitive_features=sensitive_features,
            label=label,
            prediction=prediction,
            score=score,
            list_id=list_id,
        )
    columns: dict[str, Any] = {}
    for feature, values in _feature_arrays(sensitive_features).items():
        columns[feature] = values
    roles: dict[str, str | None] = {}
    for role, values in (
        ("label", label),
        ("prediction", prediction),
        ("score", score),
        ("list_id", list_id),
    ):
        if values is None:
            roles[role] = None
            continue
        if isinstance(values, str):
            raise InputError(
                f"{role}={values!r} names a column, but no data table was given; pass the table as "
                "the first argument, or pass arrays"
            )
        column = f"__{role}"
        columns[column] = _array(values, role)
        roles[role] = column
    lengths = {name: len(v) for name, v in columns.items()}
    if len(set(lengths.values())) > 1:
        raise InputError(f"arrays differ in length: {lengths}; every array needs one value per row")
    return pd.DataFrame(columns), Roles(
        sensitive=tuple(_feature_arrays(sensitive_features)),
        label=roles["label"],
        prediction=roles["prediction"],
        score=roles["score"],
        list_id=roles["list_id"],
    )


def _feature_arrays(features: Any) -> dict[str, Any]:
    """Named arrays from a Series, DataFrame, mapping, 1-D or 2-D array (fairlearn's naming)."""
    if isinstance(features, pd.DataFrame):
        return {str(c): features[c].to_numpy() for c in features.columns}
    if isinstance(features, Mapping):
        return {str(k): _array(v, f"sensitive feature {k!r}") for k, v in features.items()}
    if isinstance(features, pd.Series):
        name = features.name if features.name is not None else "sensitive_feature_0"
        return {str(name): features.to_numpy()}
    array = np.asarray(features, dtype=object) if not isinstance(features, np.ndarray) else features
    if array.ndim == 1:
        return {"sensitive_feature_0": array}
    if array.ndim == 2:
        return {f"sensitive_feature_{i}": array[:, i] for i in range(array.shape[1])}
    raise InputError("sensitive_features must be one or two dimensional")


def _array(values: Any, role: str) -> Any:
    if isinstance(values, pd.Series):
        return values.to_numpy()
    array = np.asarray(values)
    if array.ndim != 1:
        raise InputError(f"{role} must be one dimensional; got shape {array.shape}")
    return array
