"""Each input feature's distribution in a model version's training data, in fixed bins.

The training summary records these counts once, when the model version is registered; every
window of the decision log is counted in the same bins, and drift is tested against them. A
numeric feature takes :data:`NUMERIC_BINS` equal bins over its training range; a category (or a
boolean, as ``true`` / ``false``) counts its labels. All the training rows are counted, not a
sample: a sample of a few hundred rows differs from its data by about as much as Evidently's
thresholds call drift, so a reference drawn from one raises alerts on unchanged inputs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ethica.errors import InputError
from ethica.monitoring._distribution import Distribution, FeatureType
from ethica.monitoring._feature_counts import FeatureBins, bin_codes

#: Bins of a numeric feature over its training range.
NUMERIC_BINS = 20


@dataclass(frozen=True)
class FeatureReference:
    """How a system's features are counted, and their distributions in the training data.

    ``sampled`` says the distributions are those of the training summary's background sample
    (a summary recorded before it kept every row's counts): enough to draw, too few to alert on.
    """

    bins: dict[str, FeatureBins]
    reference: dict[str, Distribution]
    sampled: bool = False


def numeric_bins(low: float, high: float) -> FeatureBins | None:
    """Return the bins of a numeric feature over its training range; None for no usable range."""
    if not np.isfinite(low) or not np.isfinite(high) or high <= low:
        return None
    return FeatureBins("numeric", float(low), float(high), NUMERIC_BINS)


def training_counts(
    frame: pd.DataFrame,
    *,
    features: Mapping[str, FeatureType],
    ranges: Mapping[str, tuple[float, float]],
) -> dict[str, dict[str, Any]]:
    """Count each feature of ``frame`` in its bins: the JSON data a training summary keeps.

    ``features`` gives each feature's type; a numeric feature is binned over its ``ranges``
    entry and left out without one (nothing to bin over).
    """
    counts: dict[str, dict[str, Any]] = {}
    for name, feature_type in features.items():
        if name not in frame:
            continue
        if feature_type == "numeric":
            bins = numeric_bins(*ranges.get(name, (np.nan, np.nan)))
            if bins is None:
                continue
            values = frame[name].astype("float64").to_numpy()
            counts[name] = {
                **as_dict(counted(values, bins)),
                "low": bins.low,
                "high": bins.high,
                "bins": bins.bins,
            }
        else:
            column = frame[name]
            present = [None if pd.isna(v) else v for v in column.astype(object)]
            counts[name] = as_dict(counted(present, FeatureBins("categorical")))
    return counts


def reference_of(stored: Mapping[str, Any], names: list[str]) -> FeatureReference | None:
    """Read the bins and distributions a summary counted of ``names``; None if of none."""
    bins: dict[str, FeatureBins] = {}
    reference: dict[str, Distribution] = {}
    try:
        for name in names:
            part = stored.get(name)
            if part is None:
                continue
            if part["type"] == "numeric":
                bins[name] = FeatureBins(
                    "numeric", float(part["low"]), float(part["high"]), int(part["bins"])
                )
            else:
                bins[name] = FeatureBins("categorical")
            reference[name] = distributions_of({name: part})[name]
    except (KeyError, TypeError, ValueError) as error:
        raise InputError(f"not a training summary's feature counts: {error!r}") from None
    return FeatureReference(bins, reference) if bins else None


def counted(values: Any, bins: FeatureBins) -> Distribution:
    """One feature's values as counts in its bins (None and NaN missing)."""
    if bins.feature_type == "numeric":
        codes = bin_codes([np.nan if v is None else v for v in values], bins)
        counts = np.bincount(codes, minlength=bins.bins + 1)
        seen = np.flatnonzero(counts[: bins.bins])
        return Distribution.from_counts(
            bins.centers()[seen], counts[seen], "numeric", int(counts[bins.bins])
        )
    present = [str(v).lower() if isinstance(v, bool) else str(v) for v in values if v is not None]
    labels, counts = np.unique(np.asarray(present, dtype=object), return_counts=True)
    return Distribution.from_counts(labels, counts, "categorical", len(values) - len(present))


def as_dict(distribution: Distribution) -> dict[str, Any]:
    """Return a distribution as JSON data (what a window and a training summary store)."""
    return {
        "type": distribution.feature_type,
        "values": [v if isinstance(v, str) else float(v) for v in distribution.values],
        "counts": [int(c) for c in distribution.counts],
        "missing": distribution.missing,
    }


def distributions_of(stored: Mapping[str, Any]) -> dict[str, Distribution]:
    """Read the distributions of stored counts (a window's ``features`` part), by feature."""
    return {
        name: Distribution.from_counts(
            part["values"], part["counts"], part["type"], int(part["missing"])
        )
        for name, part in stored.items()
    }
