"""Group-specific (randomised) thresholds for a parity criterion, from a count table.

The method is that of fairlearn's ``ThresholdOptimizer``: per group, the upper convex hull of the
trade-off between the constrained rate and the objective; the best common value of the rate on a
grid of ``grid_size + 1`` points; each group reaches it by mixing two thresholds (and, for
equalized odds, a coin). It runs on the count table, in O(groups x bins), on any engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from ethica.errors import InputError
from ethica.fairness import CountTable
from ethica.mitigation._policy import GroupRule, ThresholdPolicy
from ethica.mitigation._score_curves import FloatArray, ScoreCurve, score_curves
from ethica.mitigation._tradeoff_curves import (
    METRICS,
    Confusion,
    GridCurve,
    hulls_on_grid,
    on_grid,
)

Criterion = Literal["demographic_parity", "equal_opportunity", "equalized_odds"]
Objective = Literal["accuracy_score", "balanced_accuracy_score"]


@dataclass(frozen=True)
class ThresholdCriterion:
    """A criterion the thresholds can meet: the rate it equalises across groups."""

    name: str
    rate: str
    fairlearn_name: str
    description: str


THRESHOLD_CRITERIA: dict[str, ThresholdCriterion] = {
    c.name: c
    for c in (
        ThresholdCriterion(
            "demographic_parity",
            "selection_rate",
            "demographic_parity",
            "every group is selected at the same rate",
        ),
        ThresholdCriterion(
            "equal_opportunity",
            "true_positive_rate",
            "true_positive_rate_parity",
            "qualified customers of every group are selected at the same rate",
        ),
        ThresholdCriterion(
            "equalized_odds",
            "false_positive_rate",
            "equalized_odds",
            "equal true and false positive rates in every group",
        ),
    )
}


def group_thresholds(
    table: CountTable,
    *,
    criterion: Criterion = "demographic_parity",
    objective: Objective = "accuracy_score",
    grid_size: int = 1000,
    strength: float = 1.0,
) -> ThresholdPolicy:
    """Choose per-group thresholds that meet ``criterion`` and maximise ``objective``.

    Parameters
    ----------
    table
        A binary count table with labels and scores (``count_table(..., score=...)``).
    criterion
        ``"demographic_parity"``, ``"equal_opportunity"`` (equal true positive rates) or
        ``"equalized_odds"`` (equal true and false positive rates).
    objective
        ``"accuracy_score"`` or ``"balanced_accuracy_score"``.
    grid_size
        The common rate is chosen among ``grid_size + 1`` equally spaced values in [0, 1].
    strength
        How far each group moves from its rate as decided towards the common rate (1: all the
        way; 0.5: half way, which halves every gap in that rate), on its best trade-off curve.
        Below 1 for demographic parity and equal opportunity only.
    """
    if criterion not in THRESHOLD_CRITERIA:
        raise InputError(
            f"criterion must be one of {sorted(THRESHOLD_CRITERIA)}; got {criterion!r}"
        )
    if objective not in ("accuracy_score", "balanced_accuracy_score"):
        raise InputError(
            f"objective must be accuracy_score or balanced_accuracy_score; got {objective!r}"
        )
    if grid_size < 1:
        raise InputError(f"grid_size must be at least 1; got {grid_size}")
    if not 0.0 <= strength <= 1.0 or (strength < 1.0 and criterion == "equalized_odds"):
        raise InputError(
            "strength is a share in [0, 1], below 1 for demographic parity and equal "
            f"opportunity only; got {strength} for {criterion}"
        )
    curves = score_curves(table)
    for curve in curves:
        if curve.positives.sum() == 0 or curve.negatives.sum() == 0:
            raise InputError(
                f"group {curve.group!r} has only one label; "
                "thresholds need both outcomes in every group"
            )
    grid = np.linspace(0, 1, grid_size + 1)
    if criterion == "equalized_odds":
        return _equalized_odds(table, curves, grid, objective)
    rate = THRESHOLD_CRITERIA[criterion].rate
    hulls, on_grids = hulls_on_grid(curves, rate, objective, grid)
    total = sum(c.rows for c in curves)
    shares = np.array([c.rows / total for c in curves])
    overall = np.sum(shares[:, np.newaxis] * on_grids.y, axis=0)
    best = int(np.argmax(overall))
    rules = {c.group: _rule(c.group, on_grids, best, row=row) for row, c in enumerate(curves)}
    value = float(overall[best])
    if strength < 1.0:
        # Each group's own target between its rate as decided and the common one, read on
        # its hull (index 1 of a two-point grid: on_grid treats the first point apart).
        value = 0.0
        for c, hull in zip(curves, hulls, strict=True):
            start = _decided_rate(c, rate)
            target = start + strength * (float(grid[best]) - start)
            at = on_grid(hull, np.array([0.0, target]))
            rules[c.group] = _rule(c.group, at, 1)
            value += (c.rows / total) * float(at.y[1])
    return ThresholdPolicy.build(
        table,
        criterion,
        objective,
        rules,
        rate=float(grid[best]),
        objective_value=value,
        curves=curves,
        strength=strength,
    )


def _decided_rate(curve: ScoreCurve, rate: str) -> float:
    """Return the group's ``rate`` under the decisions as recorded."""
    tp, fp, fn, tn = (np.array([v]) for v in curve.recorded)
    return float(METRICS[rate](Confusion(tp, fp, tn, fn))[0])


def _equalized_odds(
    table: CountTable,
    curves: list[ScoreCurve],
    grid: FloatArray,
    objective: str,
) -> ThresholdPolicy:
    _, on_grids = hulls_on_grid(curves, "false_positive_rate", "true_positive_rate", grid)
    lowest = np.amin(on_grids.y, axis=0)
    positives = sum(float(c.positives.sum()) for c in curves)
    negatives = sum(float(c.negatives.sum()) for c in curves)
    confusion = Confusion(
        true_positives=positives * lowest,
        false_positives=negatives * grid,
        true_negatives=negatives * (1.0 - grid),
        false_negatives=positives * (1.0 - lowest),
    )
    values = np.around(METRICS[objective](confusion), 15)
    best = int(np.argmax(values))
    x_best, y_best = float(grid[best]), float(lowest[best])
    rules = {}
    for row, c in enumerate(curves):
        y = float(on_grids.y[row, best])
        # Where the group's hull lies above the common point, a coin replaces the decision by
        # a draw with P(select) = x_best (a point on the diagonal) to come down to it.
        ignore = 0.0 if y == x_best else (y - y_best) / (y - x_best)
        rules[c.group] = _rule(c.group, on_grids, best, row=row, ignore=ignore, constant=x_best)
    return ThresholdPolicy.build(
        table,
        "equalized_odds",
        objective,
        rules,
        rate=x_best,
        objective_value=float(values[best]),
        curves=curves,
    )


def _rule(
    group: str,
    curve: GridCurve,
    index: int,
    *,
    row: int | None = None,
    ignore: float = 0.0,
    constant: float = 0.0,
) -> GroupRule:
    """Read the group's rule at grid point ``index`` (of its ``row``: one row per group)."""
    at = index if row is None else (row, index)
    return GroupRule(
        group=group,
        p0=float(curve.p0[at]),
        threshold0=float(curve.threshold0[at]),
        p1=float(curve.p1[at]),
        threshold1=float(curve.threshold1[at]),
        p_ignore=float(ignore),
        constant=float(constant),
    )
