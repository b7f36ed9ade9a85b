"""LightGBM's single-row fast prediction (``LGBM_BoosterPredictForMatSingleRowFast``).

The same trees as ``Booster.predict``, without its per-call input checks and allocations: the
gateway scores one row at a time, and the explanations take one row's margin and contributions.
:func:`predict_rows` does the same for a matrix of rows (a counterfactual search's variants):
``Booster.predict`` spends about 80 microseconds of Python around LightGBM's own call.
"""

from __future__ import annotations

import ctypes
import threading
from typing import Any

import numpy as np

from ethica.errors import InputError

_FloatArray = np.ndarray[Any, np.dtype[np.float64]]

#: LightGBM's ``C_API_PREDICT_*`` constants.
PREDICT_NORMAL = 0  # the transformed output, as predict()
PREDICT_RAW_SCORE = 1  # the margin, as predict(raw_score=True)
PREDICT_CONTRIB = 3  # TreeSHAP, as predict(pred_contrib=True)


class SingleRow:
    """One fast-prediction configuration: a native handle with one row's buffers.

    The handle's buffers serve one call at a time, so calls are serialized by a lock. The
    booster must stay alive while this predicts: pass ``keep`` to hold it here, or hold it
    yourself (a weak cache keyed by the booster must not be kept alive by its values).
    """

    def __init__(self, booster: Any, predict_type: int, outputs: int, *, keep: Any = None) -> None:
        from lightgbm import basic

        self._library = basic._LIB  # type: ignore[attr-defined]
        self._predict = _holding_the_gil(self._library).LGBM_BoosterPredictForMatSingleRowFast
        self._keep = keep
        self._outputs = outputs
        self._lock = threading.Lock()
        self._handle = ctypes.c_void_p()
        status = self._library.LGBM_BoosterPredictForMatSingleRowFastInit(
            booster._handle,
            ctypes.c_int(predict_type),
            ctypes.c_int(0),  # from the first iteration
            ctypes.c_int(-1),  # to the last, as Booster.predict on a model without early stopping
            ctypes.c_int(1),  # C_API_DTYPE_FLOAT64
            ctypes.c_int32(booster.num_feature()),
            b"num_threads=1",
            ctypes.byref(self._handle),
        )
        if status != 0:
            raise OSError(self._library.LGBM_GetLastError().decode())

    def predict(self, row: _FloatArray) -> _FloatArray:
        """Return the output for one encoded row of shape (1, features)."""
        data = np.ascontiguousarray(row, dtype=np.float64)
        result = np.empty(self._outputs, dtype=np.float64)
        length = ctypes.c_int64(0)
        with self._lock:  # raw addresses: ndarray.ctypes.data_as() costs more than the trees
            status = self._predict(
                self._handle,
                ctypes.c_void_p(data.ctypes.data),
                ctypes.byref(length),
                ctypes.c_void_p(result.ctypes.data),
            )
        if status != 0:
            raise InputError(f"LightGBM failed: {self._library.LGBM_GetLastError().decode()}")
        return result[: length.value]

    def __del__(self) -> None:
        handle = getattr(self, "_handle", None)
        if handle is not None and handle.value:
            self._library.LGBM_FastConfigFree(handle)


def _holding_the_gil(library: ctypes.CDLL) -> ctypes.PyDLL:
    """Open the library again, its functions called without releasing the GIL.

    ctypes releases the GIL around every call of a ``CDLL``; for a call of microseconds that
    costs more than it saves: under load the thread then waits for the GIL to come back (up to
    the interpreter's switch interval, 5 ms, while another thread runs Python). A single-row
    prediction is that short, so it runs holding the GIL.
    """
    return ctypes.PyDLL(library._name)


def predict_rows(booster: Any, rows: _FloatArray) -> _FloatArray:
    """``booster.predict(rows, num_threads=1)``, flattened, from one call of LightGBM's C API.

    The same iterations as ``Booster.predict``: up to the best iteration when early stopping
    found one, else all. The GIL is released during the call, as ``Booster.predict`` does.
    """
    from lightgbm import basic

    library = basic._LIB  # type: ignore[attr-defined]
    data = np.ascontiguousarray(rows, dtype=np.float64)
    count, columns = data.shape
    if columns != booster.num_feature():
        raise InputError(
            f"the model expects {booster.num_feature()} features per row; got {columns}"
        )
    best = booster.best_iteration
    result = np.empty(count * booster.num_model_per_iteration(), dtype=np.float64)
    length = ctypes.c_int64(0)
    status = library.LGBM_BoosterPredictForMat(
        booster._handle,
        ctypes.c_void_p(data.ctypes.data),
        ctypes.c_int(1),  # C_API_DTYPE_FLOAT64
        ctypes.c_int32(count),
        ctypes.c_int32(columns),
        ctypes.c_int(1),  # row-major
        ctypes.c_int(PREDICT_NORMAL),
        ctypes.c_int(0),  # from the first iteration
        ctypes.c_int(best if best > 0 else -1),
        b"num_threads=1",
        ctypes.byref(length),
        ctypes.c_void_p(result.ctypes.data),
    )
    if status != 0:
        raise InputError(f"LightGBM failed: {library.LGBM_GetLastError().decode()}")
    return result[: length.value]


def fast_scoring(model: Any) -> SingleRow | None:
    """Return the fast path for a LightGBM model, or None (other models, older LightGBM)."""
    if not type(model).__module__.startswith("lightgbm"):
        return None
    try:
        booster = getattr(model, "booster_", model)
        return SingleRow(booster, PREDICT_NORMAL, booster.num_model_per_iteration(), keep=booster)
    except (AttributeError, ImportError, OSError):
        return None
