"""What an attribution is: per declared feature, how far it moved the model's output.

:class:`Attribution` refuses contributions that do not add up to the model's output;
:func:`group_columns` sums the model's columns (one-hot and transformer outputs) into the
declared features. How attributions are computed lives in :mod:`ethica.explain._attribute`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

from ethica.errors import EthicaError, InputError
from ethica.governance import BinaryDecision, SystemSpec
from ethica.scoring import Scorer

Method = Literal[
    "lightgbm-treeshap", "xgboost-treeshap", "shap-tree", "linear-exact", "permutation"
]
Scale = Literal["log-odds", "probability", "value"]

#: How far baseline + Σ contributions may be from the output of a model computed in float64.
ADDITIVITY_TOLERANCE = 1e-6
#: The gap between 1 and the next float32: twice float32's unit roundoff.
FLOAT32_EPSILON = 2.0**-23


def float32_tolerance(magnitude: float, terms: int) -> float:
    """How far a float32 model's contributions may sum from its float32 output, by rounding.

    Summing ``n`` float32 numbers one after another errs by at most ``(n - 1) u Σ|x|`` with
    ``u`` = :data:`FLOAT32_EPSILON` / 2 (Higham, *Accuracy and Stability of Numerical
    Algorithms*, 2002, §4.2). XGBoost sums in float32 twice, the margin over its trees and each
    contribution over the same trees; so for ``terms`` = trees + columns + 1 and ``magnitude``
    the larger of ``|output|`` and ``|baseline| + Σ|contributions|`` the two errors together
    stay below ``terms × FLOAT32_EPSILON × magnitude``. Never tighter than
    :data:`ADDITIVITY_TOLERANCE`.
    """
    if terms < 1 or not math.isfinite(magnitude):
        raise InputError(f"terms must be at least 1 and magnitude finite; got {terms}, {magnitude}")
    return max(ADDITIVITY_TOLERANCE, terms * FLOAT32_EPSILON * max(1.0, abs(magnitude)))


class AdditivityError(EthicaError, ArithmeticError):
    """Contributions do not add up to the model's output; the attribution was not emitted."""


@dataclass(frozen=True)
class Attribution:
    """How much each declared feature moved the model's output away from a baseline.

    ``baseline + sum(contributions.values()) == output`` within ``tolerance``; constructing one
    that does not add up raises :class:`AdditivityError`.

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
    tolerance
        How far the sum may be from ``output``: :data:`ADDITIVITY_TOLERANCE` for models that
        compute in float64, :func:`float32_tolerance` for models that compute in float32.
    """

    baseline: float
    contributions: dict[str, float]
    output: float
    method: Method
    scale: Scale = "log-odds"
    sampling_error: dict[str, float] | None = field(default=None)
    tolerance: float = ADDITIVITY_TOLERANCE

    def __post_init__(self) -> None:
        total = math.fsum([self.baseline, *self.contributions.values()])
        if not math.isfinite(total) or abs(total - self.output) > self.tolerance:
            raise AdditivityError(
                f"{self.method} contributions add up to {total!r} but the model's output is "
                f"{self.output!r} (tolerance {self.tolerance:.3g}); the attribution is refused"
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
            "tolerance": self.tolerance,
        }


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


def scale_of(spec: SystemSpec) -> Scale:
    """Return the scale of a margin attribution: log-odds for a binary decision, else value."""
    return "log-odds" if isinstance(spec.decision, BinaryDecision) else "value"


def model_row(scorer: Scorer, features: Mapping[str, Any]) -> Any:
    """Return the scorer's own encoding of ``features``: the explained row is the scored row."""
    return scorer._encode(features)
