"""Operating points of one group's thresholds, their upper convex hull, and its values on a grid.

Each threshold between two adjacent score bins is one operating point (a confusion matrix); the
points are those fairlearn's ThresholdOptimizer enumerates from the rows, here from the bins.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ethica.mitigation._score_curves import FloatArray, ScoreCurve

IntArray = np.ndarray[tuple[int], np.dtype[np.int64]]


@dataclass(frozen=True)
class Confusion:
    """Counts of the four cells, one entry per operating point."""

    true_positives: FloatArray
    false_positives: FloatArray
    true_negatives: FloatArray
    false_negatives: FloatArray

    @property
    def n(self) -> FloatArray:
        """Rows."""
        return (
            self.true_positives + self.false_positives + self.true_negatives + self.false_negatives
        )


Metric = Callable[[Confusion], FloatArray]

METRICS: dict[str, Metric] = {
    "selection_rate": lambda c: (c.true_positives + c.false_positives) / c.n,
    "true_positive_rate": lambda c: c.true_positives / (c.true_positives + c.false_negatives),
    "false_positive_rate": lambda c: c.false_positives / (c.false_positives + c.true_negatives),
    "accuracy_score": lambda c: (c.true_positives + c.true_negatives) / c.n,
    "balanced_accuracy_score": lambda c: (
        0.5 * c.true_positives / (c.true_positives + c.false_negatives)
        + 0.5 * c.true_negatives / (c.true_negatives + c.false_positives)
    ),
}


@dataclass(frozen=True)
class OperatingPoints:
    """Points sorted by (x, y): each with its threshold (select when score > threshold)."""

    x: FloatArray
    y: FloatArray
    thresholds: FloatArray


@dataclass(frozen=True)
class GridCurve:
    """A hull read at each grid value of x: a mix of two thresholds with weights p0 and p1."""

    y: FloatArray
    p0: FloatArray
    threshold0: FloatArray
    p1: FloatArray
    threshold1: FloatArray


def operating_points(curve: ScoreCurve, x_metric: str, y_metric: str) -> OperatingPoints:
    """Every threshold from "nobody" (+inf) through each bin boundary to "everyone" (-inf)."""
    tp, fp = _running_total(curve.positives), _running_total(curve.negatives)
    confusion = Confusion(tp, fp, fp[-1] - fp, tp[-1] - tp)
    x, y = METRICS[x_metric](confusion), METRICS[y_metric](confusion)
    thresholds = np.empty(len(curve.scores) + 1)
    thresholds[0], thresholds[-1] = np.inf, -np.inf
    # Midway between adjacent bins (scores descend); below the lowest, everyone.
    thresholds[1:-1] = (curve.scores[:-1] + curve.scores[1:]) / 2
    order = np.lexsort((y, x))
    return OperatingPoints(x[order], y[order], thresholds[order])


def _running_total(values: FloatArray) -> FloatArray:
    """0, then the running total of ``values``."""
    total = np.zeros(len(values) + 1)
    np.cumsum(values, out=total[1:])
    return total


def upper_hull(points: OperatingPoints) -> OperatingPoints:
    """Andrew's monotone chain over points sorted by (x, y), as fairlearn (same ties kept).

    Compiled where numba is installed (the same chain: the same points kept, tested).
    """
    try:
        from ethica.mitigation._compiled import upper_hull_indices
    except ImportError:  # numba is not installed: the chain in Python
        chosen = hull_indices(points.x, points.y)
    else:
        chosen = upper_hull_indices(points.x, points.y)
    return OperatingPoints(points.x[chosen], points.y[chosen], points.thresholds[chosen])


def hull_indices(x: FloatArray, y: FloatArray) -> IntArray:
    """Run the monotone chain in Python: return the indices of the points kept."""
    xs, ys = x.tolist(), y.tolist()
    kept: list[int] = []
    pop, push = kept.pop, kept.append
    for index, (x, y) in enumerate(zip(xs, ys, strict=True)):
        while len(kept) >= 2:
            first, last = kept[-2], kept[-1]
            x0, y0 = xs[first], ys[first]
            if (ys[last] - y0) * (x - x0) > (y - y0) * (xs[last] - x0):
                break  # a left turn: the last point stays on the hull
            pop()
        push(index)
    return np.asarray(kept, dtype=np.int64)


def on_grid(hull: OperatingPoints, grid: FloatArray) -> GridCurve:
    """Interpolate the hull at each grid value of x, between its two neighbouring points."""
    left = np.searchsorted(hull.x, grid, side="right") - 1
    left[1:] = np.where(grid[1:] == hull.x[left[1:]], left[1:] - 1, left[1:])
    right = left + 1
    p0 = (hull.x[right] - grid) / (hull.x[right] - hull.x[left])
    p1 = 1 - p0
    y = p0 * hull.y[left] + p1 * hull.y[right]
    return GridCurve(y, p0, hull.thresholds[left], p1, hull.thresholds[right])
