"""Compiled kernels of mitigation (numba, an optional extra), each beside its numpy twin.

The compiled count of :func:`~ethica.mitigation.count_arrays` applies where there is one
sensitive column of integers in a short range (or one- or two-character text, read as integers)
and the scores take at most ``limit`` distinct values. A first pass finds the range of the keys;
the count puts each score in its slot of a grid of equal steps and adds the row to its cell:
(slot, group, label, decision), all computed by offsets, with one branch per row that is taken
once per distinct score (its first row notes it in its slot). The grid spans the first rows'
scores and as much again on either side, so most counts read the scores once: a later score
outside it (or two scores in one slot) stops the count, and the grid is laid again between the
lowest and the highest score of all rows, the scores met so far moved to their new slots, the
count resumed where it stopped. Two scores in one slot of that grid, more distinct scores than
``limit`` or a key out of range leave the arrays to the numpy count (``None``), which gives the
very same table (tested).
The upper hull of a group's operating points is the monotone chain of
:func:`~ethica.mitigation._tradeoff_curves.upper_hull`, step for step (the same products, the
same comparisons: the same points kept, tested). numba is in the ``models`` and ``demo``
extras; without it the numpy count and the Python chain run.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np

from ethica.errors import InputError
from ethica.mitigation._binary import NOT_BINARY

Values = np.ndarray[Any, Any]
#: At most this many cells (groups x 4 x slots): the counts stay a few MiB.
_MOST_CELLS = 1 << 22


@numba.njit(cache=True, nogil=True)
def _key_range(keys: Values) -> tuple[int, int]:
    """Lowest and highest key in one pass, without a branch: at the speed of reading them.

    Read only where a later key falls out of the first rows' range.
    """
    lowest_key = highest_key = np.int64(keys[0])
    for row in range(len(keys)):
        key = np.int64(keys[row])
        lowest_key, highest_key = min(lowest_key, key), max(highest_key, key)
    return int(lowest_key), int(highest_key)


@numba.njit(cache=True, nogil=True)
def _count_cells(
    keys: Values,
    lowest_key: int,
    key_count: int,
    labels: Values,
    decisions: Values,
    scores: Values,
    low: float,
    scale: float,
    shift: int,
    slot_value: Values,
    limit: int,
    distinct: int,
    counts: Values,
) -> tuple[int, int, int]:
    """Add each row to counts[slot << shift + (key - lowest_key) * 4 + label * 2 + decision].

    Notes each slot's score. Returns the OR of every label and decision, the distinct scores
    met (``distinct`` before), and the rows counted: fewer than all where a score falls out of
    the grid (NaN too), a key out of its range, or a score in a slot holding another; distinct
    is -1 once more than ``limit``. Few values live across the loop (a shift, not a width; one
    OR for both roles), so that none waits on the stack. The rows are the arrays' from 0 (the
    caller slices them): a loop from a given row checks each index for a negative one, and
    measured a third slower.
    """
    either_bits = np.int64(0)
    slots = np.uint64(len(slot_value))
    for row in range(len(keys)):
        value = scores[row]
        slot = np.int64((value - low) * scale)
        key = np.int64(keys[row]) - lowest_key
        # Unsigned: a negative slot or key is out of range too (and no check per index after).
        if (np.uint64(slot) >= slots) | (np.uint64(key) >= np.uint64(key_count)):
            return int(either_bits), distinct, row
        held = slot_value[np.uint64(slot)]
        if held != value:  # the first row of this score (a branch taken once per score)
            if held == held:  # the slot holds another score
                return int(either_bits), distinct, row
            if distinct == limit:
                return 0, -1, row
            slot_value[np.uint64(slot)] = value
            distinct += 1
        label = np.int64(labels[row])
        decision = np.int64(decisions[row])
        either_bits |= label | decision
        # A label or decision other than 0/1 is refused after the pass: & 1 keeps it in bounds.
        cell = (slot << shift) + key * 4 + (label & 1) * 2 + (decision & 1)
        counts[np.uint64(cell)] += 1
    return int(either_bits), distinct, len(keys)


class _Grid:
    """Slots of equal steps from ``low``, each for one distinct score; each slot's cells.

    A slot's cells are (key, label, decision) from ``lowest_key``, a power of two of them.
    """

    def __init__(
        self, scores: tuple[float, float], keys: tuple[int, int], slots: int, rows: int
    ) -> None:
        (self.low, high), (self.lowest_key, highest_key) = scores, keys
        self.slots, self.key_count = slots, highest_key - self.lowest_key + 1
        self.width = self.key_count * 4
        self.shift = max((self.width - 1).bit_length(), 2)
        self.scale = (slots - 1) / (high - self.low) if high > self.low else 0.0
        self.fits = (
            slots << self.shift <= _MOST_CELLS
            and bool(np.isfinite(self.scale))
            and (high - self.low) * self.scale < slots
        )
        self.slot_value = np.full(slots, np.nan)
        # 32-bit counts where no cell can pass them: half the memory the increments touch.
        cells = (slots << self.shift) if self.fits else 0
        self.counts = np.zeros(cells, dtype=np.int32 if rows < 2**31 else np.int64)

    def by_slot(self) -> Values:
        """Return the counts as one row of cells per slot."""
        return self.counts.reshape(self.slots, 1 << self.shift)

    def filled(self) -> Values:
        """Return the slots holding a score, ascending (as their scores)."""
        return np.flatnonzero(self.slot_value == self.slot_value)

    def moved_to(self, other: _Grid) -> bool:
        """Move the scores met and their counts to ``other``; False where two share a slot."""
        filled = self.filled()
        values = self.slot_value[filled]
        slots = ((values - other.low) * other.scale).astype(np.int64)  # as the count computes
        if len(np.unique(slots)) < len(slots):
            return False
        other.slot_value[slots] = values
        start = (self.lowest_key - other.lowest_key) * 4
        other.by_slot()[slots, start : start + self.width] = self.by_slot()[filled, : self.width]
        return True


_FIRST_ROWS = 1 << 12  # the rows whose keys and scores the first grid spans


def compiled_count(
    keys: Values, labels: Values, decisions: Values, scores: Values, limit: int
) -> tuple[Values, Values, Values, Values, Values, Values] | None:
    """Count the rows of one short-range integer key; None where the numpy count must.

    ``keys``: integers (text already read as integers). Returns, for each non-empty cell in
    the order (key, label, decision, score), its key, label and decision (int8), its score's
    rank among the distinct scores, and its count; and the distinct scores, ascending.
    Labels or decisions other than 0/1 and scores that are not finite raise ``InputError``.
    """
    if keys.dtype.kind not in "iu" or not len(keys):
        return None
    if keys.dtype == np.uint64 and int(keys.max()) >= 2**63:
        return None  # past the signed 64-bit range: the numpy count hashes them
    slots = 1 << (4 * limit - 1).bit_length()
    # The first rows' keys, and their scores with as much again on either side.
    first_keys, first = keys[:_FIRST_ROWS], scores[:_FIRST_ROWS]
    low, high = _finite_range(float(first.min()), float(first.max()))
    margin = high - low if high > low else max(abs(low), 1.0)
    key_range = int(first_keys.min()), int(first_keys.max())
    grid = _Grid((low - margin, high + margin), key_range, slots, len(keys))
    either_bits, distinct, start, spans_all = 0, 0, 0, False
    while True:
        if grid.fits:
            either, distinct, counted = _count_cells(
                keys[start:],
                grid.lowest_key,
                grid.key_count,
                labels[start:],
                decisions[start:],
                scores[start:],
                grid.low,
                grid.scale,
                grid.shift,
                grid.slot_value,
                limit,
                distinct,
                grid.counts,
            )
            either_bits |= either
            start += counted
            if distinct < 0:
                return None  # more distinct scores than kept exactly
            if start == len(keys):
                break
        if spans_all:
            return None  # two scores closer than a step of the grid of all rows
        # A key or score out of the grid, or two scores in one slot: the grid of all rows'
        # keys and scores (one pass each), the rows counted so far moved to it.
        whole = _Grid(
            _finite_range(float(scores.min()), float(scores.max())),
            _key_range(keys),
            slots,
            len(keys),
        )
        if not whole.fits or not grid.moved_to(whole):
            return None
        grid, spans_all = whole, True
    if either_bits & ~1:  # which of the two: read again (a refusal, not the common case)
        for values, role in ((labels, "label"), (decisions, "prediction")):
            if int(np.bitwise_or.reduce(values)) & ~1:
                raise InputError(NOT_BINARY.format(role=role))
    filled = grid.filled()
    # Slots ascend with the score: (key, label, decision) first, then the score, in order.
    by_cell = grid.by_slot()[filled, : grid.width].T
    present = np.flatnonzero(by_cell)
    cell, score = np.divmod(present, len(filled))
    group, label, decision = cell >> 2, (cell >> 1) & 1, cell & 1
    key_values = (group + grid.lowest_key).astype(keys.dtype)
    n = by_cell.ravel()[present].astype(np.int64)
    as_int8 = label.astype(np.int8), decision.astype(np.int8)
    return key_values, *as_int8, score, grid.slot_value[filled], n


def _finite_range(low: float, high: float) -> tuple[float, float]:
    """Return the lowest and highest score, refusing a NaN or an infinite one among them."""
    if not (np.isfinite(low) and np.isfinite(high)):  # a NaN is the lowest and the highest
        raise InputError("the scores must be finite numbers; fill or drop the missing ones")
    return low, high


@numba.njit(cache=True, nogil=True)
def upper_hull_indices(xs: Values, ys: Values) -> Values:
    """Andrew's monotone chain over points sorted by (x, y): the indices of those kept."""
    kept = np.empty(len(xs), dtype=np.int64)
    size = 0
    for index in range(len(xs)):
        x, y = xs[index], ys[index]
        while size >= 2:
            first, last = kept[size - 2], kept[size - 1]
            x0, y0 = xs[first], ys[first]
            if (ys[last] - y0) * (x - x0) > (y - y0) * (xs[last] - x0):
                break  # a left turn: the last point stays on the hull
            size -= 1
        kept[size] = index
        size += 1
    return kept[:size]
