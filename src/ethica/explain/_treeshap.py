"""Exact path-dependent TreeSHAP of rows in O(leaves × depth²/2) each, compiled with numba.

For a leaf of value ``v`` whose path tests the distinct features ``U``, TreeSHAP gives feature
``i`` the share (with ``z_j`` the fraction of training rows the splits on ``j`` let through and
``h_j`` 1 when the row passes all of them, else 0)::

    v (h_i - z_i) Σ_{S ⊆ U∖i} |S|! (|U| - |S| - 1)! / |U|!  Π_{j∈S} h_j  Π_{j∈U∖S∖i} z_j
      = v (h_i - z_i) ∫₀¹ Π_{j∈U∖i} (z_j + (h_j - z_j) t) dt

(the Shapley weight is a Beta integral). The integrand is a polynomial of degree ``|U| - 1``,
so Gauss–Legendre quadrature with ``⌈|U| / 2⌉`` nodes computes it exactly; this is the idea of
Linear TreeSHAP (Yu et al., 2022). It gives the values of LightGBM's ``pred_contrib`` and of
``shap.TreeExplainer`` to rounding, several times faster than their recursive algorithm.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numba
import numpy as np

from ethica.explain._lightgbm_trees import Forest

_FloatArray = np.ndarray[Any, np.dtype[np.float64]]
_IntArray = np.ndarray[Any, np.dtype[np.int64]]
_BoolArray = np.ndarray[Any, np.dtype[np.bool_]]
#: Per split: feature, threshold, missing rule, default left, categorical; then where each
#: split's categories start in the last, the categories that go left.
_Splits = tuple[_IntArray, _FloatArray, _IntArray, _BoolArray, _BoolArray, _IntArray, _IntArray]
#: Per leaf's path step: split, left; per slot: path end, zero fraction, output; per leaf: slot
#: end, value (the :class:`~ethica.explain._lightgbm_trees.Forest` fields of the same names).
_Paths = tuple[_IntArray, _BoolArray, _IntArray, _FloatArray, _IntArray, _IntArray, _FloatArray]
#: Gauss–Legendre nodes and weights (see :func:`gauss_legendre`).
_Quadrature = tuple[_FloatArray, _FloatArray]

#: LightGBM's ``kZeroThreshold``: a float32 1e-35, below which a value counts as zero.
_ZERO = float(np.float32(1e-35))


@numba.njit(cache=True, nogil=True)
def _goes_left(row: _FloatArray, splits: _Splits, left: _BoolArray) -> None:
    """Set, per split, whether ``row`` goes left, by LightGBM's decision rules."""
    # Filled in place: an array returned from compiled code costs more to box than to fill.
    (
        node_feature,
        node_threshold,
        node_missing,
        node_default_left,
        node_categorical,
        category_start,
        categories,
    ) = splits
    for node in range(node_feature.shape[0]):
        value = row[node_feature[node]]
        if node_categorical[node]:
            # NaN and negative values go right; a category goes left when the split lists it.
            left[node] = False
            if not np.isnan(value) and int(value) >= 0:
                category = int(value)
                for k in range(category_start[node], category_start[node + 1]):
                    if categories[k] == category:
                        left[node] = True
            continue
        missing = node_missing[node]
        if np.isnan(value) and missing != 2:
            value = 0.0
        if (missing == 1 and abs(value) <= _ZERO) or (missing == 2 and np.isnan(value)):
            left[node] = node_default_left[node]
        else:
            left[node] = value <= node_threshold[node]


@numba.njit(cache=True, nogil=True)
def _leaf_shares(
    count: int, value: float, quadrature: _Quadrature, scratch: _FloatArray, shares: _FloatArray
) -> None:
    """Set ``shares[j]``, a leaf's TreeSHAP share for each of its ``count`` slots.

    ``scratch[0]`` holds each slot's zero fraction ``z_j`` and ``scratch[1]`` its ``h_j - z_j``;
    rows 2 and 3 are work space (``max_slots + 1`` long).
    """
    gauss_nodes, gauss_weights = quadrature
    zero = scratch[0]
    slope = scratch[1]  # h_j - z_j
    integral = scratch[2]
    prefix = scratch[3]  # Π of the factors before j at one quadrature node
    for j in range(count):
        integral[j] = 0.0
    points = (count + 1) // 2
    for g in range(points):
        t = gauss_nodes[points - 1, g]
        prefix[0] = 1.0
        for j in range(count):
            prefix[j + 1] = prefix[j] * (zero[j] + slope[j] * t)
        suffix = gauss_weights[points - 1, g]  # times Π of the factors after j
        for j in range(count - 1, -1, -1):
            integral[j] += prefix[j] * suffix
            suffix *= zero[j] + slope[j] * t
    for j in range(count):
        shares[j] = value * slope[j] * integral[j]


