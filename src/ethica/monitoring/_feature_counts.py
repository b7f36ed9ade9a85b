"""Each monitored feature's counts per window, in as few passes over the log as the engine allows.

A numeric feature is counted in the bins fixed by its :class:`FeatureBins`, with the in-memory
engine's arithmetic (``floor((x - low) / (high - low) * bins)`` in double precision, clipped to
the outer bins; NULL and NaN are missing), so every engine gives the same counts bit for bit:

- **DuckDB** reads the log once and streams the window and the numeric features as Arrow
  batches, each counted with ``numpy.bincount``: one scan for every feature, where a
  ``GROUP BY`` per feature decodes the file and its time column once per feature.
- **PostgreSQL** sends the window and the numeric features in one binary ``COPY`` (the server
  only reads and sends), counted as DuckDB's batches are: hashing a (window, bin) group per
  feature and row in SQL costs the server several times what sending the value does. One
  ``COPY`` reads the log once; :func:`~ethica.monitoring._windows.build_windows` runs it beside
  the count tables' query, so the server still works in two processes.
- Categorical features, and the other engines, take one aggregation per feature.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from ethica.engines import Aggregation, Col, Engine, SqlQuery, binned
from ethica.engines._sql import POSTGRESQL
from ethica.errors import InputError
from ethica.monitoring._distribution import Distribution

#: The window index column of the windowed source (see :mod:`ethica.monitoring._windows`).
WINDOW = "__ethica_window"
#: Rows per Arrow batch streamed from DuckDB (memory stays bounded whatever the log's size).
BATCH_ROWS = 1 << 20


@dataclass(frozen=True)
class FeatureBins:
    """How one feature is counted in every window: equal bins over a fixed range, or labels.

    Bins come from the reference (the model version's training summary) so that windows and
    reference count the same cells; values outside the range fall into the outer bins.
    """

    feature_type: Literal["numeric", "categorical"]
    low: float = 0.0
    high: float = 1.0
    bins: int = 20

    def centers(self) -> np.ndarray[Any, np.dtype[np.float64]]:
        """Return the middle of each bin (the value a binned row stands for)."""
        width = (self.high - self.low) / self.bins
        return np.asarray(self.low + (np.arange(self.bins) + 0.5) * width, dtype=np.float64)


def feature_counts(
    source: Any, features: Mapping[str, FeatureBins], engine: Engine
) -> dict[str, dict[int, Distribution]]:
    """Each feature's distribution per window index, in the features' order."""
    numeric = {n: b for n, b in features.items() if b.feature_type == "numeric"}
    counted: dict[str, dict[int, Distribution]] = {}
    if numeric and engine.name == "duckdb":
        counted = _streamed(engine, source, numeric)
    elif numeric and engine.name == "postgresql" and isinstance(source, SqlQuery):
        window = POSTGRESQL.identifier(WINDOW)
        # The rows of no time are in no window.
        timed = SqlQuery(f"SELECT * FROM ({source.sql}) AS s WHERE {window} IS NOT NULL")
        counted = _streamed(engine, timed, numeric)
    for name, bins in features.items():
        if name not in counted:
            counted[name] = _one_feature(source, name, bins, engine)
    return {name: counted[name] for name in features}


def bin_codes(values: Any, bins: FeatureBins) -> np.ndarray[Any, np.dtype[np.int64]]:
    """Bin index of each value (0 .. bins - 1), ``bins`` for a missing value (None or NaN)."""
    try:
        numbers = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise InputError(f"a numeric feature holds values that are not numbers: {error}") from None
    index = np.floor((numbers - bins.low) / (bins.high - bins.low) * bins.bins)
    np.clip(index, 0.0, bins.bins - 1.0, out=index)
    index[np.isnan(index)] = bins.bins
    return index.astype(np.int64)


def _distributions(cells: Mapping[int, Any], bins: FeatureBins) -> dict[int, Distribution]:
    """Distributions from each window's counts per code (the last code counts the missing)."""
    centers = bins.centers()
    out = {}
    for window in sorted(cells):
        counts = np.asarray(cells[window], dtype=np.int64)
        seen = np.flatnonzero(counts[: bins.bins])
        out[window] = Distribution.from_counts(
            centers[seen], counts[seen], "numeric", int(counts[bins.bins])
        )
    return out


def _streamed(
    engine: Engine, source: Any, numeric: Mapping[str, FeatureBins]
) -> dict[str, dict[int, Distribution]]:
    """Count each batch the engine streams with numpy (DuckDB's Arrow, PostgreSQL's COPY)."""
    names = list(numeric)
    cells: dict[str, dict[int, Any]] = {name: {} for name in names}
    # DuckDB's and PostgreSQL's engines have it; it is not in the Engine Protocol.
    batches = getattr(engine, "batches")  # noqa: B009
    for batch in batches(source, [WINDOW, *names], rows=BATCH_ROWS):
        if batch.num_rows == 0:
            continue
        window = np.asarray(batch.column(0).to_numpy(zero_copy_only=False), dtype=np.int64)
        first = int(window.min())
        offset = window - first
        span = int(offset.max()) + 1
        present = np.flatnonzero(np.bincount(offset, minlength=span))
        for position, name in enumerate(names, start=1):
            width = numeric[name].bins + 1
            column = batch.column(position).to_numpy(zero_copy_only=False)
            codes = bin_codes(column, numeric[name])
            counts = np.bincount(offset * width + codes, minlength=span * width)
            counts = counts.reshape(span, width)
            own = cells[name]
            for row in present:
                key = first + int(row)
                own[key] = counts[row] + own[key] if key in own else counts[row]
    return {name: _distributions(cells[name], numeric[name]) for name in names}


def _one_feature(
    source: Any, name: str, bins: FeatureBins, engine: Engine
) -> dict[int, Distribution]:
    value = (
        binned(name, bins.low, bins.high, bins.bins)
        if bins.feature_type == "numeric"
        else Col(name)
    )
    cells = engine.aggregate(source, Aggregation(keys=((WINDOW, Col(WINDOW)), ("value", value))))
    out: dict[int, Distribution] = {}
    for key, part in cells.groupby(WINDOW, sort=True):
        absent = part["value"].isna().to_numpy()
        missing = int(part.loc[absent, "n"].sum())
        present = part.loc[~absent]
        if bins.feature_type == "numeric":
            values: Any = bins.centers()[present["value"].to_numpy(dtype=np.int64)]
        else:
            values = present["value"].astype(str).to_numpy(dtype=object)
        out[int(str(key))] = Distribution.from_counts(
            values, present["n"].to_numpy(dtype=np.int64), bins.feature_type, missing
        )
    return out
