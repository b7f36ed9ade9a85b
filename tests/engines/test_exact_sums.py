"""Sums that do not depend on the order a parallel engine adds its rows in.

DuckDB adds the partial sums of its threads in the order they finish and returns the cells
of a group-by in that order too; a floating-point score sum then changed in its last bit from
one run to the next, and so did the JSON of the same audit of the same file.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ethica.engines import Aggregation, Col, DuckDBEngine
from ethica.fairness import audit

ROWS = 400_000


@pytest.fixture(scope="module")
def scored_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Scored decisions in many row groups, so that DuckDB's threads share the work."""
    rng = np.random.default_rng(7)
    score = rng.random(ROWS)
    table = pa.table(
        {
            "sex": rng.choice(["F", "M"], ROWS),
            "band": rng.choice(["<25", "25-44", "45+"], ROWS),
            "label": rng.integers(0, 2, ROWS),
            "prediction": (score > 0.5).astype(np.int64),
            # Several magnitudes, so that a sum in another order rounds differently.
            "score": score * 10.0 ** rng.integers(-6, 3, ROWS),
        }
    )
    path = tmp_path_factory.mktemp("exact") / "scored.parquet"
    pq.write_table(table, path, row_group_size=8192)
    return path


def test_the_same_audit_writes_the_same_json(scored_file: Path) -> None:
    runs = {
        audit(
            str(scored_file),
            sensitive_features="sex,band",
            label="label",
            prediction="prediction",
            score="score",
            engine=DuckDBEngine(threads=4),
        ).to_json()
        for _ in range(4)
    }
    assert len(runs) == 1


def test_exact_sums_are_the_same_on_every_run_and_exact(scored_file: Path) -> None:
    aggregation = Aggregation(keys=(("sex", Col("sex")),), exact_sums=(("s", Col("score")),))
    engine = DuckDBEngine(threads=4)
    runs = [engine.aggregate(str(scored_file), aggregation) for _ in range(6)]
    for run in runs[1:]:
        assert run["sex"].tolist() == runs[0]["sex"].tolist()
        assert run["s"].tolist() == runs[0]["s"].tolist()
    frame = pq.read_table(scored_file).to_pandas()
    for sex, total in zip(runs[0]["sex"], runs[0]["s"], strict=True):
        # math.fsum is the correctly rounded sum; ours rounds two exact integer totals.
        exact = math.fsum(frame.loc[frame["sex"] == sex, "score"])
        assert total == pytest.approx(exact, rel=4e-16, abs=0)
