"""The binary count table of arrays in memory (what thresholds and reweighing need), by chunks.

Where every key is short (one-character text, integers in a short range, 0/1 labels and
decisions, scores with few distinct values or binned), each row's cell is a number computed
from its keys by offsets and a lookup, and each chunk is counted by one ``np.bincount`` into a
dense array of all cells: no hashing, no sorting of the rows. Other keys become each chunk's
codes (hashed), the chunks' non-empty cells counted once more the same way. Either way no data
frame of the rows is built and no more than one chunk's codes are held. The result equals
:func:`ethica.fairness.count_table` on the same arrays (tested).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
import pandas as pd

from ethica.errors import InputError
from ethica.fairness import CountTable, ScoreBins
from ethica.fairness._count_table import NamedGroups, named_groups
from ethica.fairness._roles import _feature_arrays
from ethica.fairness._rollup import Factorized
from ethica.mitigation._binary import NOT_BINARY

Values = npt.NDArray[Any]


class Rows(NamedTuple):
    """The arrays to count: the sensitive features', labels, decisions and scores."""

    columns: list[Values]
    labels: Values
    decisions: Values
    scores: Values | None


class Counted(NamedTuple):
    """Each non-empty cell's key values, its count and score sum, and how scores were binned.

    ``score_codes``: each cell's score as the rank among the distinct scores, where the count
    knows it already (the compiled count); the curves then need not sort the scores again.
    """

    keys: list[Values]
    n: Values
    sums: Values | None
    bins: ScoreBins | None
    score_codes: Factorized | None = None


_PENDING = 4  # chunks whose cells wait before they are merged: memory stays a few chunks' worth
_DENSE = 1 << 12  # integer keys spanning fewer values are coded by offset, without hashing
_DENSE_CELLS = 1 << 17  # cells counted in one dense array (each chunk's bincount spans them)
CHUNK_ROWS = 1 << 16
"""Rows counted at a time: their codes (a few arrays of this length) are all that is held."""


def count_arrays(
    *,
    sensitive_features: Any,
    label: npt.ArrayLike,
    prediction: npt.ArrayLike,
    score: npt.ArrayLike | None = None,
    score_bins: int = 1000,
    chunk_rows: int = CHUNK_ROWS,
) -> CountTable:
    """Count 0/1 labels and decisions (and scores) per group, as ``count_table`` would.

    Parameters
    ----------
    sensitive_features
        An array, a mapping of names to arrays, a Series or a DataFrame (as ``count_table``).
    label, prediction
        The true outcome and the decision, each 0/1 (or boolean); 1 is favourable.
    score
        The model's score of each row (finite numbers), or None.
    score_bins
        At most this many distinct scores are kept exactly; more are binned in this many
        equal-width bins between the lowest and the highest score.
    chunk_rows
        Rows counted at a time.
    """
    features = _feature_arrays(sensitive_features)
    columns = [*(np.asarray(v) for v in features.values())]
    labels, decisions = _binary(label, "label"), _binary(prediction, "prediction")
    scores = None if score is None else np.asarray(score, dtype=np.float64)
    lengths = {len(c) for c in (*columns, labels, decisions)}
    if len(lengths) != 1 or (scores is not None and len(scores) not in lengths):
        raise InputError("the arrays differ in length; every array needs one value per row")
    if not len(labels):
        raise InputError("there are no rows to count")
    if chunk_rows < 1 or score_bins < 1:
        raise InputError("chunk_rows and score_bins must be at least 1")
    rows = Rows(columns, labels, decisions, scores)
    counted = _compiled(rows, score_bins)
    if counted is None:
        _check_binary(labels, "label")
        _check_binary(decisions, "prediction")
        counted = _dense_count(rows, chunk_rows, score_bins)
    if counted is None:
        counted = _count_by_chunk_cells(rows, chunk_rows, score_bins)
    keys, n, sums, bins, score_codes = counted
    names = list(features)
    # Each group's name now (a missing one warns here), the column of names when first read.
    groups: dict[str, NamedGroups] = {}
    for index, name in enumerate(names):
        codes, uniques = _factorize(keys[index])
        groups[name] = named_groups(codes, uniques, name, n, stacklevel=3)
    # The counts' own arrays, none the caller's: taken as they are where their type is right.
    arrays: dict[str, Any] = {
        "label": keys[len(names)].astype(np.int8, copy=False),
        "prediction": keys[len(names) + 1].astype(np.int8, copy=False),
    }
    if scores is not None:
        arrays["score_bin"] = keys[-1].astype(np.float64, copy=False)
    arrays["n"] = n.astype(np.int64, copy=False)
    if sums is not None:
        arrays["score_sum"] = sums

    def cells() -> pd.DataFrame:
        columns = {name: named.column for name, named in groups.items()}
        return pd.DataFrame({**columns, **arrays}, copy=False)  # arrays made here: no copy

    # Thresholds read the groups' codes and a few arrays: the data frame waits to be read.
    table = CountTable.deferred(
        cells,
        arrays,
        kind="binary",
        sensitive_features=tuple(names),
        keys=("label", "prediction", *(() if scores is None else ("score_bin",))),
        classes=(0, 1),
        bins=bins,
    )
    for name, named in groups.items():
        # The groups' codes are known here: the curves and roll-ups need not read the names.
        table.keep_codes(name, named.sorted_codes())
    if score_codes is not None:
        table.keep_codes("score_bin", score_codes)
    return table


