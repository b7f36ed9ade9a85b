"""Each monitored feature's counts per window, in as few passes over the log as the engine allows.

A numeric feature is counted in the bins fixed by its :class:`FeatureBins`, with the in-memory
engine's arithmetic (``floor((x - low) / (high - low) * bins)`` in double precision, clipped to
the outer bins; NULL and NaN are missing), so every engine gives the same counts bit for bit:

- **DuckDB** reads the log once and streams the window and the numeric features as Arrow
  batches, each counted with ``numpy.bincount``: one scan for every feature, where a
  ``GROUP BY`` per feature decodes the file and its time column once per feature.
- **PostgreSQL** counts every numeric feature in one statement (one scan, ``GROUPING SETS`` of
  the window with each feature's integer bin code); nothing but the counts leaves the server.
  The server hashes grouping sets in one process, so :data:`PARTS` connections each run that
  statement over their share of the windows (window index modulo ``PARTS``), side by side.
- Categorical features, and the other engines, take one aggregation per feature.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal

import numpy as np

from ethica.engines import Aggregation, Col, Engine, SqlQuery, binned
from ethica.engines._sql import POSTGRESQL
from ethica.errors import EngineError, InputError
from ethica.monitoring._distribution import Distribution

#: The window index column of the windowed source (see :mod:`ethica.monitoring._windows`).
WINDOW = "__ethica_window"
#: Rows per Arrow batch streamed from DuckDB (memory stays bounded whatever the log's size).
BATCH_ROWS = 1 << 20
#: Connections that count PostgreSQL's features at once, each a share of the windows.
PARTS = 2


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
        counted = _grouping_sets(getattr(engine, "url"), source, numeric)  # noqa: B009
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
    names = list(numeric)
    cells: dict[str, dict[int, Any]] = {name: {} for name in names}
    batches = getattr(engine, "batches")  # noqa: B009 - DuckDBEngine's, not in the Protocol
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


def _grouping_sets(
    url: str, source: SqlQuery, numeric: Mapping[str, FeatureBins]
) -> dict[str, dict[int, Distribution]]:
    names = list(numeric)
    codes = ", ".join(f"{_code_sql(name, numeric[name])} AS c{i}" for i, name in enumerate(names))
    window = POSTGRESQL.identifier(WINDOW)
    sets = ", ".join(f"(w, c{i})" for i in range(len(names)))
    # PostgreSQL hashes grouping sets in one process (its parallel workers only read and code
    # the rows): each of PARTS connections counts its share of the windows instead.
    statements = [
        f"SELECT w, {', '.join(f'c{i}' for i in range(len(names)))}, COUNT(*) "
        f"FROM (SELECT {window} AS w, {codes} FROM ({source.sql}) AS s "
        f"WHERE ABS({window} % {PARTS}) = {part}) AS coded "  # before 1970 too
        f"GROUP BY GROUPING SETS ({sets})"
        for part in range(PARTS)
    ]
    with ThreadPoolExecutor(PARTS) as pool:
        answers = list(pool.map(partial(_counted_rows, url), statements))
    cells: dict[str, dict[int, Any]] = {name: {} for name in names}
    for rows in answers:
        for row in rows:
            w, *row_codes, n = row
            position = next(i for i, code in enumerate(row_codes) if code is not None)
            name = names[position]
            own = cells[name].setdefault(int(w), np.zeros(numeric[name].bins + 1, dtype=np.int64))
            own[int(row_codes[position])] += int(n)
    return {name: _distributions(cells[name], numeric[name]) for name in names}


def _counted_rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    import psycopg  # the PostgreSQL extra; its engine was found, so it is there

    try:
        with psycopg.connect(url) as connection:
            # The planner guesses millions of groups for each (window, code) pair, where there
            # are at most windows x (bins + 1): granted the memory for its guess, it hashes
            # every grouping set in one pass instead of sorting the rows once per feature.
            connection.execute("SET LOCAL work_mem = '64GB'")
            # One process per part: the parts are the parallelism.
            connection.execute("SET LOCAL max_parallel_workers_per_gather = 0")
            return connection.execute(sql).fetchall()
    except psycopg.errors.UndefinedColumn as error:
        raise InputError(f"PostgreSQL has no such column: {error}".strip()) from error
    except (psycopg.errors.DataError, psycopg.errors.UndefinedFunction) as error:
        raise InputError(f"a numeric feature must hold numbers: {error}".strip()) from error
    except psycopg.Error as error:
        raise EngineError(f"PostgreSQL could not count the features: {error}") from error


def _code_sql(name: str, bins: FeatureBins) -> str:
    """PostgreSQL's integer bin code of one value, with the in-memory engine's arithmetic."""
    x = f"CAST({POSTGRESQL.identifier(name)} AS DOUBLE PRECISION)"
    low, high, count = (POSTGRESQL.literal(v) for v in (bins.low, bins.high, bins.bins))
    raw = f"FLOOR(({x} - {low}) / ({high} - {low}) * {count})"
    # NULL and NaN first: GREATEST skips a NULL and ranks NaN above every number.
    return (
        f"CAST(CASE WHEN {x} IS NULL OR {x} = 'NaN' THEN {int(bins.bins)} "
        f"ELSE LEAST(GREATEST({raw}, 0), {int(bins.bins) - 1}) END AS INTEGER)"
    )


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
