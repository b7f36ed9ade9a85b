"""Scoring one decision with a system's model, fast enough for the online path.

LightGBM and XGBoost boosters get a float row built directly (categories as the codes the model
was trained with); scikit-learn models get a one-row DataFrame with the spec's columns.

LightGBM boosters are called through LightGBM's single-row fast C API on one thread: its
``Booster.predict`` costs about 0.3 ms of Python checks per call, and with OpenMP threads on
a busy small machine 10-20 ms, where the fast path takes a few microseconds. XGBoost boosters
score single rows with a copy set to one thread, for the same reason (300 trees: 0.4 ms
instead of 5-13 ms).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ethica.errors import InputError
from ethica.governance import (
    BinaryDecision,
    MulticlassDecision,
    RankingDecision,
    ScoreDecision,
    SystemSpec,
)
from ethica.scoring._lightgbm_fast import fast_scoring, predict_rows

#: One feature's values in many variants of a row: a sequence, or an array (float64 for numbers).
Values = Sequence[Any] | np.ndarray[Any, Any]


@dataclass(frozen=True)
class Scored:
    """The model's output for one decision and the outcome it implies."""

    score: float
    outcome: str
    probabilities: dict[str, float] | None = None


class Scorer:
    """A loaded model bound to its system's spec."""

    def __init__(self, model: Any, spec: SystemSpec, *, version: str) -> None:
        self.model = model
        self.spec = spec
        self.version = version
        self._names = [f.name for f in spec.features]
        self._numeric = {f.name: f.type in ("number", "integer") for f in spec.features}
        # A booster's columns and category codes (set by _booster_row; None for frame models).
        self._columns: dict[str, int] | None = None
        self._codes: dict[str, dict[Any, int]] = {}
        #: An XGBoost model's booster set to one thread (a copy: the caller's is left as is).
        self.xgboost_booster = one_thread_booster(model)
        self._encode = self._encoder()
        self._lightgbm = fast_scoring(model)

    def raw(self, features: Mapping[str, Any]) -> np.ndarray[Any, np.dtype[np.float64]]:
        """Return the model's output for one row: P(positive), class probabilities, or a value."""
        row = self._encode(features)
        if self._lightgbm is not None:
            return self._lightgbm.predict(row)
        module = type(self.model).__module__
        if module.startswith("lightgbm"):
            # One row is too little work to share among OpenMP threads: their start-up dominates.
            prediction = self.model.predict(row, num_threads=1)
            return np.atleast_1d(np.asarray(prediction, dtype=np.float64)[0])
        if self.xgboost_booster is not None:
            prediction = self.xgboost_booster.inplace_predict(row, validate_features=False)
            return np.atleast_1d(np.asarray(prediction, dtype=np.float64)[0])
        if hasattr(self.model, "predict_proba") and not isinstance(
            self.spec.decision, ScoreDecision
        ):
            probabilities: np.ndarray[Any, np.dtype[np.float64]] = np.asarray(
                self.model.predict_proba(row), dtype=np.float64
            )[0]
            return (
                probabilities[1:2]
                if isinstance(self.spec.decision, BinaryDecision)
                else probabilities
            )
        return np.atleast_1d(np.asarray(self.model.predict(row), dtype=np.float64)[0])

    def score(self, features: Mapping[str, Any]) -> Scored:
        """Score one decision and name its outcome."""
        return outcome_of(self.spec, self.raw(features))

    def raw_variants(
        self, features: Mapping[str, Any], changes: Mapping[str, Values]
    ) -> np.ndarray[Any, np.dtype[np.float64]]:
        """Return :meth:`raw` of many variants of one row, from one call of the model.

        Row ``i`` of the result is the output for ``features`` with each feature named in
        ``changes`` set to its ``i``-th value (all sequences have the same length). A search
        that tries many changes of one decision scores them together: one model call costs
        little more for a thousand rows than for one.
        """
        lengths = {len(values) for values in changes.values()}
        if len(lengths) > 1:
            raise InputError(f"every changed feature needs as many values; got lengths {lengths}")
        count = lengths.pop() if lengths else 1
        if self._columns is not None:
            matrix = np.repeat(self._encode(features), count, axis=0)
            for name, values in changes.items():
                column = self._columns.get(name)
                if column is not None:
                    matrix[:, column] = self._encode_values(name, values)
            return self._predict_matrix(matrix).reshape(count, -1)
        frame = self.variants_frame(features, changes, count)
        if hasattr(self.model, "predict_proba") and not isinstance(
            self.spec.decision, ScoreDecision
        ):
            probabilities = np.asarray(self.model.predict_proba(frame), dtype=np.float64)
            if isinstance(self.spec.decision, BinaryDecision):
                return probabilities[:, 1:2]
            return probabilities
        return np.asarray(self.model.predict(frame), dtype=np.float64).reshape(count, -1)

    def _encode_values(self, name: str, values: Values) -> np.ndarray[Any, Any]:
        codes = self._codes.get(name)
        if codes is None and isinstance(values, np.ndarray) and values.dtype == np.float64:
            return values  # already the model's numbers (a search's candidate values)
        if codes is None:
            return np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)
        return np.array([codes.get(v, np.nan) for v in values], dtype=np.float64)

    def _predict_matrix(
        self, matrix: np.ndarray[Any, np.dtype[np.float64]]
    ) -> np.ndarray[Any, np.dtype[np.float64]]:
        if self.xgboost_booster is not None:
            prediction = self.xgboost_booster.inplace_predict(matrix, validate_features=False)
        else:
            prediction = predict_rows(getattr(self.model, "booster_", self.model), matrix)
        return np.asarray(prediction, dtype=np.float64)

    def _encoder(self) -> Any:
        module = type(self.model).__module__
        if module.startswith("lightgbm"):
            return self._booster_row(list(self.model.feature_name()), self.model.pandas_categorical)
        if self.xgboost_booster is not None:
            names = list(self.xgboost_booster.feature_names or self._names)
            return self._booster_row(names, None)
        return self._frame_row

    def _booster_row(self, names: list[str], categories: list[list[Any]] | None) -> Any:
        missing = sorted(set(names) - set(self._names))
        if missing:
            raise InputError(f"the model expects features the spec does not declare: {missing}")
        lookup: dict[str, dict[Any, int]] = {}
        categorical = [
            self.spec.feature(n) for n in names if self.spec.feature(n).type == "category"
        ]
        for index, feature in enumerate(categorical):
            known = (
                categories[index] if categories and index < len(categories) else feature.categories
            )
            lookup[feature.name] = {value: code for code, value in enumerate(known or [])}
        self._columns = {name: j for j, name in enumerate(names)}
        self._codes = lookup

        def encode(features: Mapping[str, Any]) -> np.ndarray[Any, np.dtype[np.float64]]:
            row = np.empty((1, len(names)), dtype=np.float64)
            for j, name in enumerate(names):
                value = features.get(name)
                if value is None:
                    row[0, j] = np.nan
                elif name in lookup:
                    row[0, j] = lookup[name].get(value, np.nan)
                else:
                    row[0, j] = float(value)
            return row

        return encode

    def _frame_row(self, features: Mapping[str, Any]) -> pd.DataFrame:
        return self.variants_frame(features, {}, 1)

    def variants_frame(
        self, features: Mapping[str, Any], changes: Mapping[str, Values], count: int
    ) -> pd.DataFrame:
        """Return the frame a scikit-learn model is given for variants of one row.

        ``count`` rows of ``features`` with the spec's columns and dtypes, ``changes`` set as
        in :meth:`raw_variants`.

        Numeric columns are built as float64 arrays at once: converting each column of a
        finished frame costs more than the model's own work on a few hundred rows.
        """
        columns: dict[str, Any] = {}
        for name, numeric in self._numeric.items():
            if numeric:
                columns[name] = (
                    _floats(changes[name])
                    if name in changes
                    else np.full(count, _float(features.get(name)), dtype=np.float64)
                )
            else:
                columns[name] = (
                    list(changes[name]) if name in changes else [features.get(name)] * count
                )
        return pd.DataFrame(columns, copy=False)