def _compiled(rows: Rows, limit: int) -> Counted | None:
    """Count one short-range key and exact scores compiled (numba, where installed), or None."""
    column = rows.columns[0] if len(rows.columns) == 1 else None
    if column is None or rows.scores is None:
        return None
    try:
        from ethica.mitigation._compiled import compiled_count
    except ImportError:  # numba is not installed: the numpy count
        return None
    text = column.dtype.kind in "US" and column.dtype.itemsize in (4, 8)
    keys = column.view(np.uint32 if column.dtype.itemsize == 4 else np.uint64) if text else column
    counted = compiled_count(keys, rows.labels, rows.decisions, rows.scores, limit)
    if counted is None:
        return None
    values, labels, decisions, codes, distinct, n = counted
    values = values.view(column.dtype) if text else values
    scores = distinct[codes]
    return Counted(
        [values, labels, decisions, scores],
        n,
        n * scores,
        ScoreBins("exact"),
        Factorized(codes, len(distinct), distinct),
    )


def _dense_count(rows: Rows, chunk_rows: int, limit: int) -> Counted | None:
    """Count into one dense array of cells, each chunk by a single ``np.bincount``.

    Applies when every sensitive column is short text or integers in a short range (coded by
    offset, as ``_factorize``) and scores are binned, or kept exactly in distinct slots of a
    grid (see :class:`_ExactScores`); ``None`` leaves the rest to ``_count``.
    """
    columns, labels, decisions, scores = rows
    coded = [_offset_codes(c) for c in columns]
    if any(c is None for c in coded):
        return None
    features = [c for c in coded if c is not None]
    sizes = [len(uniques) for _, _, uniques in features] + [2, 2]
    room = _DENSE_CELLS // int(np.prod(sizes, dtype=np.float64))
    if room < (1 if scores is None else limit):
        return None
    bins: ScoreBins | None = None
    exact: _ExactScores | None = None
    if scores is not None:
        low, high = float(np.min(scores)), float(np.max(scores))
        if not (np.isfinite(low) and np.isfinite(high)):
            raise InputError("the scores must be finite numbers; fill or drop the missing ones")
        exact = _ExactScores(scores[:chunk_rows], low, high, limit, room)
        bins = ScoreBins("exact")
        sizes.append(exact.slots)
    counts = np.zeros(int(np.prod(sizes)), dtype=np.int64)
    sums: Values | None = None
    start = 0
    while start < len(labels):
        end = start + chunk_rows
        cell = np.zeros(min(end, len(labels)) - start, dtype=np.int64)
        for index, ((values, low_value, _), size) in enumerate(zip(features, sizes, strict=False)):
            if index:
                cell *= size
                np.add(cell, values[start:end], out=cell, casting="unsafe")
            else:
                cell = values[start:end].astype(np.int64)
            cell -= low_value
        cell *= 2
        np.add(cell, labels[start:end], out=cell, casting="unsafe")
        cell *= 2
        np.add(cell, decisions[start:end], out=cell, casting="unsafe")
        if scores is not None:
            chunk = scores[start:end]
            codes = None if exact is None else exact.slots_of(chunk)
            if codes is None and exact is not None:
                if exact.collided and not _more_distinct(scores, limit, chunk_rows):
                    return None  # few distinct scores, too close to look up: _count keeps them
                # More distinct scores than kept exactly: count again in equal-width bins.
                bins = ScoreBins("equal_width", exact.low, exact.high, limit)
                exact = None
                sizes[-1] = limit
                counts = np.zeros(int(np.prod(sizes)), dtype=np.int64)
                sums = np.zeros(len(counts), dtype=np.float64)
                start = 0
                continue
            if codes is None:
                assert bins is not None and sums is not None
                codes = _bin(chunk, bins).astype(np.int64)
                cell *= sizes[-1]
                cell += codes
                sums += np.bincount(cell, weights=chunk, minlength=len(counts))
            else:
                cell *= sizes[-1]
                cell += codes
        counts += np.bincount(cell, minlength=len(counts))
        start = end
    present = np.flatnonzero(counts)
    positions = np.unravel_index(present, sizes)
    keys = [uniques[p] for (_, _, uniques), p in zip(features, positions, strict=False)]
    keys += [positions[len(features)], positions[len(features) + 1]]
    n = counts[present]
    if exact is not None:
        values = exact.slot_value[positions[-1]]
        keys.append(values)
        return Counted(keys, n, n * values, bins)
    if scores is not None:
        assert sums is not None
        keys.append(positions[-1])
        return Counted(keys, n, sums[present], bins)
    return Counted(keys, n, None, None)


