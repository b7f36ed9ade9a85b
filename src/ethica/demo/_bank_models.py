"""The LightGBM models of the demo bank's three systems, trained on the seeded scenario."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ethica.governance import SystemSpec

#: Boosting rounds of every model: enough for the planted patterns, quick on two cores.
ROUNDS = 120


@dataclass(frozen=True)
class TrainedSystem:
    """One system's model and what it was trained on.

    Attributes
    ----------
    spec
        The system's spec.
    model
        The fitted ``lightgbm.Booster``.
    training
        The training rows (the spec's feature columns) and their outcomes, for the training
        summary explanations compare with.
    favourable
        The outcome explanations describe typical values of.
    """

    spec: SystemSpec
    model: Any
    training: tuple[pd.DataFrame, pd.Series]
    favourable: Any


def feature_frame(rows: pd.DataFrame, spec: SystemSpec) -> pd.DataFrame:
    """Select the spec's feature columns of ``rows``, categories with the spec's categories."""
    frame = rows[[f.name for f in spec.features]].reset_index(drop=True).copy()
    for feature in spec.features:
        if feature.type == "category":
            frame[feature.name] = pd.Categorical(frame[feature.name], categories=feature.categories)
        else:
            frame[feature.name] = frame[feature.name].astype("float64")
    return frame


def train_system(
    spec: SystemSpec, rows: pd.DataFrame, labels: pd.Series, *, seed: int = 0
) -> TrainedSystem:
    """Fit a LightGBM model of ``spec`` on ``rows``.

    Binary for ``labels`` of 0/1; otherwise one class per entry of the spec's ``classes``
    (multiclass) or ``items`` (ranking), with ``labels`` naming them.
    """
    import lightgbm

    frame = feature_frame(rows, spec)
    classes = getattr(spec.decision, "classes", None) or getattr(spec.decision, "items", None)
    params: dict[str, Any] = {
        "learning_rate": 0.08,
        "num_leaves": 15,
        "min_data_in_leaf": 40,
        "lambda_l2": 1.0,
        "cat_smooth": 10.0,
        "verbose": -1,
        "num_threads": 1,
        "seed": seed,
        "deterministic": True,
    }
    if classes is None:
        params["objective"] = "binary"
        target = labels.to_numpy(dtype=np.float64)
        favourable: Any = 1
    else:
        params.update(objective="multiclass", num_class=len(classes))
        target = labels.map({c: i for i, c in enumerate(classes)}).to_numpy(dtype=np.float64)
        favourable = classes[-1] if spec.decision.kind == "multiclass" else classes[0]
    data = lightgbm.Dataset(frame, label=target, categorical_feature="auto", free_raw_data=False)
    model = lightgbm.train(params, data, num_boost_round=ROUNDS)
    return TrainedSystem(spec, model, (frame, labels.reset_index(drop=True)), favourable)
