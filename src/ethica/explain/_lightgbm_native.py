"""One decision's contributions and margin from a LightGBM booster, fast enough for the gateway.

Contributions come from the compiled TreeSHAP of :mod:`ethica.explain._treeshap` where numba is
installed (several times faster than LightGBM's recursive ``pred_contrib``, same values), else
from LightGBM's ``pred_contrib``; the margin always comes from LightGBM itself, so the
attribution's additivity check compares two independent computations. Both LightGBM calls go
through its single-row fast C API (``LGBM_BoosterPredictForMatSingleRowFast``), which runs the
same trees as ``Booster.predict`` without re-checking its input and allocating on every call.
"""

from __future__ import annotations

import threading
import weakref
from typing import TYPE_CHECKING, Any

import numpy as np

from ethica.explain._lightgbm_trees import lightgbm_forest
from ethica.scoring._lightgbm_fast import PREDICT_CONTRIB, PREDICT_RAW_SCORE, SingleRow

if TYPE_CHECKING:
    from ethica.explain._treeshap import TreeShap

_FloatArray = np.ndarray[Any, np.dtype[np.float64]]


class LightGBMContributions:
    """Contributions (TreeSHAP, with the baseline last) and raw margin of one encoded row."""

    def __init__(self, booster: Any) -> None:
        # No reference to the booster: the cache below is keyed weakly by it, and a reference
        # from its value would keep it alive for ever. Callers hold the booster while predicting.
        outputs = booster.num_model_per_iteration()
        width = booster.num_feature() + 1
        #: Outputs per row: 1, or one per class of a multiclass model.
        self.outputs: int = outputs
        #: The model's column names, in the order of the contributions.
        self.columns: list[str] = list(booster.feature_name())
        self._margin = SingleRow(booster, PREDICT_RAW_SCORE, outputs)
        self._contrib: TreeShap | SingleRow = _compiled_treeshap(booster) or SingleRow(
            booster, PREDICT_CONTRIB, outputs * width
        )

    @property
    def compiled(self) -> bool:
        """Tell whether contributions come from the compiled TreeSHAP (else from LightGBM)."""
        return not isinstance(self._contrib, SingleRow)

    def contributions(self, row: _FloatArray) -> _FloatArray:
        """Return per model column, then the baseline: ``pred_contrib`` of one row.

        A multiclass model gives one such block per class, one after the other.
        """
        if isinstance(self._contrib, SingleRow):
            return self._contrib.predict(row)
        return self._contrib.contributions(row)

    def contributions_many(self, rows: _FloatArray) -> _FloatArray:
        """Return :meth:`contributions` of each row of ``rows`` (rows × model columns).

        The compiled TreeSHAP takes the whole batch in one call, with the GIL released.
        """
        if isinstance(self._contrib, SingleRow):
            return np.stack([self._contrib.predict(row) for row in rows])
        return self._contrib.contributions_many(rows)

    def margin(self, row: _FloatArray) -> float:
        """Return the raw score (log-odds for a binary objective), as ``raw_score=True``."""
        return float(self._margin.predict(row)[0])

    def margins(self, row: _FloatArray) -> _FloatArray:
        """Return the raw score of every class (one value for a single-output model)."""
        return self._margin.predict(row)


def _compiled_treeshap(booster: Any) -> TreeShap | None:
    """Return the compiled TreeSHAP of the booster; None without numba or for models it skips."""
    try:
        from ethica.explain._treeshap import TreeShap
    except ImportError:  # numba is not installed
        return None
    forest = lightgbm_forest(booster)
    return None if forest is None else TreeShap(forest)


_CACHE: weakref.WeakKeyDictionary[Any, LightGBMContributions | None] = weakref.WeakKeyDictionary()
_CACHE_LOCK = threading.Lock()


def fast_contributions(booster: Any) -> LightGBMContributions | None:
    """Return the fast path of a booster, built once; None where this LightGBM lacks it."""
    with _CACHE_LOCK:
        if booster in _CACHE:
            return _CACHE[booster]
        try:
            fast: LightGBMContributions | None = LightGBMContributions(booster)
        except (AttributeError, ImportError, OSError):
            fast = None
        _CACHE[booster] = fast
        return fast