def _more_distinct(scores: Values, limit: int, chunk_rows: int) -> bool:
    """Whether more than ``limit`` scores are distinct (holding at most that many, and a chunk)."""
    seen = np.zeros(0)
    for start in range(0, len(scores), chunk_rows):
        seen = np.unique(np.concatenate([seen, scores[start : start + chunk_rows]]))
        if len(seen) > limit:
            return True
    return False


def _offset_codes(values: Values) -> tuple[Values, int, Values] | None:
    """Integers (short text read as integers) spanning few values: (integers, lowest, values)."""
    if values.dtype.kind in "US" and values.dtype.itemsize in (4, 8):
        as_int = values.view(np.uint32 if values.dtype.itemsize == 4 else np.uint64)
        coded = _offset_codes(as_int)
        if coded is None:
            return None
        return coded[0], coded[1], coded[2].view(values.dtype)
    if values.dtype.kind not in "iu" or not values.size:
        return None
    low, high = int(values.min()), int(values.max())
    if high - low >= _DENSE or high >= 2**63:
        return None
    return values, low, np.arange(low, high + 1).astype(values.dtype)


class _ExactScores:
    """Distinct scores looked up in a grid of slots: a score's slot is its cell's last key.

    The grid has equal steps from the lowest score to the highest, at least two per smallest
    gap between the first chunk's distinct scores (a power of two, at most ``room``). A slot
    holds one distinct score: a score not in its slot is new; two distinct scores in one slot
    (closer than a step) end the lookup (``collided``), as do more than ``limit`` of them.
    """

    def __init__(self, first: Values, low: float, high: float, limit: int, room: int) -> None:
        self.low, self.high, self.limit = low, high, limit
        distinct = np.unique(first)
        gap = float(np.diff(distinct).min()) if len(distinct) > 1 else 0.0
        wanted = 2.0 * (high - low) / gap + 2.0 if gap > 0 else 2.0
        self.slots = int(min(room, 1 << int(np.ceil(np.log2(min(wanted, 2.0**40))))))
        self.scale = (self.slots - 1) / (high - low) if high > low else 0.0
        self.slot_value = np.full(self.slots, np.nan)
        self.distinct = 0
        self.collided = False
        self.usable = self._learn(distinct)

    def slots_of(self, chunk: Values) -> Values | None:
        """Each score's slot; None once more than ``limit`` are distinct, or on a collision."""
        if not self.usable:
            return None
        slots = ((chunk - self.low) * self.scale).astype(np.intp)
        new = self.slot_value.take(slots) != chunk
        if new.any():
            self.usable = self._learn(np.unique(chunk[new]))
            if not self.usable:
                return None
        return slots

    def _learn(self, values: Values) -> bool:
        """Put new distinct scores in their slots; False when too many, or two share a slot."""
        places = ((values - self.low) * self.scale).astype(np.intp)
        if self.distinct + len(values) > self.limit:
            return False
        if len(np.unique(places)) < len(places) or not np.isnan(self.slot_value[places]).all():
            self.collided = True
            return False
        self.slot_value[places] = values
        self.distinct += len(values)
        return True


def _count_by_chunk_cells(rows: Rows, chunk_rows: int, limit: int) -> Counted:
    """Count each chunk's non-empty cells, then theirs: any keys (hashed when not short)."""
    columns, labels, decisions, scores = rows
    bins = None if scores is None else ScoreBins("exact")
    keys, n, sums = _count(columns, labels, decisions, scores, None, chunk_rows, limit)
    if n is None:
        assert scores is not None
        low, high = float(np.min(scores)), float(np.max(scores))
        bins = ScoreBins("equal_width", low, high, limit)
        keys, n, sums = _count(columns, labels, decisions, scores, bins, chunk_rows, None)
    assert n is not None
    return Counted(keys, n, sums, bins)