def _float(value: Any) -> float:
    return np.nan if value is None else float(value)


def _floats(values: Values) -> np.ndarray[Any, np.dtype[np.float64]]:
    if isinstance(values, np.ndarray) and values.dtype.kind in "fiu":
        return np.asarray(values, dtype=np.float64)
    return np.array([_float(v) for v in values], dtype=np.float64)


def one_thread_booster(model: Any) -> Any:
    """Return a copy of an XGBoost model's booster that predicts on one thread, else None.

    One row is too little work to share among OpenMP threads: starting them costs more than
    the trees, and on a busy machine far more.
    """
    if not type(model).__module__.startswith("xgboost"):
        return None
    booster = model.get_booster() if hasattr(model, "get_booster") else model
    single = booster.copy()
    single.set_param({"nthread": 1})
    return single


def outcome_of(spec: SystemSpec, raw: np.ndarray[Any, np.dtype[np.float64]]) -> Scored:
    """Return the outcome a model output implies under the system's decision rule.

    - binary: ``positive`` when ``raw[0]`` (the score) is at least the threshold, else
      ``negative``;
    - multiclass: the most probable class; ``score`` is its probability and ``probabilities``
      holds every class's;
    - ranking with declared ``items`` (the model gives one probability per item, in the order
      of ``items``): the outcome is the ``top_k`` most probable item ids, best first, joined by
      commas (``"savings,card,loan"``; ties keep the order of ``items``); ``score`` is the top
      item's probability and ``probabilities`` holds every item's. Item ids contain no comma,
      so ``outcome.split(",")`` gives the ranking back and ``split(",").index(item)`` an
      item's position (0 = top). The non-personalized fallback ranking is recorded the same way.
    - ranking without ``items`` (the model scores one item) and score: the value, as text.
    """
    decision = spec.decision
    if isinstance(decision, RankingDecision) and decision.items is not None:
        return _ranked(decision, decision.items, raw)
    if isinstance(decision, BinaryDecision):
        score = float(raw[0])
        outcome = decision.positive if score >= decision.threshold else decision.negative
        return Scored(score, outcome)
    if isinstance(decision, MulticlassDecision):
        if raw.size != len(decision.classes):
            raise InputError(
                f"the model gives {raw.size} class probabilities; the spec declares "
                f"{len(decision.classes)} classes"
            )
        best = int(np.argmax(raw))
        probabilities = {c: float(p) for c, p in zip(decision.classes, raw, strict=True)}
        return Scored(float(raw[best]), decision.classes[best], probabilities)
    if isinstance(decision, (ScoreDecision, RankingDecision)):
        value = float(raw[0])
        if isinstance(decision, ScoreDecision):
            low = decision.minimum if decision.minimum is not None else -np.inf
            high = decision.maximum if decision.maximum is not None else np.inf
            value = float(np.clip(value, low, high))
        return Scored(value, f"{value:.6g}")
    raise AssertionError(decision)  # pragma: no cover - the union is closed


