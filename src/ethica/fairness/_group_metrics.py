"""Metrics of each group of one grouping, as arrays, plus the counts behind every proportion."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class GroupMetrics:
    """Per-group metrics of one grouping (or of the whole population, as one group).

    Attributes
    ----------
    grouping
        The sensitive features that define the groups, e.g. ``("sex", "race")``.
    groups
        One row per group: a column per feature of the grouping, and ``n``.
    values
        Each metric's value per group, in the order of ``groups``.
    rates
        For metrics that are proportions: the numerator and denominator per group, which the
        intervals and significance tests use.
    means
        For metrics that are means of a per-row quantity (exposure per item): its sum and sum
        of squares per group (over the group's rows), which the normal intervals and tests use.
    curves
        Per-group tables such as calibration by score bin, keyed by name.
    shares
        For metrics that are a group's share of a total (its share of all exposure, of the
        top-k): the per-item metric whose total is shared, e.g. ``share_of_exposure`` ->
        ``exposure_per_item``. A share is compared with the group's share of the population,
        not with the overall share (1 by construction).
    supports
        For metrics that rest on fewer rows than the group's and are not rates (balanced
        accuracy, F1, ROC AUC): those rows per group. See :meth:`support`.
    """

    grouping: tuple[str, ...]
    groups: pd.DataFrame
    values: dict[str, FloatArray]
    rates: dict[str, tuple[FloatArray, FloatArray]] = field(default_factory=dict)
    means: dict[str, tuple[FloatArray, FloatArray]] = field(default_factory=dict)
    curves: Mapping[str, pd.DataFrame] = field(default_factory=dict)
    shares: dict[str, str] = field(default_factory=dict)
    supports: dict[str, FloatArray] = field(default_factory=dict)

    @property
    def sizes(self) -> FloatArray:
        """Rows per group."""
        return np.asarray(self.groups["n"], dtype=np.float64)

    @property
    def proportions(self) -> set[str]:
        """Metrics on the 0-1 scale whose gaps are read in percentage points."""
        return set(self.rates) | set(self.shares)

    def support(self, metric: str) -> FloatArray:
        """Rows a metric's value rests on, per group: the minimum group size applies to these.

        A rate's denominator (positives for the true positive rate, negatives for the false
        positive rate, predicted positives for precision), else the group's rows.
        """
        if metric in self.supports:
            return self.supports[metric]
        if metric in self.rates:
            return np.asarray(self.rates[metric][1], dtype=np.float64)
        return self.sizes

    def frame(self) -> pd.DataFrame:
        """Return groups as rows and metrics as columns, indexed by the grouping's features."""
        out = pd.DataFrame(self.values, index=self._index())
        out.insert(0, "count", self.groups["n"].to_numpy())
        return out

    def _index(self) -> pd.Index[Any]:
        if not self.grouping:  # the whole population: one unnamed row
            return pd.RangeIndex(len(self.groups))
        if len(self.grouping) == 1:
            index: pd.Index[Any] = pd.Index(self.groups[self.grouping[0]], name=self.grouping[0])
            return index
        return pd.MultiIndex.from_frame(self.groups[list(self.grouping)])


def ratio(numerator: Any, denominator: Any) -> FloatArray:
    """Numerator / denominator, NaN where the denominator is zero (the metric is undefined)."""
    num = np.asarray(numerator, dtype=np.float64)
    den = np.asarray(denominator, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
