"""What survived a synthetic release: marginal errors and the fairness audit beside the real one."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd

__all__ = ["UtilityReport", "binned", "marginal_errors", "utility_report"]


@dataclass(frozen=True)
class UtilityReport:
    """Marginal errors (total variation distance per marginal) and selection rates side by side."""

    marginals: pd.DataFrame
    fairness: pd.DataFrame

    def max_error(self, way: int) -> float:
        """Return the largest total variation distance among the ``way``-way marginals."""
        errors = self.marginals.loc[self.marginals["way"] == way, "error"]
        return float(errors.max()) if len(errors) else 0.0


def binned(frame: pd.DataFrame, cuts: dict[str, list[float]]) -> pd.DataFrame:
    """Numbers replaced by their bin (the same left-open bins OpenDP used), the rest as text."""
    out = pd.DataFrame(index=frame.index)
    for column in frame.columns:
        if column in cuts:
            edges = [-np.inf, *cuts[column], np.inf]
            codes = pd.cut(pd.to_numeric(frame[column]), edges, right=True, labels=False)
            out[column] = codes.astype("Int64").astype("string")
        else:
            out[column] = frame[column].astype("string")
    return out


def marginal_errors(
    real: pd.DataFrame, synthetic: pd.DataFrame, *, max_way: int = 3
) -> pd.DataFrame:
    """Total variation distance of every 1- to ``max_way``-way marginal of two binned frames."""
    rows = []
    columns = list(real.columns)
    for way in range(1, max_way + 1):
        for subset in combinations(columns, way):
            keys = list(subset)
            p = real.value_counts(subset=keys, normalize=True, dropna=False)
            q = synthetic.value_counts(subset=keys, normalize=True, dropna=False)
            p, q = p.align(q, fill_value=0.0)
            rows.append(
                {"way": way, "columns": " × ".join(keys), "error": 0.5 * float((p - q).abs().sum())}
            )
    return pd.DataFrame(rows, columns=["way", "columns", "error"])


def utility_report(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    *,
    cuts: dict[str, list[float]],
    sensitive_features: list[str],
    prediction: str,
    pos_label: object,
    label: str | None = None,
) -> UtilityReport:
    """Marginal errors and the audit's per-group metrics on the real and the synthetic data."""
    from ethica.fairness import audit

    marginals = marginal_errors(binned(real, cuts), binned(synthetic, cuts))
    sides = []
    needed = [*sensitive_features, prediction, *([label] if label else [])]
    for name, data in (("real", real), ("synthetic", synthetic)):
        # OpenDP keeps a null category per column; a row without a decision cannot be audited.
        data = data.dropna(subset=needed)
        result = audit(
            binned(data, {k: v for k, v in cuts.items() if k in sensitive_features}),
            sensitive_features=sensitive_features,
            prediction=prediction,
            label=label,
            pos_label=str(pos_label),
            engine="memory",
            min_group_size=1,
        )
        shown = result.comparisons[
            ["grouping", "group", "metric", "value", "value_low", "value_high", "difference"]
        ]
        sides.append(shown.set_index(["grouping", "group", "metric"]).add_prefix(f"{name}_"))
    fairness = sides[0].join(sides[1], how="outer").reset_index()
    return UtilityReport(marginals=marginals, fairness=fairness)
