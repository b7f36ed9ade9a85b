"""The in-memory engine: a vectorized group-by in numpy over pandas, polars or Arrow columns.

Each key is turned into small integer codes, the codes are combined into one cell index, and
``np.bincount`` counts rows and sums values per cell in a single pass over the data.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from ethica.engines._aggregation import Aggregation, Apply, Col, ColumnProfile, Expr
from ethica.errors import InputError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
#: Key codes and cell indexes, in the narrowest integer type that holds them.
CodeArray = npt.NDArray[np.integer[Any]]

# Above this many possible cells the dense bincount would waste memory; compact the codes first.
_DENSE_CELL_LIMIT = 1 << 24


class MemoryEngine:
    """Aggregate tables that are already in this process's memory."""

    name = "memory"

    def columns(self, source: Any) -> list[str]:
        """Column names of ``source``."""
        return list(_as_pandas(source).columns)

    def profile(
        self, source: Any, column: str, *, distinct: bool = True, distinct_limit: int | None = None
    ) -> ColumnProfile:
        """Rows, non-null values, range and (when asked) distinct values of ``column``."""
        values = _numeric(_as_pandas(source)[column], column)
        present = values[~np.isnan(values)]
        counted = int(np.unique(present).size) if distinct else None
        if counted is not None and distinct_limit is not None:
            counted = min(counted, int(distinct_limit) + 1)
        return ColumnProfile(
            rows=int(values.size),
            non_null=int(present.size),
            minimum=float(present.min()) if present.size else None,
            maximum=float(present.max()) if present.size else None,
            distinct=counted,
        )

    def aggregate(self, source: Any, aggregation: Aggregation) -> pd.DataFrame:
        """Run ``aggregation`` over ``source`` and return one row per non-empty cell."""
        frame = _as_pandas(source)
        evaluator = _Evaluator(frame)
        codes: list[CodeArray] = []
        uniques: list[pd.Index[Any]] = []
        for _, expr in aggregation.keys:
            code, unique = _factorize(evaluator.key(expr))
            codes.append(code)
            uniques.append(unique)
        sizes = [len(u) for u in uniques]
        cell = _combine(codes, sizes, len(frame))
        cells = int(np.prod(sizes, dtype=np.float64)) if sizes else 1
        if cells > _DENSE_CELL_LIMIT:
            occupied, cell = np.unique(cell, return_inverse=True)
            cells = occupied.size
        else:
            occupied = None
        counts = np.bincount(cell, minlength=cells)
        # Without keys SQL returns one row even for an empty table; so does this engine.
        present = np.flatnonzero(counts) if sizes else np.zeros(1, dtype=np.int64)
        result: dict[str, Any] = {}
        flat = present if occupied is None else occupied[present]
        positions = np.unravel_index(flat, sizes) if sizes else ()
        for (name, _), unique, position in zip(aggregation.keys, uniques, positions, strict=True):
            result[name] = unique.take(position).to_numpy(dtype=object)
        result["n"] = counts[present].astype(np.int64)
        # Added in row order, the sums are the same on every run: exact sums need no more here.
        for name, expr in (*aggregation.sums, *aggregation.exact_sums):
            result[name] = _sum(cell, evaluator.value(expr), cells)[present]
        for name, expr in aggregation.ranges:
            low, high = _range(cell, evaluator.value(expr), cells)
            result[f"{name}_min"], result[f"{name}_max"] = low[present], high[present]
        for name, expr in aggregation.deviations:
            result[name] = _squared_deviations(cell, evaluator.value(expr), cells)[present]
        return pd.DataFrame(result)


def _squared_deviations(cell: CodeArray, values: FloatArray, cells: int) -> FloatArray:
    """Per-cell sum of squared deviations from the cell's mean, the mean taken first."""
    present = ~np.isnan(values)
    counts = np.bincount(cell[present], minlength=cells)
    with np.errstate(divide="ignore", invalid="ignore"):
        means = _sum(cell, values, cells) / counts
    deviation = np.where(present, values - means[cell], np.nan)
    return _sum(cell, deviation * deviation, cells)


def _range(cell: CodeArray, values: FloatArray, cells: int) -> tuple[FloatArray, FloatArray]:
    """Per-cell minimum and maximum with SQL's ``MIN``/``MAX``: NaN where all are missing."""
    low, high = np.full(cells, np.inf), np.full(cells, -np.inf)
    present = ~np.isnan(values)
    np.minimum.at(low, cell[present], values[present])
    np.maximum.at(high, cell[present], values[present])
    empty = np.bincount(cell[present], minlength=cells) == 0
    low[empty], high[empty] = np.nan, np.nan
    return low, high


def _sum(cell: CodeArray, weights: FloatArray, cells: int) -> FloatArray:
    """Per-cell sums with SQL's ``SUM``: missing values skipped, NaN where all are missing."""
    missing = np.isnan(weights)
    if not missing.any() and cell.size:
        return np.bincount(cell, weights=weights, minlength=cells).astype(np.float64, copy=False)
    weights = np.where(missing, 0.0, weights)
    sums = np.bincount(cell, weights=weights, minlength=cells).astype(np.float64, copy=False)
    present = np.bincount(cell, weights=~missing, minlength=cells)
    sums[present == 0] = np.nan
    return sums


