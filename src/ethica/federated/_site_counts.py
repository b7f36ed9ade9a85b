"""A site's part of a federated audit: its count table, laid out over the plan's cells."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

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
