"""Sums of count-table cells over a grouping, keyed on integer codes instead of group names.

The cells of a count table name their groups in text, and grouping by text (pyarrow strings in
pandas 3) is slow; an audit sums the same cells over a dozen groupings. So each column is
factorized once (codes of its distinct values in sorted order), a grouping's key is the
mixed-radix number of its columns' codes, and pandas sums over that one integer key. The rows
of each group are still added in the cells' order by the same pandas routine, so every sum is
the very number a group-by over the names gives, to the last bit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from ethica.fairness._moments import merge_moments

Codes = npt.NDArray[np.int64]
#: Columns with this suffix hold squared deviations from the cell's mean (see ``sum_cells``).
M2_SUFFIX = "_m2"
_WIDEST_KEY = 2**62


@dataclass(frozen=True)
class Factorized:
    """A column as codes: each row's position among the column's sorted distinct values.

    ``values``: those distinct values, in order (``size`` of them).
    """

    codes: Codes
    size: int
    values: Any


@dataclass(frozen=True)
class Rollup:
    """Cells summed to one grouping and the decision keys, with each summed cell's group.

    Attributes
    ----------
    cells
        One row per group and decision cell, sorted by the grouping's features then the keys:
        the features, the keys, ``n`` and the sums.
    codes
        Each row's group: its position in ``groups``.
    groups
        The grouping's groups in sorted order, one column per feature (one row, no columns, for
        the empty grouping: everyone).
    """

    cells: pd.DataFrame
    codes: Codes
    groups: pd.DataFrame


FactorizedColumn = Callable[[str], "Factorized | None"]


def factorize_sorted(values: pd.Series) -> Factorized | None:
    """Codes of a column's sorted distinct values; None when it has a missing value.

    A missing value, or values that do not sort, leave the column to pandas' own group-by.
    """
    try:
        codes, uniques = pd.factorize(values, sort=True, use_na_sentinel=True)
    except TypeError:
        return None
    if len(codes) and int(codes.min()) < 0:
        return None
    return Factorized(np.asarray(codes, dtype=np.int64), len(uniques), uniques)


def combined_key(parts: Sequence[Factorized], rows: int) -> Codes:
    """One integer per row that sorts as the rows' codes sort, column after column."""
    return _combined_key(parts, rows)[0]


def distinct_keys(key: Codes, span: int) -> tuple[Codes, Codes]:
    """Each row's rank among the distinct keys (ascending), and each distinct key's first row.

    The same as ``np.unique(key, return_index=True, return_inverse=True)`` for keys in
    ``[0, span)``; where the span is not much wider than the rows, a table of the keys present
    replaces the sort (an audit ranks the same cells a few dozen times).
    """
    rows = len(key)
    if span > 4 * rows + 4096:
        _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        return inverse.astype(np.int64).reshape(-1), first.astype(np.int64)
    present = np.zeros(span, dtype=bool)
    present[key] = True
    rank = np.cumsum(present, dtype=np.int64) - 1
    codes = rank[key]
    first = np.full(int(present.sum()), rows, dtype=np.int64)
    np.minimum.at(first, codes, np.arange(rows, dtype=np.int64))
    return codes, first


def _combined_key(parts: Sequence[Factorized], rows: int) -> tuple[Codes, int]:
    """:func:`combined_key` and the bound of its values."""
    key = np.zeros(rows, dtype=np.int64)
    span = 1
    for part in parts:
        if span * max(part.size, 1) >= _WIDEST_KEY:
            # Renumber the distinct keys so far (order kept) before the number grows too wide.
            distinct, inverse = np.unique(key, return_inverse=True)
            key, span = inverse.astype(np.int64).reshape(-1), len(distinct)
        key = key * part.size + part.codes
        span *= max(part.size, 1)
    return key, span


def sum_cells(
    cells: pd.DataFrame,
    by: list[str],
    sums: list[str],
    factorized: FactorizedColumn | None = None,
) -> pd.DataFrame:
    """Add up the cells that share ``by``: counts and sums add, M2 columns merge.

    A column ``<x>_m2`` (squared deviations from the cell's mean, next to its sum ``<x>_sum``)
    does not add up: cells with different means merge by Chan et al.'s update (``_moments``).
    ``factorized`` gives a column's codes when they are already known (a count table keeps
    them); otherwise each column of ``by`` is factorized here. The range of a score
    (``score_min``, ``score_max``) merges as a range: least and greatest.
    """
    return _sum_cells(cells, by, sums, factorized or _factorize_from(cells))[0]


