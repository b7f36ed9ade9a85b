"""A site's part of a federated audit: its count table, laid out over the plan's cells."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ethica.errors import InputError
from ethica.fairness import count_table
from ethica.federated._plan import Plan
from ethica.federated._secure_sum import SecureSum

POSTGRESQL_SCHEMES = ("postgresql://", "postgres://", "postgresql+psycopg://")


@dataclass(frozen=True)
class SiteLog:
    """Where a site's decision log is: a Parquet or CSV file, or a table in PostgreSQL.

    A table is read where it lives through the PostgreSQL engine: the count table is
    aggregated in the database, and only training reads rows (the model's columns).
    """

    location: str
    table: str | None = None

    @classmethod
    def of(cls, data: str | Path, table: str | None = None) -> SiteLog:
        """Check where the log is; every mistake is named with how to fix it."""
        location, table = str(data), table or None
        if location.startswith(POSTGRESQL_SCHEMES):
            if table is None:
                raise InputError(
                    "a PostgreSQL decision log is a table: pass --table (e.g. public.decisions)"
                )
            return cls(location, table)
        if table is not None:
            raise InputError("--table names a table of a postgresql:// --data; a file has none")
        if not Path(location).is_file():
            raise InputError(
                f"no decision log at {location}; pass a Parquet or CSV file, or a "
                "postgresql:// URL with --table"
            )
        return cls(str(Path(location).resolve()))

    @property
    def counted(self) -> tuple[Any, str]:
        """The source and engine the count table is aggregated with."""
        if self.table is not None:
            return self.table, self.location
        return Path(self.location), "auto"

    def frame(self, columns: list[str]) -> pd.DataFrame:
        """Read the rows of ``columns`` (a file's every column)."""
        if self.table is None:
            return read_log(self.location)
        from ethica.engines._postgresql import PostgreSQLEngine

        return PostgreSQLEngine(self.location).rows(self.table, columns)


def site_counts(plan: Plan, data: Any) -> np.ndarray[Any, np.dtype[np.int64]]:
    """Count ``data`` (a :class:`SiteLog`, a Parquet/CSV file or a frame) as the plan says.

    The aggregation runs on the existing engines (DuckDB for files, PostgreSQL for a table
    there); the counts are checked against what secure aggregation can carry exactly.
    """
    engine = "auto"
    if isinstance(data, (str, Path)):
        data = SiteLog.of(data)
    if isinstance(data, SiteLog):
        if plan.model is not None:
            data = decided_by_model(plan, data.frame(model_columns(plan)))
        else:
            data, engine = data.counted
    elif plan.model is not None:
        data = decided_by_model(plan, read_log(data))
    options: dict[str, Any] = {}
    if plan.bins is not None:
        options = {"score": plan.score, "score_bins": plan.bins}
    table = count_table(
        data,
        sensitive_features=list(plan.sensitive),
        label=plan.label,
        prediction=plan.prediction,
        pos_label=plan.pos_label,
        engine=engine,
        **options,
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


def model_columns(plan: Plan) -> list[str]:
    """List the columns a site reads to train the plan's model or decide with it."""
    wanted = [*plan.sensitive, *([plan.label] if plan.label else []), *plan.features]
    return list(dict.fromkeys(wanted))


def decided_by_model(plan: Plan, frame: pd.DataFrame) -> pd.DataFrame:
    """Decide each row with the plan's linear model, in the prediction column."""
    assert plan.model is not None
    coefficients, intercept = plan.model
    missing = [f for f in plan.features if f not in frame.columns]
    if missing:
        raise InputError(f"the model's input column(s) {missing} are not in this site's log")
    inputs = frame[list(plan.features)].to_numpy(dtype=np.float64)
    decided = frame.copy()
    logits = inputs @ np.asarray(coefficients) + intercept
    decided[plan.prediction] = np.where(logits > 0, plan.pos_label, plan.neg_label)
    if plan.score is not None:
        decided[plan.score] = 1.0 / (1.0 + np.exp(-logits))  # the model's probability
    return decided