@numba.njit(cache=True, nogil=True)
def _accumulate(
    left: _BoolArray, paths: _Paths, quadrature: _Quadrature, max_slots: int, out: _FloatArray
) -> None:
    """Add every leaf's TreeSHAP shares to ``out``, given the row's direction at every split."""
    (
        path_node,
        path_left,
        slot_path_end,
        slot_zero_fraction,
        slot_output,
        leaf_slot_end,
        leaf_value,
    ) = paths
    scratch = np.empty((4, max_slots + 1))
    shares = np.empty(max_slots)
    slot = 0
    step = 0
    for leaf in range(leaf_value.shape[0]):
        count = leaf_slot_end[leaf] - slot
        for j in range(count):
            passes = True
            while step < slot_path_end[slot + j]:
                if left[path_node[step]] != path_left[step]:
                    passes = False
                step += 1
            scratch[0, j] = slot_zero_fraction[slot + j]
            scratch[1, j] = (1.0 if passes else 0.0) - scratch[0, j]
        _leaf_shares(count, leaf_value[leaf], quadrature, scratch, shares)
        for j in range(count):
            out[slot_output[slot + j]] += shares[j]
        slot += count


def gauss_legendre(points: int) -> _Quadrature:
    """Return quadrature nodes and weights on [0, 1]: row ``n - 1`` holds the ``n``-point rule.

    The ``n``-point rule integrates polynomials of degree up to ``2n - 1`` exactly.
    """
    nodes = np.zeros((points, points))
    weights = np.zeros((points, points))
    for n in range(1, points + 1):
        x, w = np.polynomial.legendre.leggauss(n)
        nodes[n - 1, :n] = (x + 1.0) / 2.0
        weights[n - 1, :n] = w / 2.0
    return nodes, weights


@numba.njit(cache=True, nogil=True)
def _rows(
    rows: _FloatArray,
    splits: _Splits,
    paths: _Paths,
    quadrature: _Quadrature,
    max_slots: int,
    out: _FloatArray,
) -> None:
    """TreeSHAP of every row of ``rows`` into the matching row of ``out``, in one call.

    One call for a batch: the GIL is released once for all of it, not once per row.
    """
    left = np.empty(splits[0].shape[0], dtype=np.bool_)
    for r in range(rows.shape[0]):
        _goes_left(rows[r], splits, left)
        _accumulate(left, paths, quadrature, max_slots, out[r])


#: The most slots a leaf may have for :func:`_rows_shared` (its pattern is one int64).
PATTERN_SLOTS = 62
#: Batches of at least this many rows go leaf by leaf (:func:`_rows_shared`); smaller ones row
#: by row. On the gateway bench's model (200 trees of 31 leaves), CPU per row against
#: :func:`_rows`: about even at 4 rows, -17 % at 8, -33 % at 32, -45 % at 128.
SHARED_ROWS = 4


@numba.njit(cache=True, nogil=True)
def _rows_shared(
    rows: _FloatArray,
    splits: _Splits,
    paths: _Paths,
    quadrature: _Quadrature,
    max_slots: int,
    out: _FloatArray,
) -> None:
    """:func:`_rows` for a batch whose rows share work: leaf by leaf, not row by row.

    A leaf's shares depend on the row only through which of the leaf's features the row
    passes (its pattern, one bit per slot; at most :data:`PATTERN_SLOTS` slots). The rows of a
    batch often share a pattern (13 distinct patterns among 32 rows per leaf on average on
    the gateway bench's model), so each distinct pattern's quadrature runs once per leaf and
    its shares are added to every row that has it. Each row's ``out`` receives the same
    numbers in the same order as from :func:`_rows`: the results are identical.
    """
    path_node, path_left, slot_path_end, zero_fraction = paths[0], paths[1], paths[2], paths[3]
    slot_output, leaf_slot_end, leaf_value = paths[4], paths[5], paths[6]
    count_rows = rows.shape[0]
    nodes = splits[0].shape[0]
    left = np.empty(nodes, dtype=np.bool_)
    lefts = np.empty((nodes, count_rows), dtype=np.bool_)  # by split, then row: rows adjacent
    for r in range(count_rows):
        _goes_left(rows[r], splits, left)
        for node in range(nodes):
            lefts[node, r] = left[node]
    pattern = np.empty(count_rows, dtype=np.int64)
    which = np.empty(count_rows, dtype=np.int64)  # each row's pattern among the distinct ones
    distinct = np.empty(count_rows, dtype=np.int64)
    shares = np.empty((count_rows, max_slots))
    scratch = np.empty((4, max_slots + 1))
    slot = 0
    step = 0
    for leaf in range(leaf_value.shape[0]):
        count = leaf_slot_end[leaf] - slot
        pattern[:] = 0
        for j in range(count):
            end = slot_path_end[slot + j]
            for r in range(count_rows):
                passes = True
                for s in range(step, end):
                    if lefts[path_node[s], r] != path_left[s]:
                        passes = False
                        break
                if passes:
                    pattern[r] |= np.int64(1) << j
            step = end
        found = 0
        for r in range(count_rows):
            u = 0
            while u < found and distinct[u] != pattern[r]:
                u += 1
            if u == found:
                distinct[u] = pattern[r]
                for j in range(count):
                    scratch[0, j] = zero_fraction[slot + j]
                    scratch[1, j] = (1.0 if (pattern[r] >> j) & 1 else 0.0) - scratch[0, j]
                _leaf_shares(count, leaf_value[leaf], quadrature, scratch, shares[u])
                found += 1
            which[r] = u
        for r in range(count_rows):
            u = which[r]
            for j in range(count):
                out[r, slot_output[slot + j]] += shares[u, j]
        slot += count


