"""The count of :func:`~ethica.mitigation.count_arrays` for any keys: by each chunk's cells.

Each chunk's keys are coded (hashed where not short) and its non-empty cells counted; the
cells of a few chunks are then counted once more into one part, so no more than a few chunks'
cells are held at a time.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ethica.errors import InputError
from ethica.fairness import ScoreBins
from ethica.mitigation._cell_codes import Counted, Rows, Values, equal_width_bin, factorize

_PENDING = 4  # chunks whose cells wait before they are merged: memory stays a few chunks' worth


def count_by_chunk_cells(rows: Rows, chunk_rows: int, limit: int) -> Counted:
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
            keys.append(chunk if bins is None else equal_width_bin(chunk, bins))
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
    codes, uniques = zip(*(factorize(k) for k in keys), strict=True)
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