def _as_pandas(source: Any) -> pd.DataFrame:
    if isinstance(source, pd.DataFrame):
        return source
    if isinstance(source, Mapping):
        return pd.DataFrame({str(k): np.asarray(v) for k, v in source.items()})
    to_pandas = getattr(source, "to_pandas", None)  # pyarrow.Table, polars.DataFrame
    if callable(to_pandas):
        return pd.DataFrame(to_pandas())
    collect = getattr(source, "collect", None)  # polars.LazyFrame
    if callable(collect) and hasattr(source, "collect_schema"):
        return _as_pandas(collect())
    raise InputError(
        f"the memory engine cannot read a {type(source).__name__}; pass a pandas, polars or "
        "pyarrow table, or a mapping of column names to arrays"
    )


def _numeric(series: pd.Series[Any], column: str) -> FloatArray:
    try:
        return np.asarray(pd.to_numeric(series, errors="raise"), dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise InputError(f"column {column!r} must be numeric: {error}") from error


def _factorize(values: pd.Series[Any]) -> tuple[CodeArray, pd.Index[Any]]:
    """Small non-negative integer codes for ``values``, missing values a code of their own.

    Codes keep the narrowest integer type they fit in: at 10^7 rows every widening copy shows.
    """
    if isinstance(values.dtype, pd.CategoricalDtype):
        raw = values.cat.codes.to_numpy()
        categories = values.cat.categories
        if raw.size and raw.min() < 0:
            raw = np.where(raw < 0, len(categories), raw)
            return raw, pd.Index([*categories, None], dtype=object)
        return raw, pd.Index(categories)
    array = values.to_numpy()
    if array.dtype.kind == "b":
        return array.view(np.uint8), pd.Index([False, True])
    if array.dtype.kind in "iu" and array.size:
        low, high = int(array.min()), int(array.max())
        # Past the signed 64-bit range (uint64) the labels are factorized, not offset into int64.
        if high - low < _DENSE_CELL_LIMIT and high < 2**63:
            codes = array if low == 0 else array - np.asarray(low, dtype=array.dtype)
            return codes, pd.Index(np.arange(low, high + 1, dtype=np.int64))
    code, unique = pd.factorize(values, use_na_sentinel=False)
    return np.asarray(code), pd.Index(unique)


def _combine(codes: list[CodeArray], sizes: list[int], rows: int) -> CodeArray:
    """One cell index per row: the mixed-radix number formed by the key codes."""
    if not codes:
        return np.zeros(rows, dtype=np.int64)
    cells = int(np.prod(sizes, dtype=np.float64))
    cell: CodeArray = (
        codes[0].astype(np.int32) if cells < np.iinfo(np.int32).max else codes[0].astype(np.int64)
    )
    for code, size in zip(codes[1:], sizes[1:], strict=True):
        cell *= size
        cell += code
    return cell


class _Evaluator:
    """Evaluates expressions over a pandas frame with the same arithmetic as the SQL engines."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self._frame = frame
        self._functions: dict[str, Callable[[Apply], FloatArray]] = {
            "sub": lambda e: self.value(e.args[0]) - self.value(e.args[1]),
            "mul": lambda e: self.value(e.args[0]) * self.value(e.args[1]),
            "abs": lambda e: np.abs(self.value(e.args[0])),
            "square": lambda e: self.value(e.args[0]) * self.value(e.args[0]),
            "discount": lambda e: 1.0 / (np.log(self.value(e.args[0]) + 1.0) / np.log(2.0)),
            "gain": lambda e: np.power(2.0, self.value(e.args[0])) - 1.0,
            "bin": self._bin,
            "cap": lambda e: np.minimum(self.value(e.args[0]), e.params[0]),
            "shift": lambda e: self.value(e.args[0]) - e.params[0],
            "ideal_rank": self._ideal_rank,
        }

    def column(self, name: str) -> pd.Series[Any]:
        if name not in self._frame.columns:
            available = [str(c) for c in self._frame.columns[:30]]
            raise InputError(f"column {name!r} not found; the input has {available}")
        return self._frame[name]

    def key(self, expr: Expr) -> pd.Series[Any]:
        if isinstance(expr, Col):
            return self.column(expr.name)
        return pd.Series(self.value(expr))

    def value(self, expr: Expr) -> FloatArray:
        if isinstance(expr, Col):
            return _numeric(self.column(expr.name), expr.name)
        return self._functions[expr.function](expr)

    def _bin(self, expr: Apply) -> FloatArray:
        low, high, bins = expr.params
        index = np.floor((self.value(expr.args[0]) - low) / (high - low) * bins)
        return np.clip(index, 0.0, bins - 1.0)

    def _ideal_rank(self, expr: Apply) -> FloatArray:
        partition = self.key(expr.args[0])
        relevance, position = (self.value(arg) for arg in expr.args[1:])
        order = pd.DataFrame({"p": partition.to_numpy(), "r": -relevance, "q": position})
        order = order.sort_values(["p", "r", "q"], kind="stable")
        rank = order.groupby("p", sort=False, dropna=False).cumcount().to_numpy() + 1
        out = np.empty(len(order), dtype=np.float64)
        out[order.index.to_numpy()] = rank
        return out
