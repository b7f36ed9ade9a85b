"""The cells rows are counted in: their keys as codes (by offset where short, else hashed).

Shared by the counts of :func:`~ethica.mitigation.count_arrays`: the rows to count, what a
count returns, and how a key's values and a score become a cell's code.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
import pandas as pd

from ethica.fairness import ScoreBins
from ethica.fairness._rollup import Factorized

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


SHORT_RANGE = 1 << 12  # integer keys spanning fewer values are coded by offset, without hashing


def offset_codes(values: Values) -> tuple[Values, int, Values] | None:
    """Integers (short text read as integers) spanning few values: (integers, lowest, values)."""
    if values.dtype.kind in "US" and values.dtype.itemsize in (4, 8):
        as_int = values.view(np.uint32 if values.dtype.itemsize == 4 else np.uint64)
        coded = offset_codes(as_int)
        if coded is None:
            return None
        return coded[0], coded[1], coded[2].view(values.dtype)
    if values.dtype.kind not in "iu" or not values.size:
        return None
    low, high = int(values.min()), int(values.max())
    if high - low >= SHORT_RANGE or high >= 2**63:
        return None
    return values, low, np.arange(low, high + 1).astype(values.dtype)


def factorize(values: Values) -> tuple[Values, Values]:
    """Codes and distinct values: integers in a short range by offset, others by hashing.

    Short fixed-width text (one or two characters) is read as the integer it spells.
    """
    if values.dtype.kind in "US" and values.dtype.itemsize in (4, 8):
        as_int = values.view(np.uint32 if values.dtype.itemsize == 4 else np.uint64)
        codes, uniques = factorize(as_int)
        return codes, uniques.astype(as_int.dtype).view(values.dtype)
    if values.dtype.kind in "iu" and values.size:
        low, high = int(values.min()), int(values.max())
        if high - low < SHORT_RANGE and high < 2**63:
            offset = values.astype(np.int64) - low if low else values
            return offset, np.arange(low, high + 1).astype(values.dtype)
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    return codes, np.asarray(uniques)


def equal_width_bin(scores: Values, bins: ScoreBins) -> Values:
    """Equal-width bin of each score, as the engines bin (the highest score in the last bin)."""
    index = np.floor((scores - bins.low) / (bins.high - bins.low) * bins.bins)
    return np.clip(index, 0.0, bins.bins - 1.0)
