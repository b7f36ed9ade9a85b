"""Sums that do not depend on the order a parallel engine adds its rows in.

DuckDB adds the partial sums of its threads in the order they finish and returns the cells
of a group-by in that order too; a floating-point score sum then changed in its last bit from
one run to the next, and so did the JSON of the same audit of the same file.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ethica.engines import Aggregation, Col, DuckDBEngine
from ethica.engines._sql import DUCKDB, aggregation_sql
from ethica.fairness import audit
from ethica.fairness._plan import SCORE_BINS, plan_scores


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


def unit_scores(rows: int, *, largest: float | None = None) -> pa.Table:
    """Scores in ``[0, 1)`` over several magnitudes (and ``largest`` as the last one)."""
    rng = np.random.default_rng(11)
    score = rng.random(rows) * 10.0 ** rng.integers(-6, 1, rows)
    if largest is not None:
        score[-1] = largest
    return pa.table({"sex": rng.choice(["F", "M", "X"], rows), "score": score})


def test_scores_in_the_unit_interval_sum_to_the_same_numbers_with_one_integer_sum() -> None:
    general = Aggregation(keys=(("sex", Col("sex")),), exact_sums=(("s", Col("score")),))
    unit = replace(general, unit_sums=frozenset({"s"}))
    cheaper = aggregation_sql(unit, "t", DUCKDB)
    assert cheaper.count("SUM(") == aggregation_sql(general, "t", DUCKDB).count("SUM(") - 1
    table = unit_scores(50_000)
    engine = DuckDBEngine(threads=4)
    sums = engine.aggregate(table, general)["s"].tolist()
    assert [engine.aggregate(table, unit)["s"].tolist() for _ in range(3)] == [sums] * 3
    # The same question either way: a result run ahead for one answers the other.
    assert unit == general


@pytest.mark.parametrize(("largest", "unit"), [(None, True), (1.0, False), (-1e-9, False)])
def test_the_profile_tells_whether_every_score_is_in_the_unit_interval(
    largest: float | None, unit: bool
) -> None:
    plan = plan_scores(DuckDBEngine(), unit_scores(5_000, largest=largest), "score", SCORE_BINS)
    assert plan.unit is unit
    assert plan.bins is not None and plan.bins.method == "equal_width"
