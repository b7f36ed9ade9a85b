"""Compiled kernels of mitigation (numba, an optional extra), each beside its numpy twin.

The count of :func:`~ethica.mitigation.count_arrays` in two compiled passes applies where there
is one sensitive column of integers in a short range (or one- or two-character text, read as
integers) and the scores take at most ``limit`` distinct values.
The first pass puts each score in its slot of a grid of equal steps between the lowest and the
highest score and notes any slot that meets two distinct scores; the second adds each row to
its cell: (slot, group, label, decision), all computed by offsets, without a lookup or a branch
per row. A slot met by two scores, more distinct scores than ``limit`` or a key out of range
leave the arrays to the numpy count (``None``), which gives the very same table (tested).
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
def _ranges(keys: Values, scores: Values) -> tuple[int, int, float, float, bool]:
    """Lowest and highest key and score in one pass each; whether every score is finite."""
    lowest_key = highest_key = np.int64(keys[0])
    for row in range(len(keys)):
        key = np.int64(keys[row])
        lowest_key, highest_key = min(lowest_key, key), max(highest_key, key)
    low = high = scores[0]
    zero = 0.0  # stays 0 unless a score is NaN or infinite (then NaN)
    for row in range(len(scores)):
        value = scores[row]
        low, high = min(low, value), max(high, value)
        zero += value * 0.0
    return int(lowest_key), int(highest_key), float(low), float(high), zero == 0.0


@numba.njit(cache=True, nogil=True)
def _fill_slots(scores: Values, low: float, scale: float, slot_value: Values) -> int:
    """Put each score in its slot; return how many times a slot held another score."""
    clashes = 0
    for row in range(len(scores)):
        value = scores[row]
        slot = np.int64((value - low) * scale)
        held = slot_value[slot]
        clashes += (held != value) & (held == held)  # held is not NaN: the slot was taken
        slot_value[slot] = value
    return clashes


@numba.njit(cache=True, nogil=True)
def _count_cells(
    keys: Values,
    lowest_key: int,
    labels: Values,
    decisions: Values,
    scores: Values,
    low: float,
    scale: float,
    width: int,
    counts: Values,
) -> tuple[int, int]:
    """Add each row to counts[slot, key - lowest_key, label, decision]; OR of labels, decisions."""
    label_bits = np.int64(0)
    decision_bits = np.int64(0)
    for row in range(len(keys)):
        label = np.int64(labels[row])
        decision = np.int64(decisions[row])
        label_bits |= label
        decision_bits |= decision
        slot = np.int64((scores[row] - low) * scale)
        group = np.int64(keys[row]) - lowest_key
        # A label or decision other than 0/1 is refused after the pass: & 1 keeps it in bounds.
        counts[slot * width + group * 4 + (label & 1) * 2 + (decision & 1)] += 1
    return int(label_bits), int(decision_bits)


def compiled_count(
    keys: Values, labels: Values, decisions: Values, scores: Values, limit: int
) -> tuple[Values, Values, Values, Values, Values] | None:
    """Count the rows of one short-range integer key; None where the numpy count must.

    ``keys``: integers (text already read as integers). Returns, for each non-empty cell in
    the order (key, label, decision, score), its key, label, decision, exact score and count.
    Labels or decisions other than 0/1 and scores that are not finite raise ``InputError``.
    """
    if keys.dtype.kind not in "iu" or not len(keys):
        return None
    if keys.dtype == np.uint64 and int(keys.max()) >= 2**63:
        return None  # past the signed 64-bit range: the numpy count hashes them
    lowest_key, highest_key, low, high, finite = _ranges(keys, scores)
    if not finite:
        raise InputError("the scores must be finite numbers; fill or drop the missing ones")
    slots = 1 << int(np.ceil(np.log2(4 * limit)))
    width = (highest_key - lowest_key + 1) * 4
    if width * slots > _MOST_CELLS:
        return None
    scale = (slots - 1) / (high - low) if high > low else 0.0
    if not np.isfinite(scale) or (high - low) * scale >= slots:
        return None
    slot_value = np.full(slots, np.nan)
    if _fill_slots(scores, low, scale, slot_value):
        return None  # two distinct scores closer than a step: the numpy count keeps them
    filled = np.flatnonzero(slot_value == slot_value)
    if len(filled) > limit:
        return None  # more distinct scores than kept exactly: the numpy count bins them
    counts = np.zeros(slots * width, dtype=np.int64)
    label_bits, decision_bits = _count_cells(
        keys, lowest_key, labels, decisions, scores, low, scale, width, counts
    )
    for bits, role in ((label_bits, "label"), (decision_bits, "prediction")):
        if bits & ~1:
            raise InputError(NOT_BINARY.format(role=role))
    # Slots ascend with the score: (key, label, decision) first, then the score, in order.
    by_cell = counts.reshape(slots, width)[filled].T
    present = np.flatnonzero(by_cell)
    cell, score = np.divmod(present, len(filled))
    group, label, decision = cell // 4, (cell // 2) % 2, cell % 2
    key_values = (group + lowest_key).astype(keys.dtype)
    return key_values, label, decision, slot_value[filled][score], by_cell.ravel()[present]


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
