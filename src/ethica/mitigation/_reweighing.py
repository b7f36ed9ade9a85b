"""Reweighing (Kamiran & Calders, 2012): weights that make the label independent of the group.

A row of group g with label y weighs P(g) P(y) / P(g, y) = n_g n_y / (n n_gy), so in the weighted
data every group has the overall base rate. Group-blind at decision time: the weights only shape
training. Computed from the count table, on any engine.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from ethica.errors import InputError
from ethica.fairness import CountTable
from ethica.fairness._count_table import normalize_groups
from ethica.mitigation._score_curves import FloatArray


@dataclass(frozen=True)
class ReweighingWeights:
    """One weight per group (full intersection of the sensitive features) and label.

    Attributes
    ----------
    sensitive_features
        The features that define the groups.
    weights
        Columns: the features, ``label`` (1 favourable, 0 not), ``n`` and ``weight``.
    """

    sensitive_features: tuple[str, ...]
    weights: pd.DataFrame

    #: Weights shape training only; the decision never sees the protected attribute.
    uses_protected_attribute = False

    def for_rows(self, sensitive: pd.DataFrame, favourable: npt.ArrayLike) -> FloatArray:
        """Weight of each row, given its sensitive values and whether its label is favourable."""
        missing = [f for f in self.sensitive_features if f not in sensitive]
        if missing:
            raise InputError(f"sensitive column(s) {missing} missing from the rows")
        rows = sensitive[list(self.sensitive_features)].copy()
        rows["n"] = 1
        rows = normalize_groups(rows, self.sensitive_features)
        rows["label"] = np.asarray(favourable, dtype=bool).astype(np.int8)
        keys = [*self.sensitive_features, "label"]
        table = self.weights[[*keys, "weight"]].astype({"label": np.int8})
        joined = rows[keys].merge(table, on=keys, how="left")
        if joined["weight"].isna().any():
            raise InputError("some rows fall in a group and label the weights were not built from")
        return joined["weight"].to_numpy(np.float64)


def reweighing(table: CountTable) -> ReweighingWeights:
    """Kamiran-Calders weights per group and label, from a binary count table with labels."""
    if table.kind != "binary" or "label" not in table.keys:
        raise InputError("reweighing needs a binary count table with labels: pass label=")
    features = table.sensitive_features
    cells = table.grouped(features)
    counts = pd.DataFrame(cells.groupby([*features, "label"], as_index=False, sort=True)["n"].sum())
    n = float(counts["n"].sum())
    by_group = counts.groupby(list(features))["n"].transform("sum").to_numpy(np.float64)
    by_label = counts.groupby("label")["n"].transform("sum").to_numpy(np.float64)
    # The same order of operations as AIF360 (n_y * n_g / (n * n_gy)), so weights agree exactly.
    counts["weight"] = by_label * by_group / (n * counts["n"].to_numpy(np.float64))
    return ReweighingWeights(sensitive_features=features, weights=counts)
