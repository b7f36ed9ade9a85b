"""Held-out decisions of a model trained on Adult and German credit, shared by the peer tests.

One seeded logistic regression per data set; its scores are rounded to 3 decimals (so that
ROC AUC from score bins is exact) and its decision is ``score >= 0.5``.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from ethica.datasets import load_adult, load_german

SENSITIVE = ["sex", "race", "age_band"]


def _decided(
    train: pd.DataFrame,
    test: pd.DataFrame,
    *,
    numeric: list[str],
    categorical: list[str],
    target: str,
) -> pd.DataFrame:
    def design(frame: pd.DataFrame) -> pd.DataFrame:
        out = frame[numeric + categorical].copy()
        for column in categorical:
            out[column] = out[column].fillna("missing").astype(object)
        return out

    encode = ColumnTransformer(
        [
            ("numeric", StandardScaler(), numeric),
            ("categorical", OneHotEncoder(handle_unknown="ignore"), categorical),
        ]
    )
    model = make_pipeline(encode, LogisticRegression(max_iter=2000, random_state=0))
    model.fit(design(train), train[target])
    score = np.round(model.predict_proba(design(test))[:, 1], 3)
    frame = test[[c for c in SENSITIVE if c in test]].astype(str).reset_index(drop=True)
    frame["y"] = test[target].to_numpy(dtype=np.int64)
    frame["y_pred"] = (score >= 0.5).astype(np.int64)
    frame["score"] = score
    return frame


@functools.cache
def adult_decisions(datasets: Path) -> pd.DataFrame:
    """Adult's test split, decided by a model trained on its train split (sex, race)."""
    train, test = (load_adult(datasets, split=s) for s in ("train", "test"))
    for part in (train, test):
        part["high_income"] = (part["income"] == ">50K").astype(np.int64)
    return _decided(
        train,
        test,
        numeric=["age", "education_num", "capital_gain", "capital_loss", "hours_per_week"],
        categorical=["workclass", "marital_status", "occupation", "relationship", "race", "sex"],
        target="high_income",
    )


@functools.cache
def german_decisions(datasets: Path) -> pd.DataFrame:
    """German credit's last 400 rows (seeded shuffle), decided by a model of the first 600."""
    data = load_german(datasets).sample(frac=1.0, random_state=0).reset_index(drop=True)
    return _decided(
        data.iloc[:600],
        data.iloc[600:],
        numeric=["duration", "credit_amount", "installment_rate", "age", "number_existing_credits"],
        categorical=["status", "credit_history", "purpose", "savings", "present_employment"],
        target="good_credit",
    )
