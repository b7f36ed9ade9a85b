"""A feature's distribution as counts per value (or per bin), the unit every drift test reads.

Windows store counts, not rows, so every drift statistic is computed from counts: the same
numbers scipy gives on the rows those counts describe. Missing values (None, NaN, and
infinities) are counted apart and take no part in the statistics, as in Evidently.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
import pandas as pd

from ethica.errors import InputError

FeatureType = Literal["numeric", "categorical"]
FloatArray = np.ndarray[Any, np.dtype[np.float64]]
IntArray = np.ndarray[Any, np.dtype[np.int64]]


@dataclass(frozen=True)
class Distribution:
    """Counts of the distinct values of one feature, values sorted, missing values apart.

    Attributes
    ----------
    feature_type
        ``"numeric"`` (values are numbers, ordered) or ``"categorical"`` (values are labels).
    values
        The distinct non-missing values, sorted (numbers, or labels as text).
    counts
        How many rows hold each value (non-negative integers, same length as ``values``).
    missing
        How many rows had no value.
    """

    feature_type: FeatureType
    values: np.ndarray[Any, Any]
    counts: IntArray
    missing: int = 0

    def __post_init__(self) -> None:
        if len(self.values) != len(self.counts):
            raise InputError("a distribution needs one count per value")
        if len(self.counts) and int(np.min(self.counts)) < 0:
            raise InputError("counts of a distribution cannot be negative")

    @property
    def total(self) -> int:
        """Rows with a value (missing ones left out)."""
        return int(np.sum(self.counts, dtype=np.int64))

    @classmethod
    def of(cls, data: Any, feature_type: FeatureType | None = None) -> Distribution:
        """Count the values of a column (array, list or pandas Series)."""
        series = pd.Series(data)
        if feature_type is None:
            numeric = pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(
                series
            )
            feature_type = "numeric" if numeric else "categorical"
        if feature_type == "numeric" and _plain_numbers(series):
            return cls.sorted_counts(np.sort(series.to_numpy(dtype=np.float64, na_value=np.nan)))
        present = series.dropna()
        missing = len(series) - len(present)
        if feature_type == "numeric":
            numbers = pd.to_numeric(present, errors="coerce").to_numpy(dtype=np.float64)
            if np.isnan(numbers).any():
                raise InputError("a numeric feature holds values that are not numbers")
            distribution = cls.sorted_counts(np.sort(numbers))
            return replace(distribution, missing=distribution.missing + missing)
        # Hashing the values, then naming the few distinct ones, beats sorting every row's text.
        seen = present.value_counts(sort=False)
        seen = seen[seen > 0]  # a categorical dtype lists categories no row holds
        return cls.from_counts(
            seen.index.astype(str).to_numpy(dtype=object), seen.to_numpy(), "categorical", missing
        )

    @classmethod
    def sorted_counts(cls, numbers: FloatArray) -> Distribution:
        """Count the values of a sorted float array (NaN last, as ``numpy.sort`` puts them).

        NaN and infinities are missing, as in Evidently: no distance is defined to them. One
        sort and one comparison of neighbours: the cost of ``numpy.unique`` without its copies.
        """
        low = int(np.searchsorted(numbers, -np.inf, side="right"))
        high = int(np.searchsorted(numbers, np.inf, side="left"))
        finite = numbers[low:high]
        if len(finite) == 0:
            return cls("numeric", finite, np.zeros(0, dtype=np.int64), len(numbers))
        first = np.concatenate(([0], np.flatnonzero(finite[1:] != finite[:-1]) + 1))
        counts = np.diff(np.append(first, len(finite))).astype(np.int64)
        return cls("numeric", finite[first], counts, len(numbers) - len(finite))

    @classmethod
    def from_counts(
        cls,
        values: Any,
        counts: Any,
        feature_type: FeatureType,
        missing: int = 0,
    ) -> Distribution:
        """Build a distribution from (value, count) pairs in any order; repeated values add up."""
        raw = np.asarray(values, dtype=np.float64 if feature_type == "numeric" else object)
        if feature_type == "categorical":
            raw = raw.astype(str).astype(object)
        weights = np.asarray(counts, dtype=np.int64)
        if raw.shape != weights.shape:
            raise InputError("a distribution needs one count per value")
        unique, inverse = np.unique(raw, return_inverse=True)
        summed = np.zeros(len(unique), dtype=np.int64)
        np.add.at(summed, inverse.reshape(-1), weights)
        return cls(feature_type, unique, summed, int(missing))

    def merge(self, other: Distribution) -> Distribution:
        """Return the distribution of both sets of rows together (windows add up)."""
        if other.feature_type != self.feature_type:
            raise InputError("cannot merge a numeric and a categorical distribution")
        return Distribution.from_counts(
            np.concatenate([self.values, other.values]),
            np.concatenate([self.counts, other.counts]),
            self.feature_type,
            self.missing + other.missing,
        )

    def distinct(self) -> int:
        """Count the distinct non-missing values."""
        return int(np.count_nonzero(self.counts))


def _plain_numbers(series: pd.Series[Any]) -> bool:
    """Whether a column holds numbers only (floats or integers, not booleans nor objects)."""
    dtype = series.dtype
    return isinstance(dtype, np.dtype) and dtype.kind in "fiu"


def aligned(reference: Distribution, current: Distribution) -> tuple[Any, IntArray, IntArray]:
    """Return the union of both supports, sorted, and each side's counts on it (0 if absent)."""
    if reference.feature_type != current.feature_type:
        raise InputError(
            "reference and current data have different feature types "
            f"({reference.feature_type} and {current.feature_type})"
        )
    support = np.union1d(reference.values, current.values)
    return support, _on(support, reference), _on(support, current)


def _on(support: np.ndarray[Any, Any], distribution: Distribution) -> IntArray:
    counts = np.zeros(len(support), dtype=np.int64)
    if len(distribution.values):
        counts[np.searchsorted(support, distribution.values)] = distribution.counts
    return counts
