"""Where a tree model's output can change along one feature: its numeric split thresholds.

Between two consecutive thresholds of a column every tree takes the same branches, so a search
over a feature's values needs only the values next to each threshold to be exact.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

import numpy as np

from ethica.explain._sklearn_models import final_step

_FloatArray = np.ndarray[Any, np.dtype[np.float64]]

_CACHE: weakref.WeakKeyDictionary[Any, dict[str, _FloatArray]] = weakref.WeakKeyDictionary()


def split_thresholds(model: Any, columns: list[str] | None = None) -> dict[str, _FloatArray] | None:
    """Return the sorted numeric thresholds of each model column, or None for a non-tree model.

    Parameters
    ----------
    model
        A LightGBM or XGBoost booster (or their scikit-learn wrappers), or a scikit-learn tree,
        forest or gradient-boosting model, alone or as a pipeline's last step.
    columns
        The names of the scikit-learn model's input columns (the pipeline's transformed
        columns); boosters name their own.
    """
    module = type(model).__module__
    reader: Callable[[Any], dict[str, _FloatArray]]
    if module.startswith("lightgbm"):
        key = getattr(model, "booster_", model)
        reader = _lightgbm
    elif module.startswith("xgboost"):
        key = model.get_booster() if hasattr(model, "get_booster") else model
        reader = _xgboost
    else:
        key = final_step(model)
        if not (hasattr(key, "tree_") or hasattr(key, "estimators_")):
            return None
        reader = _sklearn
    found = _CACHE.get(key)
    if found is None:
        found = reader(key)
        _CACHE[key] = found
    if reader is _sklearn:
        if columns is None:
            return None
        # scikit-learn trees number their columns: name them.
        return {columns[int(c)]: t for c, t in found.items() if int(c) < len(columns)}
    return found


def _collect(pairs: dict[str, list[float]]) -> dict[str, _FloatArray]:
    return {
        column: np.unique(np.asarray(values, dtype=np.float64)) for column, values in pairs.items()
    }


def _lightgbm(booster: Any) -> dict[str, _FloatArray]:
    names = list(booster.feature_name())
    found: dict[str, list[float]] = {}
    for tree in booster.dump_model(num_iteration=-1)["tree_info"]:
        stack = [tree["tree_structure"]]
        while stack:
            node = stack.pop()
            if "split_feature" not in node:
                continue
            if node["decision_type"] != "==":  # categorical splits: every category is tried
                name = names[int(node["split_feature"])]
                found.setdefault(name, []).append(float(node["threshold"]))
            stack += [node["left_child"], node["right_child"]]
    return _collect(found)


def _xgboost(booster: Any) -> dict[str, _FloatArray]:
    frame = booster.trees_to_dataframe()
    splits = frame[frame["Feature"] != "Leaf"]
    found: dict[str, list[float]] = {}
    for feature, threshold in zip(splits["Feature"], splits["Split"], strict=True):
        if np.isfinite(threshold):  # unnamed columns are XGBoost's f0, f1, ...
            found.setdefault(str(feature), []).append(float(threshold))
    return _collect(found)


def _sklearn(estimator: Any) -> dict[str, _FloatArray]:
    trees = [estimator] if hasattr(estimator, "tree_") else np.ravel(estimator.estimators_)
    found: dict[str, list[float]] = {}
    for tree in trees:
        structure = tree.tree_
        internal = structure.feature >= 0
        for column, threshold in zip(
            structure.feature[internal], structure.threshold[internal], strict=True
        ):
            found.setdefault(str(int(column)), []).append(float(threshold))
    return _collect(found)
