"""The values a counterfactual may give each actionable feature, and what each change costs.

Numeric values lie on a grid of readable steps (:func:`readable_step`) within the spec's
[minimum, maximum], else the training range, on the side(s) the feature's direction allows;
categories and yes/no features take their other allowed values.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ethica.governance import FeatureSpec

_FloatArray = np.ndarray[Any, np.dtype[np.float64]]


@dataclass(frozen=True)
class Candidates:
    """One feature's current value and the values it may take, cheapest change first."""

    feature: FeatureSpec
    start: Any
    values: list[Any]  # ordered from the smallest change to the largest
    width: float = 1.0  # the range a numeric change is measured against
    numeric: bool = False
    # Numeric only: every grid value on each side of the start, nearest first.
    sides: list[list[Any]] = field(default_factory=list)

    @property
    def name(self) -> str:
        """The feature's name."""
        return self.feature.name

    def cost(self, value: Any) -> float:
        """Return the size of a change to ``value``: its share of the range, or 1 (category)."""
        if self.numeric:
            return abs(float(value) - float(self.start)) / self.width
        return 1.0

    def costs(self) -> _FloatArray:
        """Return :meth:`cost` of every value, in order."""
        if self.numeric:
            return np.abs(self.array() - float(self.start)) / self.width
        return np.ones(len(self.values))

    def array(self) -> np.ndarray[Any, Any]:
        """Return the values as the model is given them: float64 numbers, else objects."""
        if self.numeric:
            return np.asarray(self.values, dtype=np.float64)
        found = np.empty(len(self.values), dtype=object)
        found[:] = self.values
        return found


def readable_step(width: float, integer: bool) -> float:
    """Return the grid step of a numeric feature whose values span ``width``.

    A power of ten between a hundredth and a tenth of the range (1 for a range of 10 to 99,
    10 for 100 to 999), and at least 1 for integers: the customer reads "37", not "36.71".
    """
    step = 10.0 ** (math.floor(math.log10(max(width, 1e-12))) - 1)
    return max(step, 1.0) if integer else step


def missing(value: Any) -> bool:
    """Whether a feature's value is missing (None or NaN): such a feature is not changed."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def candidates_of(
    feature: FeatureSpec, value: Any, ranges: Mapping[str, tuple[float, float]]
) -> Candidates | None:
    """Return the values ``feature`` may take from ``value``, or None when it cannot change."""
    if not feature.actionable or missing(value):
        return None
    if feature.type == "boolean":
        allowed = {"increasing": [True], "decreasing": [False]}.get(
            feature.direction, [True, False]
        )
        flips: list[Any] = [v for v in allowed if v != bool(value)]
        return Candidates(feature, value, flips) if flips else None
    if feature.type == "category":
        others: list[Any] = [c for c in feature.categories or [] if c != value]
        return Candidates(feature, value, others) if others else None
    if feature.type not in ("number", "integer"):
        return None
    low, high = _bounds(feature, ranges)
    start = float(value)
    up = feature.direction in ("increasing", "none") and high is not None and high > start
    down = feature.direction in ("decreasing", "none") and low is not None and low < start
    if not (up or down):
        return None
    if low is not None and high is not None and high > low:
        width = float(high - low)
    else:  # one bound only: measure against the whole way to it
        width = abs(float(high if up else low) - start)  # type: ignore[arg-type]
    step = readable_step(width, feature.type == "integer")
    sides: list[list[Any]] = []
    if up:
        steps = np.arange(math.floor(start / step) + 1, math.floor(float(high) / step) + 1)  # type: ignore[arg-type]
        sides.append([_typed(k * step, feature) for k in steps])
    if down:
        steps = np.arange(math.ceil(start / step) - 1, math.ceil(float(low) / step) - 1, -1)  # type: ignore[arg-type]
        sides.append([_typed(k * step, feature) for k in steps])
    sides = [side for side in sides if side]
    if not sides:
        return None
    found = Candidates(feature, value, [], width=width, numeric=True, sides=sides)
    return with_values(found, [v for side in sides for v in side])


def with_values(candidates: Candidates, values: Iterable[Any]) -> Candidates:
    """Return ``candidates`` restricted to ``values`` (a subset of its grid), cheapest first."""
    ordered = sorted(set(values), key=lambda v: (candidates.cost(v), float(v)))
    return Candidates(
        candidates.feature,
        candidates.start,
        ordered,
        width=candidates.width,
        numeric=candidates.numeric,
        sides=candidates.sides,
    )


def as_far(reference: Any, value: Any, start: Any) -> bool:
    """Whether ``value`` changes at least as much as ``reference``, the same way (or equals it)."""
    if isinstance(reference, (int, float)) and not isinstance(reference, bool):
        moved, other = float(reference) - float(start), float(value) - float(start)
        return bool(np.sign(moved) == np.sign(other) and abs(other) >= abs(moved))
    return bool(reference == value)


def pair_values(
    candidates: Candidates, single: Any | None, alone: set[Any]
) -> tuple[list[int], _FloatArray]:
    """Positions (and costs) of the values a pair may use.

    A value that reverses the decision alone, or goes as far as the feature's cheapest single
    change (``single``), would make the pair's other change unneeded.
    """
    costs = candidates.costs()
    kept = [
        k
        for k, v in enumerate(candidates.values)
        if v not in alone and (single is None or not as_far(single, v, candidates.start))
    ]
    return kept, costs[kept]


def _bounds(
    feature: FeatureSpec, ranges: Mapping[str, tuple[float, float]]
) -> tuple[float | None, float | None]:
    observed = ranges.get(feature.name)
    low = feature.minimum if feature.minimum is not None else (observed[0] if observed else None)
    high = feature.maximum if feature.maximum is not None else (observed[1] if observed else None)
    return low, high


def _typed(value: float, feature: FeatureSpec) -> float | int:
    return round(value) if feature.type == "integer" else round(float(value), 10)