def roll_up(
    cells: pd.DataFrame,
    grouping: Sequence[str],
    keys: Sequence[str],
    sums: list[str],
    factorized: FactorizedColumn,
) -> Rollup:
    """Sum ``cells`` to ``grouping`` and ``keys``, and tell each summed cell's group."""
    by = list(grouping)
    summed, first = _sum_cells(cells, [*by, *keys], sums, factorized)
    if not by:
        everyone = pd.DataFrame(index=pd.RangeIndex(1))
        return Rollup(summed, np.zeros(len(summed), dtype=np.int64), everyone)
    parts = [factorized(f) for f in by]
    if first is not None and all(p is not None for p in parts):
        # Summed cells are sorted by the grouping first: a group starts where its key changes.
        group_key = combined_key([p for p in parts if p is not None], len(cells))[first]
        changes = np.r_[True, group_key[1:] != group_key[:-1]]
        codes = (np.cumsum(changes) - 1).astype(np.int64)
        groups = summed[by].iloc[np.flatnonzero(changes)].reset_index(drop=True)
        return Rollup(summed, codes, groups)
    codes = np.asarray(summed.groupby(by, sort=True, dropna=False).ngroup(), dtype=np.int64)
    groups = summed[by].drop_duplicates().sort_values(by).reset_index(drop=True)
    return Rollup(summed, codes, groups)


def sum_by_code(values: pd.Series | npt.NDArray[Any], codes: Codes) -> pd.Series:
    """Sum floats per code (codes 0..G-1, each present), as pandas' group-by adds them."""
    series = values if isinstance(values, pd.Series) else pd.Series(values)
    summed = series.reset_index(drop=True).groupby(_grouper(codes), observed=False).sum()
    return summed.reset_index(drop=True)


def _grouper(codes: Codes) -> pd.CategoricalIndex:
    """Codes 0..G-1 (each present) as pandas' own group numbers, so it does not hash them again.

    Grouped by a plain integer array, pandas factorizes it first (a hash of every cell, a
    dozen times an audit); the categories 0..G-1 are the groups it would find, in that order,
    and its sums (the same routine) come out the same to the last bit.
    """
    size = int(codes.max()) + 1 if len(codes) else 0
    groups = pd.Categorical.from_codes(codes, categories=pd.RangeIndex(size), validate=False)
    return pd.CategoricalIndex(groups)


def count_by_code(counts: npt.NDArray[np.int64], codes: Codes, size: int) -> Codes:
    """Add integer counts per code; exact while every total is below 2**53."""
    weights = np.asarray(counts, dtype=np.float64)
    return np.bincount(codes, weights=weights, minlength=size).astype(np.int64)


def _factorize_from(cells: pd.DataFrame) -> FactorizedColumn:
    return lambda column: factorize_sorted(cells[column])


def _sum_cells(
    cells: pd.DataFrame, by: list[str], sums: list[str], factorized: FactorizedColumn
) -> tuple[pd.DataFrame, Codes | None]:
    """Return the summed cells and each one's first row in ``cells`` (None on pandas' path)."""
    first: Codes | None = None
    if not by:
        summed = cells[["n", *sums]].sum().to_frame().T
        codes = np.zeros(len(cells), dtype=np.int64)
    else:
        parts = [factorized(c) for c in by]
        if len(cells) and all(p is not None for p in parts):
            key, span = _combined_key([p for p in parts if p is not None], len(cells))
            codes, first = distinct_keys(key, span)
            values = cells[["n", *sums]].reset_index(drop=True)
            totals = values.groupby(_grouper(codes), observed=False).sum()
            totals = totals.reset_index(drop=True)
            names = cells[by].iloc[first].reset_index(drop=True)
            summed = pd.concat([names, totals], axis=1)
        else:
            grouped = cells.groupby(by, sort=True, observed=True, dropna=False)
            summed = grouped[["n", *sums]].sum().reset_index()
            codes = np.asarray(grouped.ngroup(), dtype=np.int64)
    for column in (c for c in sums if c.endswith(("_min", "_max"))):
        # A range does not add up (windows of a monitor merge their score ranges).
        extreme = column[-3:]
        column_values = cells[column].reset_index(drop=True)
        summed[column] = (
            column_values.agg(extreme)
            if not by
            else column_values.groupby(codes, sort=True).agg(extreme).to_numpy()
        )
    counts = cells["n"].to_numpy(dtype=np.float64)
    for m2 in (c for c in sums if c.endswith(M2_SUFFIX)):
        total = f"{m2.removesuffix(M2_SUFFIX)}_sum"
        with np.errstate(divide="ignore", invalid="ignore"):
            means = cells[total].to_numpy(dtype=np.float64) / counts
        moments = merge_moments(codes, counts, means, cells[m2].to_numpy(np.float64), len(summed))
        summed[m2] = moments[2]
    return summed, first