def _ranked(
    decision: RankingDecision, items: list[str], raw: np.ndarray[Any, np.dtype[np.float64]]
) -> Scored:
    if raw.size != len(items):
        raise InputError(
            f"the model gives {raw.size} item probabilities; the spec declares {len(items)} items"
        )
    order = np.argsort(-raw, kind="stable")[: decision.top_k]
    probabilities = {item: float(p) for item, p in zip(items, raw, strict=True)}
    return Scored(float(raw[order[0]]), ",".join(items[i] for i in order), probabilities)


def caller_scored(spec: SystemSpec, score: float) -> Scored:
    """Return the outcome of a score the caller computed (systems without a model)."""
    if not np.isfinite(score):
        raise InputError(f"score must be a finite number; got {score!r}")
    if isinstance(spec.decision, BinaryDecision) and not 0.0 <= score <= 1.0:
        raise InputError(
            f"score must be between 0 and 1 for the binary system {spec.id!r} (it is compared "
            f"with the threshold {spec.decision.threshold:g}); got {score!r}"
        )
    if isinstance(spec.decision, MulticlassDecision) or (
        isinstance(spec.decision, RankingDecision) and spec.decision.items is not None
    ):
        raise InputError(
            f"a {spec.decision.kind} system over several classes or items needs its registered "
            "model; a single score is not enough"
        )
    return outcome_of(spec, np.array([score]))
