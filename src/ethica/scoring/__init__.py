"""Models that score decisions, stored and loaded safely (skops, LightGBM text, XGBoost JSON).

A model received from a user is never unpickled: scikit-learn models go through skops with an
allow-list of types, LightGBM and XGBoost models through their own text formats.
"""

from ethica.scoring._models import ModelFormat, UnsafeModelError, dump_model, load_model
from ethica.scoring._scorer import Scored, Scorer, caller_scored, outcome_of

__all__ = [
    "ModelFormat",
    "Scored",
    "Scorer",
    "UnsafeModelError",
    "caller_scored",
    "dump_model",
    "load_model",
    "outcome_of",
]
