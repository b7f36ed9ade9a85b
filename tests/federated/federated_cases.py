"""Three sites' decision logs, each with its own mix of groups and rates, and their plan."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ethica.fairness import Audit

PLAN_TOML = """\
sites = 3
superlink = "127.0.0.1:{port}"
timeout = {timeout}

[audit]
sensitive = ["sex", "age_band"]
prediction = "approved"
label = "repaid"
min_group_size = 20

[groups]
sex = ["Female", "Male"]
age_band = ["<25", "25-44", "45+"]
"""


def site_logs(rows: int = 1500, seed: int = 7) -> list[pd.DataFrame]:
    """Three logs: each site serves another mix of customers and decides at another rate."""
    rng = np.random.default_rng(seed)
    logs = []
    for site in range(3):
        n = rows + 250 * site
        sex = rng.choice(["Female", "Male"], n, p=[0.3 + 0.2 * site, 0.7 - 0.2 * site])
        band = rng.choice(["<25", "25-44", "45+"], n, p=[0.2, 0.5, 0.3])
        repaid = rng.integers(0, 2, n)
        rate = 0.45 + 0.1 * site + 0.1 * (sex == "Male")
        approved = (rng.random(n) < rate).astype(int)
        logs.append(
            pd.DataFrame({"sex": sex, "age_band": band, "repaid": repaid, "approved": approved})
        )
    # One site never sees a young woman: the sum must still hold every other cell.
    logs[0] = logs[0][~((logs[0]["sex"] == "Female") & (logs[0]["age_band"] == "<25"))]
    return [log.reset_index(drop=True) for log in logs]


def write_sites(folder: Path, logs: list[pd.DataFrame], *, port: int, timeout: int = 600) -> Path:
    """Write each site's log as Parquet and the plan beside them; return the plan's path."""
    for index, log in enumerate(logs):
        log.to_parquet(folder / f"site{index}.parquet", index=False)
    plan = folder / "sites.toml"
    plan.write_text(PLAN_TOML.format(port=port, timeout=timeout), encoding="utf-8")
    return plan


def assert_same_audit(federated: Audit, central: Audit) -> None:
    """Every figure, gap, interval, test and finding the same, to the last digit."""
    ours, theirs = federated.to_dict(), central.to_dict()
    assert ours == theirs
    pd.testing.assert_frame_equal(federated.comparisons, central.comparisons)


def write_table(url: str, table: str, frame: pd.DataFrame) -> None:
    """Write ``frame`` as a new PostgreSQL table (a site's decision log where it lives)."""
    from sqlalchemy import create_engine

    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        frame.to_sql(table, engine, index=False)
    finally:
        engine.dispose()
