"""Attributions of tree boosters by their own TreeSHAP: LightGBM and XGBoost.

LightGBM's contributions come from the compiled TreeSHAP where numba is installed (one call
for a batch of rows), else from its ``pred_contrib``; XGBoost's from ``pred_contribs``, which
it computes in float32: their sum is held to :func:`xgboost_tolerance`, not to float64's.
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ethica.errors import EthicaError, InputError
from ethica.explain._attribution import (
    AdditivityError,
    Attribution,
    float32_tolerance,
    group_columns,
    model_row,
    scale_of,
)
from ethica.explain._lightgbm_native import fast_contributions
from ethica.scoring import Scorer

_FloatArray = np.ndarray[Any, np.dtype[np.float64]]


def lightgbm_attribution(
    scorer: Scorer, features: Mapping[str, Any], names: list[str]
) -> Attribution:
    found = lightgbm_attributions(scorer, [features], names)[0]
    if isinstance(found, EthicaError):
        raise found
    return found


def lightgbm_attributions(
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
    matrix = np.concatenate([model_row(scorer, features) for features in rows])
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
                    scale=scale_of(scorer.spec),
                )
            )
        except AdditivityError as error:
            found.append(error)
    return found


def xgboost_attribution(
    scorer: Scorer, features: Mapping[str, Any], names: list[str]
) -> Attribution:
    import xgboost

    booster = scorer.xgboost_booster
    columns = list(booster.feature_names or names)
    matrix = xgboost.DMatrix(model_row(scorer, features), feature_names=columns, nthread=1)
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
        scale=scale_of(scorer.spec),
        tolerance=xgboost_tolerance(booster, row, output),
    )


def xgboost_tolerance(booster: Any, contributions: _FloatArray, output: float) -> float:
    """Return the float32 rounding bound of a row's ``pred_contribs`` (baseline last) and margin."""
    magnitude = max(abs(output), float(np.abs(contributions).sum()))
    return float32_tolerance(magnitude, xgboost_trees(booster) + contributions.shape[-1])


_TREES: weakref.WeakKeyDictionary[Any, int] = weakref.WeakKeyDictionary()


def xgboost_trees(booster: Any) -> int:
    """Return the number of trees per output of an XGBoost booster (rounds if linear)."""
    trees = _TREES.get(booster)
    if trees is None:
        config = json.loads(booster.save_config())["learner"]
        rounds = int(booster.num_boosted_rounds())
        parameters = config["gradient_booster"].get("gbtree_model_param")
        if parameters is None:  # gblinear, or dart's nested model
            parameters = config["gradient_booster"].get("gbtree", {}).get("gbtree_model_param")
        parallel = int(parameters.get("num_parallel_tree", 1)) if parameters else 1
        trees = max(1, rounds * parallel)
        _TREES[booster] = trees
    return trees


def _single_output(values: _FloatArray, what: str) -> _FloatArray:
    if values.ndim != 2 or values.shape[0] != 1:
        raise InputError(f"{what}: expected one row of contributions, got shape {values.shape}")
    return np.asarray(values[0], dtype=np.float64)
