"""A site's part of a federated audit: its count table, laid out over the plan's cells."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ethica.errors import InputError
from ethica.fairness import count_table
from ethica.federated._plan import Plan
from ethica.federated._secure_sum import SecureSum


def site_counts(plan: Plan, data: Any) -> np.ndarray[Any, np.dtype[np.int64]]:
    """Count ``data`` (a Parquet/CSV file or a table in memory) as the plan says, site-side.

    The aggregation runs on the existing engines (DuckDB for files); the counts are checked
    against what secure aggregation can carry exactly.
    """
    if isinstance(data, (str, Path)) and not Path(data).is_file():
        raise InputError(f"no decision log at {data}")
    if plan.model is not None:
        data = decided_by_model(plan, read_log(data))
    table = count_table(
        data,
        sensitive_features=list(plan.sensitive),
        label=plan.label,
        prediction=plan.prediction,
        pos_label=plan.pos_label,
    )
    counts = plan.layout.vector(table)
    SecureSum(plan.sites).check(counts)
    return counts


def read_log(data: Any) -> pd.DataFrame:
    """Read a site's decision log (a Parquet or CSV file, or a frame already)."""
    if isinstance(data, pd.DataFrame):
        return data
    path = Path(data)
    return pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)


def decided_by_model(plan: Plan, frame: pd.DataFrame) -> pd.DataFrame:
    """Decide each row with the plan's linear model, in the prediction column."""
    assert plan.model is not None
    coefficients, intercept = plan.model
    missing = [f for f in plan.features if f not in frame.columns]
    if missing:
        raise InputError(f"the model's input column(s) {missing} are not in this site's log")
    inputs = frame[list(plan.features)].to_numpy(dtype=np.float64)
    decided = frame.copy()
    favourable = inputs @ np.asarray(coefficients) + intercept > 0
    decided[plan.prediction] = np.where(favourable, plan.pos_label, plan.neg_label)
    return decided
