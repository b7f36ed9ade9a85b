"""Performance while outcomes are late: estimated from calibrated scores (NannyML's CBPE idea).

Where a decision's outcome is not known yet, a calibrated score ``p`` is the chance that it will
be favourable, so the expected confusion counts of a window are sums of scores: the expected
true positives are the scores of the approved, the expected false positives ``n`` minus them,
and so on. Accuracy, TPR and FPR per group follow, with a normal interval from the variance of
a sum of independent Bernoulli outcomes (``sum p (1 - p)``, each score taken at its bin's
centre). The estimate is only as good as the calibration; it is replaced by the realised value
as outcomes arrive.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ethica.errors import InputError
from ethica.fairness import CountTable
from ethica.fairness._intervals import z_value


def estimated_performance(
    table: CountTable, *, by: Sequence[str] = (), confidence: float = 0.95
) -> pd.DataFrame:
    """Estimated accuracy, TPR and FPR per group of a window's decisions, from their scores.

    ``table`` counts decisions by prediction and score bin with the scores summed (a binary
    count table built with ``score=`` and fixed ``ScoreBins``). Returns one row per group:
    ``n``, ``accuracy`` with ``accuracy_low``/``accuracy_high``, ``tpr`` and ``fpr``.
    """
    cells = table.cells
    if table.kind != "binary" or "score_sum" not in cells or "score_bin" not in cells:
        raise InputError("estimating performance needs a binary count table with scores summed")
    if table.bins is None or table.bins.method != "equal_width":
        raise InputError("estimating performance needs scores in fixed equal-width bins")
    centres = table.bins.centers(cells["score_bin"].to_numpy())
    approved = cells["prediction"].to_numpy() == 1
    n = cells["n"].to_numpy(dtype=np.float64)
    scores = cells["score_sum"].to_numpy(dtype=np.float64)
    parts = pd.DataFrame(
        {
            "n": n,
            "tp": np.where(approved, scores, 0.0),
            "fp": np.where(approved, n - scores, 0.0),
            "fn": np.where(approved, 0.0, scores),
            "tn": np.where(approved, 0.0, n - scores),
            "variance": n * centres * (1.0 - centres),
        }
    )
    keys = list(by)
    for key in keys:
        parts[key] = cells[key].to_numpy()
    summed = parts.groupby(keys, sort=True).sum() if keys else parts.sum().to_frame().T
    z = z_value(confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        accuracy = (summed["tp"] + summed["tn"]) / summed["n"]
        half = z * np.sqrt(summed["variance"]) / summed["n"]
        out = pd.DataFrame(
            {
                "n": summed["n"].astype(np.int64),
                "accuracy": accuracy,
                "accuracy_low": (accuracy - half).clip(0.0, 1.0),
                "accuracy_high": (accuracy + half).clip(0.0, 1.0),
                "tpr": summed["tp"] / (summed["tp"] + summed["fn"]),
                "fpr": summed["fp"] / (summed["fp"] + summed["tn"]),
            }
        )
    return out.reset_index() if keys else out.reset_index(drop=True)


def realised_performance(table: CountTable, *, by: Sequence[str] = ()) -> pd.DataFrame:
    """Accuracy, TPR and FPR per group from decisions whose outcomes are known."""
    cells = table.cells
    if table.kind != "binary" or "label" not in cells:
        raise InputError("realised performance needs a binary count table with labels")
    label = cells["label"].to_numpy() == 1
    approved = cells["prediction"].to_numpy() == 1
    n = cells["n"].to_numpy(dtype=np.float64)
    parts = pd.DataFrame(
        {
            "n": n,
            "tp": np.where(label & approved, n, 0.0),
            "fp": np.where(~label & approved, n, 0.0),
            "fn": np.where(label & ~approved, n, 0.0),
            "tn": np.where(~label & ~approved, n, 0.0),
        }
    )
    keys = list(by)
    for key in keys:
        parts[key] = cells[key].to_numpy()
    summed = parts.groupby(keys, sort=True).sum() if keys else parts.sum().to_frame().T
    with np.errstate(divide="ignore", invalid="ignore"):
        out = pd.DataFrame(
            {
                "n": summed["n"].astype(np.int64),
                "accuracy": (summed["tp"] + summed["tn"]) / summed["n"],
                "tpr": summed["tp"] / (summed["tp"] + summed["fn"]),
                "fpr": summed["fp"] / (summed["fp"] + summed["tn"]),
            }
        )
    return out.reset_index() if keys else out.reset_index(drop=True)
