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
    gauss_nodes, gauss_weights = quadrature
    zero = np.empty(max_slots)
    slope = np.empty(max_slots)  # h_j - z_j
    integral = np.empty(max_slots)
    prefix = np.empty(max_slots + 1)  # Π of the factors before j at one quadrature node
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
            zero[j] = slot_zero_fraction[slot + j]
            slope[j] = (1.0 if passes else 0.0) - zero[j]
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
        value = leaf_value[leaf]
        for j in range(count):
            out[slot_output[slot + j]] += value * slope[j] * integral[j]
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
        _rows(values, self._splits, self._paths, self._quadrature, self._forest.max_slots, out)


#: Batches of at least this many rows are shared with helper threads. Smaller ones are not
#: worth the hand-over: the helper's part waits for the GIL to report back.
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
