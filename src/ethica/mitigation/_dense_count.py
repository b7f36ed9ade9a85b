"""The count of :func:`~ethica.mitigation.count_arrays` into one dense array of all cells.

Applies where every key is short (one- or two-character text, integers in a short range, 0/1
labels and decisions) and the scores are binned or few: each row's cell is computed from its
keys by offsets, and each chunk is counted by one ``np.bincount`` (no hashing, no sorting).
"""

from __future__ import annotations

import numpy as np

from ethica.errors import InputError
from ethica.fairness import ScoreBins
from ethica.mitigation._cell_codes import Counted, Rows, Values, equal_width_bin, offset_codes

_DENSE_CELLS = 1 << 17  # cells counted in one dense array (each chunk's bincount spans them)


def dense_count(rows: Rows, chunk_rows: int, limit: int) -> Counted | None:
    """Count into one dense array of cells, each chunk by a single ``np.bincount``.

    Applies when every sensitive column is short text or integers in a short range (coded by
    offset, as ``_factorize``) and scores are binned, or kept exactly in distinct slots of a
    grid (see :class:`_ExactScores`); ``None`` leaves the rest to ``_count``.
    """
    columns, labels, decisions, scores = rows
    coded = [offset_codes(c) for c in columns]
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
                codes = equal_width_bin(chunk, bins).astype(np.int64)
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
