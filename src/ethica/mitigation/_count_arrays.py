"""The binary count table of arrays in memory (what thresholds and reweighing need), by chunks.

Where every key is short (one-character text, integers in a short range, 0/1 labels and
decisions, scores with few distinct values or binned), each row's cell is a number computed
from its keys by offsets and a lookup, and each chunk is counted by one ``np.bincount`` into a
dense array of all cells: no hashing, no sorting of the rows. Other keys become each chunk's
codes (hashed), the chunks' non-empty cells counted once more the same way. Either way no data
frame of the rows is built and no more than one chunk's codes are held. The result equals
:func:`ethica.fairness.count_table` on the same arrays (tested). One short key and few exact
scores are counted compiled (numba, :mod:`~ethica.mitigation._compiled`) where installed; the
dense count is in :mod:`~ethica.mitigation._dense_count`, the count of any keys in
:mod:`~ethica.mitigation._chunk_cells`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from ethica.errors import InputError
from ethica.fairness import CountTable, ScoreBins
from ethica.fairness._count_table import NamedGroups, named_groups
from ethica.fairness._roles import _feature_arrays
from ethica.fairness._rollup import Factorized
from ethica.mitigation._binary import NOT_BINARY
from ethica.mitigation._cell_codes import Counted, Rows, Values, factorize
from ethica.mitigation._chunk_cells import count_by_chunk_cells
from ethica.mitigation._dense_count import dense_count

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
        counted = dense_count(rows, chunk_rows, score_bins)
    if counted is None:
        counted = count_by_chunk_cells(rows, chunk_rows, score_bins)
    keys, n, sums, bins, score_codes = counted
    names = list(features)
    # Each group's name now (a missing one warns here), the column of names when first read.
    groups: dict[str, NamedGroups] = {}
    for index, name in enumerate(names):
        codes, uniques = factorize(keys[index])
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
