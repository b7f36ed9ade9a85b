"""Operating points of one group's thresholds, their upper convex hull, and its values on a grid.

Each threshold between two adjacent score bins is one operating point (a confusion matrix); the
points are those fairlearn's ThresholdOptimizer enumerates from the rows, here from the bins.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ethica.mitigation._score_curves import FloatArray, ScoreCurve

IntArray = np.ndarray[tuple[int], np.dtype[np.int64]]
_ABOVE = np.array([np.inf])  # a score above every other: the threshold selecting nobody


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


def hulls_on_grid(
    curves: Sequence[ScoreCurve], x_metric: str, y_metric: str, grid: FloatArray
) -> tuple[list[OperatingPoints], GridCurve]:
    """Each group's upper hull, and every hull read on the grid at once (one row per group).

    The same numbers as :func:`operating_points`, :func:`upper_hull` and :func:`on_grid` group
    by group (the same operations on the same values, tested), in a few numpy calls for all
    groups instead of a few per group: the groups' operating points side by side.
    """
    sizes = np.array([len(c.scores) + 1 for c in curves])
    ends = np.cumsum(sizes)
    starts = ends - sizes
    # Each group's running totals after a 0: one running total over all groups, less the total
    # before the group (counts are whole numbers: sums and differences exact below 2**53).
    zero = np.zeros(1)
    tp = np.cumsum(np.concatenate([part for c in curves for part in (zero, c.positives)]))
    fp = np.cumsum(np.concatenate([part for c in curves for part in (zero, c.negatives)]))
    tp -= np.repeat(tp[starts], sizes)
    fp -= np.repeat(fp[starts], sizes)
    negatives, positives = np.repeat(fp[ends - 1], sizes), np.repeat(tp[ends - 1], sizes)
    confusion = Confusion(tp, fp, negatives - fp, positives - tp)
    x, y = METRICS[x_metric](confusion), METRICS[y_metric](confusion)
    # Midway between adjacent bins (scores descend); above the highest nobody, below everyone.
    scores = np.concatenate([part for c in curves for part in (_ABOVE, c.scores)])
    thresholds = np.empty(len(scores))
    thresholds[:-1] = (scores[:-1] + scores[1:]) / 2
    thresholds[starts] = np.inf
    thresholds[ends - 1] = -np.inf
    # Sorted by (x, y) within each group as they come, most often (a rate that rises as the
    # threshold falls): then the stable sort would keep every point where it is.
    ahead = (x[1:] > x[:-1]) | ((x[1:] == x[:-1]) & (y[1:] >= y[:-1]))
    ahead[ends[:-1] - 1] = True
    if not ahead.all():
        order = np.lexsort((y, x, np.repeat(np.arange(len(curves)), sizes)))
        x, y, thresholds = x[order], y[order], thresholds[order]
    hulls = [
        upper_hull(OperatingPoints(x[start:end], y[start:end], thresholds[start:end]))
        for start, end in zip(starts.tolist(), ends.tolist(), strict=True)
    ]
    return hulls, _on_grid_rows(hulls, grid)


def _on_grid_rows(hulls: Sequence[OperatingPoints], grid: FloatArray) -> GridCurve:
    """:func:`on_grid` of each hull, one row per hull, from the hulls side by side."""
    sizes = np.array([len(hull.x) for hull in hulls])
    starts = (np.cumsum(sizes) - sizes)[:, np.newaxis]
    x = np.concatenate([hull.x for hull in hulls])
    y = np.concatenate([hull.y for hull in hulls])
    thresholds = np.concatenate([hull.thresholds for hull in hulls])
    local = np.stack([np.searchsorted(hull.x, grid, side="right") for hull in hulls])
    # Every hull starts at x = 0 (nobody selected): no grid value lies left of a hull.
    left = local + (starts - 1)
    left[:, 1:] -= grid[1:] == x.take(left[:, 1:])
    right = left + 1
    x_left, x_right = x.take(left), x.take(right)
    p0 = (x_right - grid) / (x_right - x_left)
    p1 = 1 - p0
    y_grid = p0 * y.take(left) + p1 * y.take(right)
    return GridCurve(y_grid, p0, thresholds.take(left), p1, thresholds.take(right))
