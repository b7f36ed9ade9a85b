"""The demo's credit model: who gets a credit limit increase, learned from the recorded outcome."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ethica.demo._customers import CATEGORICAL_FEATURES, FEATURES
from ethica.errors import InputError

#: Share of the held-out customers whose score clears the approval threshold.
APPROVAL_RATE = 0.6
#: Share of the customers kept out of training; their decisions are what the demo audits.
HOLDOUT_SHARE = 0.5


def train_credit_model(
    customers: pd.DataFrame, *, seed: int = 0, approval_rate: float = APPROVAL_RATE
) -> tuple[Any, pd.DataFrame]:
    """Train a credit-limit-increase model on the features only, and decide on held-out customers.

    The model is scikit-learn's ``HistGradientBoostingClassifier`` fitted to the recorded
    outcome ``repaid`` on the columns in :data:`FEATURES`; it never sees the protected
    attributes (nor the latent outcome).

    Parameters
    ----------
    customers
        A frame from :func:`generate_customers`.
    seed
        Seed of the train/held-out split and of the model.
    approval_rate
        The threshold is set so that about this share of held-out customers is approved.

    Returns
    -------
    tuple
        The fitted model, and the decisions on the held-out customers: every column of
        ``customers`` plus ``score`` (probability of repaying, rounded to 3 decimals so that
        an audit computes the ROC AUC exactly) and ``approved`` (1 when the score clears the
        threshold).
    """
    # Imported here so that `import ethica.demo` works without the `demo` extra.
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import train_test_split
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

    if not 0.0 < approval_rate < 1.0:
        raise InputError(f"approval_rate must be in (0, 1); got {approval_rate}")
    missing = [c for c in (*FEATURES, "repaid") if c not in customers]
    if missing:
        raise InputError(f"customers lack column(s) {missing}; use generate_customers()")
    inputs = model_inputs(customers)
    train, held_out = train_test_split(
        np.arange(len(customers)),
        test_size=HOLDOUT_SHARE,
        random_state=seed,
        stratify=customers["repaid"],
    )
    model = HistGradientBoostingClassifier(
        max_iter=200,
        learning_rate=0.05,
        max_leaf_nodes=15,
        l2_regularization=1.0,
        early_stopping=False,
        categorical_features="from_dtype",
        random_state=seed,
    )
    held_out = np.sort(held_out)
    # One thread is quick for a model this small, and OpenMP threads spinning against other
    # work on a busy machine made training tens of times slower.
    with threadpool_limits(limits=1, user_api="openmp"):
        model.fit(inputs.iloc[train], customers["repaid"].iloc[train])
        probability = model.predict_proba(inputs.iloc[held_out])[:, 1]
    score = np.round(probability, 3)
    threshold = float(np.quantile(score, 1.0 - approval_rate))
    decisions = customers.iloc[held_out].reset_index(drop=True)
    decisions["score"] = score
    decisions["approved"] = (score >= threshold).astype(np.int64)
    return model, decisions


def model_inputs(customers: pd.DataFrame) -> pd.DataFrame:
    """Select the model's inputs: the features only, categories as pandas categoricals."""
    inputs = customers[list(FEATURES)].copy()
    for column in CATEGORICAL_FEATURES:
        inputs[column] = inputs[column].astype("category")
    return inputs
