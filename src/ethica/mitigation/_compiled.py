"""Compiled kernels of mitigation (numba, an optional extra), each beside its numpy twin.

The count of :func:`~ethica.mitigation.count_arrays` in two compiled passes applies where there
is one sensitive column of integers in a short range (or one- or two-character text, read as
integers) and the scores take at most ``limit`` distinct values.
The first pass finds the ranges of the keys and of the scores (their bits, read as integers);
the second puts each score in its slot of a grid of equal steps between the lowest and the
highest score and adds the row to its cell: (slot, group, label, decision), all computed by
offsets, with one branch per row that is taken once per distinct score (its first row notes it
in its slot). A slot met by two scores, more distinct scores than ``limit`` or a key out of
range leave the arrays to the numpy count (``None``), which gives the very same table (tested).
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
_NOT_SIGN = np.int64(0x7FFF_FFFF_FFFF_FFFF)  # every bit of a float but its sign


@numba.njit(cache=True, nogil=True)
def _ranges(keys: Values, bits: Values) -> tuple[int, int, int, int]:
    """Lowest and highest key, and score (as ``_ordered`` bits), in one pass each.

    Integers only, without a branch: each loop runs at the speed of reading its array.
    """
    lowest_key = highest_key = np.int64(keys[0])
    for row in range(len(keys)):
        key = np.int64(keys[row])
        lowest_key, highest_key = min(lowest_key, key), max(highest_key, key)
    low = high = _ordered(bits[0])
    for row in range(len(bits)):
        value = _ordered(bits[row])
        low, high = min(low, value), max(high, value)
    return int(lowest_key), int(highest_key), int(low), int(high)


@numba.njit(cache=True, nogil=True, inline="always")
def _ordered(bits: np.int64) -> np.int64:
    """Read a float's bits as an integer that sorts as the float does (NaN past infinity).

    The negative floats' bits but the sign are flipped; applied twice, the bits come back.
    """
    return bits ^ ((bits >> 63) & _NOT_SIGN)


def _score_range(low: int, high: int) -> tuple[float, float]:
    """Return the lowest and highest score from their ``_ordered`` bits."""
    ordered = np.array([low, high], dtype=np.int64)
    scores = (ordered ^ ((ordered >> 63) & _NOT_SIGN)).view(np.float64)
    return float(scores[0]), float(scores[1])


@numba.njit(cache=True, nogil=True)
def _count_cells(
    keys: Values,
    lowest_key: int,
    labels: Values,
    decisions: Values,
    scores: Values,
    low: float,
    scale: float,
    shift: int,
    slot_value: Values,
    limit: int,
    counts: Values,
) -> tuple[int, int]:
    """Add each row to counts[slot << shift + (key - lowest_key) * 4 + label * 2 + decision].

    Notes each slot's score. Returns the OR of every label and decision, and the distinct
    scores met, or -1 as soon as a slot meets a second score or more than ``limit`` are
    distinct. Few values live across the loop (a shift, not a width; one OR for both roles;
    the lowest key folded into an offset), so that none waits on the stack.
    """
    either_bits = np.int64(0)
    distinct = 0
    offset = -np.int64(lowest_key) * 4
    for row in range(len(keys)):
        value = scores[row]
        slot = np.int64((value - low) * scale)
        # Unsigned indices: in range by construction, and no check for a negative one per row.
        held = slot_value[np.uint64(slot)]
        if held != value:  # the first row of this score (a branch taken once per score)
            if held == held or distinct == limit:  # the slot holds another score, or too many
                return 0, -1
            slot_value[np.uint64(slot)] = value
            distinct += 1
        label = np.int64(labels[row])
        decision = np.int64(decisions[row])
        either_bits |= label | decision
        # A label or decision other than 0/1 is refused after the pass: & 1 keeps it in bounds.
        cell = (slot << shift) + np.int64(keys[row]) * 4 + offset + (label & 1) * 2 + (decision & 1)
        counts[np.uint64(cell)] += 1
    return int(either_bits), distinct


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
    lowest_key, highest_key, low_bits, high_bits = _ranges(keys, scores.view(np.int64))
    low, high = _score_range(low_bits, high_bits)
    if not (np.isfinite(low) and np.isfinite(high)):  # a NaN is the lowest or the highest
        raise InputError("the scores must be finite numbers; fill or drop the missing ones")
    slots = 1 << int(np.ceil(np.log2(4 * limit)))
    width = (highest_key - lowest_key + 1) * 4
    shift = max(int(width - 1).bit_length(), 2)  # each slot's cells: a power of two of them
    if slots << shift > _MOST_CELLS:
        return None
    scale = (slots - 1) / (high - low) if high > low else 0.0
    if not np.isfinite(scale) or (high - low) * scale >= slots:
        return None
    slot_value = np.full(slots, np.nan)
    # 32-bit counts where no cell can pass them: half the memory the increments touch.
    counts = np.zeros(slots << shift, dtype=np.int32 if len(keys) < 2**31 else np.int64)
    either_bits, distinct = _count_cells(
        keys, lowest_key, labels, decisions, scores, low, scale, shift, slot_value, limit, counts
    )
    if distinct < 0:
        return None  # two scores closer than a step, or more than kept exactly: the numpy count
    if either_bits & ~1:  # which of the two: read again (a refusal, not the common case)
        for values, role in ((labels, "label"), (decisions, "prediction")):
            if int(np.bitwise_or.reduce(values)) & ~1:
                raise InputError(NOT_BINARY.format(role=role))
    filled = np.flatnonzero(slot_value == slot_value)
    # Slots ascend with the score: (key, label, decision) first, then the score, in order.
    by_cell = counts.reshape(slots, 1 << shift)[filled, :width].T
    present = np.flatnonzero(by_cell)
    cell, score = np.divmod(present, len(filled))
    group, label, decision = cell >> 2, (cell >> 1) & 1, cell & 1
    key_values = (group + lowest_key).astype(keys.dtype)
    n = by_cell.ravel()[present].astype(np.int64)
    as_int8 = label.astype(np.int8), decision.astype(np.int8)
    return key_values, *as_int8, score, slot_value[filled], n


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