class TreeShap:
    """Path-dependent TreeSHAP of rows over one flattened forest."""

    def __init__(self, forest: Forest) -> None:
        self._forest = forest
        self._width = forest.features + 1
        self._quadrature = gauss_legendre((forest.max_slots + 1) // 2)
        # The forest's arrays as the compiled kernel takes them (it cannot take the Forest).
        self._splits: _Splits = (
            forest.node_feature,
            forest.node_threshold,
            forest.node_missing,
            forest.node_default_left,
            forest.node_categorical,
            forest.category_start,
            forest.categories,
        )
        self._paths: _Paths = (
            forest.path_node,
            forest.path_left,
            forest.slot_path_end,
            forest.slot_zero_fraction,
            forest.slot_output,
            forest.leaf_slot_end,
            forest.leaf_value,
        )

    def contributions(self, row: _FloatArray) -> _FloatArray:
        """Return per column, then the baseline, for each class: LightGBM's ``pred_contrib``.

        ``row`` holds the model's columns (any shape with that many values).
        """
        one: _FloatArray = self.contributions_many(np.reshape(row, (1, -1)))[0]
        return one

    def contributions_many(self, rows: _FloatArray) -> _FloatArray:
        """Return :meth:`contributions` of each row of ``rows`` (rows × model columns).

        A batch of at least :data:`SPLIT_ROWS` rows is split between this thread and a helper
        thread per other core: the kernel releases the GIL, so the parts run at once.
        """
        forest = self._forest
        values = np.ascontiguousarray(rows, dtype=np.float64)
        out = np.zeros((values.shape[0], forest.baseline.shape[0] * self._width))
        helpers = _helpers() if values.shape[0] >= SPLIT_ROWS else None
        if helpers is None:
            self._kernel(values, out)
            return self._with_baseline(out)
        parts = _HELPER_COUNT + 1
        ends = [len(values) * part // parts for part in range(parts + 1)]
        spans = list(zip(ends, ends[1:], strict=False))
        started = [helpers.submit(self._kernel, values[a:b], out[a:b]) for a, b in spans[1:]]
        (a, b) = spans[0]
        self._kernel(values[a:b], out[a:b])
        for future in started:
            future.result()
        return self._with_baseline(out)

    def _with_baseline(self, out: _FloatArray) -> _FloatArray:
        out[:, self._width - 1 :: self._width] += self._forest.baseline
        return out

    def _kernel(self, values: _FloatArray, out: _FloatArray) -> None:
        max_slots = self._forest.max_slots
        shared = values.shape[0] >= SHARED_ROWS and max_slots <= PATTERN_SLOTS
        kernel = _rows_shared if shared else _rows
        kernel(values, self._splits, self._paths, self._quadrature, max_slots, out)


#: Batches of at least this many rows are shared with helper threads. Smaller ones are not
#: worth the hand-over: the helper's part waits for the GIL to report back. Two parts of a
#: batch share fewer patterns than the whole (:func:`_rows_shared`), about 4 % more CPU per
#: decision at 32 rows; over HTTP the split still wins (``ethica serve`` on SQLite, 3 pairs
#: with the split from 8 rows and from 64: 499/354/294 against 477/292/172 decisions/s), as
#: the decision thread is the bottleneck and the helper takes half the kernel off it.
SPLIT_ROWS = 8
_HELPER_COUNT = (os.cpu_count() or 1) - 1  # one per other core
_HELPERS: list[ThreadPoolExecutor] = []
_HELPERS_LOCK = threading.Lock()


def _helpers() -> ThreadPoolExecutor | None:
    """Threads for the other cores (None on one core), started on first use."""
    if _HELPER_COUNT < 1:
        return None
    with _HELPERS_LOCK:
        if not _HELPERS:
            _HELPERS.append(ThreadPoolExecutor(_HELPER_COUNT, thread_name_prefix="ethica-treeshap"))
        return _HELPERS[0]
