"""Count, mean and sum of squared deviations (M2) per group, merged from cells without loss.

``sqrt(E[x^2] - E[x]^2)`` cancels catastrophically when the spread is small next to the mean:
amounts around 1,000,000 with a spread of 1 lose seven of sixteen digits. Each engine returns
instead, per cell, the count, the mean and M2 (the sum of squared deviations from the cell's own
mean, computed in two passes), and cells merge with Chan, Golub and LeVeque's update,

    n = n_a + n_b,  mean = mean_a + d n_b / n,  M2 = M2_a + M2_b + d^2 n_a n_b / n,
    with d = mean_b - mean_a,

applied to all the cells of a group at once: ``M2 = sum M2_i + sum n_i (mean_i - mean)^2`` with
``mean = sum n_i mean_i / n``. An error in that mean adds only its square to M2 (the
deviations sum to zero), so the result matches ``numpy.std`` to the last few digits. The same
merge combines count tables of shards, windows and engines.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from ethica.fairness._group_metrics import FloatArray


def merge_moments(
    codes: npt.NDArray[np.int64],
    counts: FloatArray,
    means: FloatArray,
    m2: FloatArray,
    groups: int,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Merge cells' (count, mean, M2) into their groups' (``codes`` names each cell's group).

    Empty cells are skipped; a group with no rows has mean and M2 NaN.
    """
    counts = np.asarray(counts, dtype=np.float64)
    present = counts > 0
    weights = np.where(present, counts, 0.0)
    cell_means = np.where(present, means, 0.0)
    n = np.asarray(np.bincount(codes, weights=weights, minlength=groups), dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.bincount(codes, weights=weights * cell_means, minlength=groups) / n
    spread = np.where(present, cell_means - mean[codes], 0.0)
    within = np.bincount(codes, weights=np.where(present, m2, 0.0), minlength=groups)
    between = np.bincount(codes, weights=weights * spread * spread, minlength=groups)
    empty = n == 0
    return n, np.where(empty, np.nan, mean), np.where(empty, np.nan, within + between)


def merge_two(
    a: tuple[float, float, float], b: tuple[float, float, float]
) -> tuple[float, float, float]:
    """Chan et al.'s pairwise update of (count, mean, M2), e.g. for two shards' cells."""
    n_a, mean_a, m2_a = a
    n_b, mean_b, m2_b = b
    n = n_a + n_b
    if n_a == 0 or n_b == 0:
        return b if n_a == 0 else a
    d = mean_b - mean_a
    return n, mean_a + d * n_b / n, m2_a + m2_b + d * d * n_a * n_b / n
