"""What the explanations compare a customer with, summarized once from the training data."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ethica.errors import InputError
from ethica.governance import SystemSpec

#: Background rows kept for linear and model-agnostic attributions.
BACKGROUND_ROWS = 200


def reference_values(
    training_frame: pd.DataFrame,
    outcomes: Any,
    *,
    favourable: Any = 1,
    spec: SystemSpec | None = None,
) -> dict[str, Any]:
    """Summarize the typical values among customers who got the favourable outcome.

    Parameters
    ----------
    training_frame
        One row per training customer.
    outcomes
        Their outcomes (a column name of ``training_frame`` or an array of the same length).
    favourable
        The outcome value that is favourable (``1``, ``True``, ``"approved"``, ...).
    spec
        When given, only its declared features are summarized, each by its declared type.

    Returns
    -------
    dict
        Per column: the median of a numeric column (an integer for integer features), the most
        frequent value of any other column.
    """
    labels = training_frame[outcomes] if isinstance(outcomes, str) else pd.Series(outcomes)
    labels = labels.reset_index(drop=True)
    if len(labels) != len(training_frame):
        raise InputError(
            f"outcomes has {len(labels)} values for {len(training_frame)} training rows"
        )
    chosen = training_frame.reset_index(drop=True)[labels == favourable]
    if chosen.empty:
        raise InputError(f"no training row has the favourable outcome {favourable!r}")
    columns = [f.name for f in spec.features] if spec else list(training_frame.columns)
    kinds = {f.name: f.type for f in spec.features} if spec else {}
    reference: dict[str, Any] = {}
    for column in columns:
        if column not in chosen or (isinstance(outcomes, str) and column == outcomes):
            continue
        values = chosen[column].dropna()
        if values.empty:
            continue
        kind = kinds.get(column)
        numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
        if kind in ("number", "integer") or (kind is None and numeric):
            median = float(values.astype("float64").median())
            reference[column] = round(median) if kind == "integer" else median
        else:
            mode = values.mode().iloc[0]
            reference[column] = mode.item() if isinstance(mode, np.generic) else mode
    return reference


def feature_ranges(
    training_frame: pd.DataFrame, *, spec: SystemSpec
) -> dict[str, tuple[float, float]]:
    """Measure the observed [minimum, maximum] of each numeric declared feature."""
    ranges: dict[str, tuple[float, float]] = {}
    for feature in spec.features:
        if feature.type in ("number", "integer") and feature.name in training_frame:
            values = training_frame[feature.name].astype("float64").dropna()
            if not values.empty:
                ranges[feature.name] = (float(values.min()), float(values.max()))
    return ranges


@dataclass(frozen=True)
class TrainingSummary:
    """What explanations and monitoring of one system need from its training data.

    Attributes
    ----------
    reference
        Typical values among favourably decided customers (see :func:`reference_values`).
    ranges
        Observed range of each numeric feature; counterfactuals stay inside it where the spec
        gives no minimum or maximum.
    background
        A sample of training rows for linear and model-agnostic attributions.
    templates
        Sentences of the system's own, per feature, overriding the generated ones.
    feature_counts
        Each declared feature's counts over every training row, in the bins its monitoring
        counts windows in (see :func:`ethica.monitoring._training.training_counts`): the
        reference input drift is tested against.
    """

    reference: Mapping[str, Any] = field(default_factory=dict)
    ranges: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    background: pd.DataFrame | None = None
    templates: Mapping[str, str] = field(default_factory=dict)
    feature_counts: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @classmethod
    def from_training(
        cls,
        training_frame: pd.DataFrame,
        outcomes: Any,
        *,
        spec: SystemSpec,
        favourable: Any = 1,
        templates: Mapping[str, str] | None = None,
        seed: int = 0,
    ) -> TrainingSummary:
        """Summarize a training frame and its outcomes for explanations and monitoring."""
        # Monitoring loads scipy and the engines; explanations alone never need them.
        from ethica.monitoring._distribution import FeatureType
        from ethica.monitoring._training import training_counts

        background = training_frame
        if len(background) > BACKGROUND_ROWS:
            background = background.sample(n=BACKGROUND_ROWS, random_state=seed)
        ranges = feature_ranges(training_frame, spec=spec)
        kinds: dict[str, FeatureType] = {
            f.name: "numeric" if f.type in ("number", "integer") else "categorical"
            for f in spec.features
            if f.type != "text"
        }
        return cls(
            reference=reference_values(training_frame, outcomes, favourable=favourable, spec=spec),
            ranges=ranges,
            background=background.reset_index(drop=True),
            templates=dict(templates or {}),
            feature_counts=training_counts(training_frame, features=kinds, ranges=ranges),
        )

    def to_dict(self) -> dict[str, Any]:
        """Return the summary as JSON data, to store beside a model version."""
        background = None
        if self.background is not None:
            background = json.loads(self.background.to_json(orient="split", index=False))
        return {
            "reference": {k: _plain(v) for k, v in self.reference.items()},
            "ranges": {k: [float(lo), float(hi)] for k, (lo, hi) in self.ranges.items()},
            "background": background,
            "templates": dict(self.templates),
            **({"feature_counts": dict(self.feature_counts)} if self.feature_counts else {}),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrainingSummary:
        """Read the form written by :meth:`to_dict`."""
        try:
            background = data.get("background")
            frame = None
            if background is not None:
                frame = pd.DataFrame(background["data"], columns=background["columns"])
            return cls(
                reference=dict(data.get("reference") or {}),
                ranges={
                    k: (float(v[0]), float(v[1])) for k, v in (data.get("ranges") or {}).items()
                },
                background=frame,
                templates=dict(data.get("templates") or {}),
                feature_counts=dict(data.get("feature_counts") or {}),
            )
        except (KeyError, TypeError, ValueError, IndexError) as error:
            raise InputError(f"not a training summary: {error!r}") from None


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value