def _count(
    columns: list[Values],
    labels: Values,
    decisions: Values,
    scores: Values | None,
    bins: ScoreBins | None,
    chunk_rows: int,
    limit: int | None,
) -> tuple[list[Values], Values | None, Values | None]:
    """Count (and sum scores) per non-empty cell; ``None`` counts once scores pass ``limit``."""
    parts: list[tuple[list[Values], Values, Values | None]] = []
    distinct: list[Values] = []
    for start in range(0, len(labels), chunk_rows):
        end = start + chunk_rows
        keys = [*(c[start:end] for c in columns), labels[start:end], decisions[start:end]]
        chunk = None if scores is None else scores[start:end]
        if chunk is not None:
            if not np.isfinite(chunk).all():
                raise InputError("the scores must be finite numbers; fill or drop the missing ones")
            keys.append(chunk if bins is None else _bin(chunk, bins))
        values, n, sums = _cells(keys, None, chunk)
        if limit is not None and chunk is not None:
            distinct.append(np.unique(values[-1]))
            if len(distinct[-1]) > limit:
                return [], None, None
        parts.append((values, n, sums))
        if len(parts) == _PENDING:  # the chunks' cells so far, counted into one part
            parts = [_merge(parts)]
    if distinct and len(np.unique(np.concatenate(distinct))) > limit:  # type: ignore[operator]
        return [], None, None
    return _merge(parts)


def _merge(
    parts: list[tuple[list[Values], Values, Values | None]],
) -> tuple[list[Values], Values, Values | None]:
    """Count the cells of several parts once more, into one."""
    merged = [np.concatenate([p[0][i] for p in parts]) for i in range(len(parts[0][0]))]
    counts = np.concatenate([p[1] for p in parts])
    sums = None if parts[0][2] is None else np.concatenate([p[2] for p in parts])
    return _cells(merged, counts, sums)


def _cells(
    keys: Sequence[Values], counts: Values | None, scores: Values | None
) -> tuple[list[Values], Values, Values | None]:
    """Each non-empty cell's key values, its count and score sum (rows, or cells weighed)."""
    codes, uniques = zip(*(_factorize(k) for k in keys), strict=True)
    sizes = [len(u) for u in uniques]
    cell = np.zeros(len(keys[0]), dtype=np.int64)
    for code, size in zip(codes, sizes, strict=True):
        cell *= size
        cell += code
    total = int(np.prod(sizes, dtype=np.float64))
    n = np.bincount(cell, weights=counts, minlength=total)
    present = np.flatnonzero(n)
    sums = None if scores is None else np.bincount(cell, weights=scores, minlength=total)[present]
    positions = np.unravel_index(present, sizes)
    values = [u[p] for u, p in zip(uniques, positions, strict=True)]
    return values, n[present], sums


def _factorize(values: Values) -> tuple[Values, Values]:
    """Codes and distinct values: integers in a short range by offset, others by hashing.

    Short fixed-width text (one or two characters) is read as the integer it spells.
    """
    if values.dtype.kind in "US" and values.dtype.itemsize in (4, 8):
        as_int = values.view(np.uint32 if values.dtype.itemsize == 4 else np.uint64)
        codes, uniques = _factorize(as_int)
        return codes, uniques.astype(as_int.dtype).view(values.dtype)
    if values.dtype.kind in "iu" and values.size:
        low, high = int(values.min()), int(values.max())
        if high - low < _DENSE and high < 2**63:
            offset = values.astype(np.int64) - low if low else values
            return offset, np.arange(low, high + 1).astype(values.dtype)
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    return codes, np.asarray(uniques)


def _bin(scores: Values, bins: ScoreBins) -> Values:
    """Equal-width bin of each score, as the engines bin (the highest score in the last bin)."""
    index = np.floor((scores - bins.low) / (bins.high - bins.low) * bins.bins)
    return np.clip(index, 0.0, bins.bins - 1.0)


def _binary(values: npt.ArrayLike, role: str) -> Values:
    array = np.asarray(values)
    if array.dtype == bool:
        return array.view(np.uint8)
    if array.dtype.kind not in "iuf" or array.ndim != 1:
        raise InputError(f"{role} must be one-dimensional 0/1 values; got {array.dtype}")
    if array.dtype.kind == "f":
        whole = bool(np.all(array == np.round(array)))
        if array.size and not (whole and array.min() >= 0 and array.max() <= 1):
            raise InputError(NOT_BINARY.format(role=role))
        return array.astype(np.int64)
    return array  # integers: checked by the count that reads them (_check_binary or compiled)


def _check_binary(array: Values, role: str) -> None:
    """Refuse integers other than 0/1: any such value (negative too) sets a bit above the lowest."""
    if array.size and int(np.bitwise_or.reduce(array)) & ~1:
        raise InputError(NOT_BINARY.format(role=role))
