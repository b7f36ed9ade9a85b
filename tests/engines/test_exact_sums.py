"""Sums that do not depend on the order a parallel engine adds its rows in.

DuckDB adds the partial sums of its threads in the order they finish and returns the cells
of a group-by in that order too; a floating-point score sum then changed in its last bit from
one run to the next, and so did the JSON of the same audit of the same file.
"""

from __future__ import annotations

import math
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from ethica.engines import Aggregation, Col, DuckDBEngine
from ethica.fairness import audit


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
