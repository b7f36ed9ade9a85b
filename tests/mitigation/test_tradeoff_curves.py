"""The hulls of all groups read on the grid at once equal those read group by group, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
from test_thresholds_vs_fairlearn import generated

from ethica.mitigation import count_arrays
from ethica.mitigation._score_curves import score_curves
from ethica.mitigation._tradeoff_curves import hulls_on_grid, on_grid, operating_points, upper_hull


@pytest.mark.parametrize(
    ("x_metric", "y_metric"),
    [
        ("selection_rate", "accuracy_score"),
        ("true_positive_rate", "balanced_accuracy_score"),
        ("false_positive_rate", "true_positive_rate"),
    ],
)
@pytest.mark.parametrize("digits", [1, 2, 3])
def test_all_groups_at_once_equal_each_group_alone(
    x_metric: str, y_metric: str, digits: int
) -> None:
    frame = generated(30_000)
    rng = np.random.default_rng(digits)
    # Groups of very different sizes (one of a few rows), few and many distinct scores.
    group = frame["group"].to_numpy("U1").copy()
    group[rng.random(len(group)) < 0.001] = "z"
    table = count_arrays(
        sensitive_features=group,
        label=frame["y"].to_numpy(),
        prediction=frame["pred"].to_numpy(),
        score=np.round(frame["score"].to_numpy(), digits),
    )
    curves = score_curves(table)
    grid = np.linspace(0, 1, 1001)
    hulls, together = hulls_on_grid(curves, x_metric, y_metric, grid)
    assert len(hulls) == len(curves) == together.y.shape[0] >= 4
    for row, curve in enumerate(curves):
        alone = upper_hull(operating_points(curve, x_metric, y_metric))
        for field in ("x", "y", "thresholds"):
            np.testing.assert_array_equal(getattr(hulls[row], field), getattr(alone, field))
        read = on_grid(alone, grid)
        for field in ("y", "p0", "threshold0", "p1", "threshold1"):
            np.testing.assert_array_equal(getattr(together, field)[row], getattr(read, field))
