"""Serialize and load models in formats that cannot run code on load."""

from __future__ import annotations

import json
from typing import Any, Literal

from ethica.errors import InputError

ModelFormat = Literal["skops", "lightgbm", "xgboost"]

# Types a skops file may contain: estimators of these libraries and their numeric building blocks.
_TRUSTED_PREFIXES = (
    "sklearn.",
    "numpy.",
    "scipy.sparse.",
    "lightgbm.sklearn.",
    "builtins.",
    "collections.",
)
# numpy / sklearn internals skops lists as untrusted although they hold only data.
_TRUSTED_NAMES = {"lightgbm.basic.Booster"}


class UnsafeModelError(InputError):
    """A model file holds types that are not on the allow-list; it was not loaded."""


def dump_model(model: Any, format: ModelFormat) -> bytes:
    """Serialize ``model`` in ``format``."""
    if format == "skops":
        import skops.io as sio

        return bytes(sio.dumps(model))
    if format == "lightgbm":
        booster = getattr(model, "booster_", model)
        return str(booster.model_to_string()).encode()
    if format == "xgboost":
        booster = model.get_booster() if hasattr(model, "get_booster") else model
        return bytes(booster.save_raw(raw_format="json"))
    raise InputError(f"unknown model format {format!r}: use skops, lightgbm or xgboost")


def load_model(content: bytes, format: ModelFormat) -> Any:
    """Load a model without executing code from the file; refuses unknown types."""
    if format == "skops":
        return _load_skops(content)
    if format == "lightgbm":
        import lightgbm

        try:
            return lightgbm.Booster(model_str=content.decode())
        except (UnicodeDecodeError, lightgbm.basic.LightGBMError) as error:
            raise InputError(f"not a LightGBM text model: {error}") from error
    if format == "xgboost":
        try:
            import xgboost
        except ImportError as error:
            raise InputError("XGBoost models need xgboost: pip install 'ethica[models]'") from error
        try:
            json.loads(content)
            booster = xgboost.Booster()
            booster.load_model(bytearray(content))
        except (ValueError, xgboost.core.XGBoostError) as error:
            raise InputError(f"not an XGBoost JSON model: {error}") from error
        return booster
    raise InputError(f"unknown model format {format!r}: use skops, lightgbm or xgboost")


def _load_skops(content: bytes) -> Any:
    try:
        import skops.io as sio
    except ImportError as error:
        raise InputError("scikit-learn models need skops: pip install 'ethica[models]'") from error
    try:
        untrusted = sio.get_untrusted_types(data=content)
    except Exception as error:  # skops raises assorted errors on malformed archives
        raise InputError(f"not a skops model file: {error}") from error
    refused = [t for t in untrusted if not _trusted(t)]
    if refused:
        raise UnsafeModelError(
            f"the model file holds types that are not allowed: {refused[:10]}; only scikit-learn, "
            "LightGBM and numpy types are loaded"
        )
    return sio.loads(content, trusted=untrusted)


def _trusted(type_name: str) -> bool:
    return type_name in _TRUSTED_NAMES or type_name.startswith(_TRUSTED_PREFIXES)
