"""Windows built one at a time equal windows built at once, bit for bit, in memory and in DuckDB."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from ethica.engines import SqlQuery
from ethica.engines._spark import SparkEngine
from ethica.errors import InputError
from ethica.fairness import ScoreBins, count_table
from ethica.monitoring._windows import (
    FeatureBins,
    WindowCounts,
    WindowPlan,
    build_windows,
    merge_windows,
)

START = datetime(2026, 3, 1, tzinfo=UTC)
PLAN = WindowPlan(
    time="made_at",
    sensitive_features=("sex", "age_band"),
    prediction="approved",
    label="repaid",
    score="score",
    score_bins=ScoreBins("equal_width", 0.0, 1.0, 10),
    features={
        "income": FeatureBins("numeric", 0.0, 100_000.0, 20),
        "region": FeatureBins("categorical"),
    },
)


def _decisions(days: int = 12, per_day: int = 300, seed: int = 4) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = days * per_day
    seconds = rng.integers(0, days * 86_400, n)
    score = rng.uniform(0, 1, n)
    repaid = rng.integers(0, 2, n).astype(float)
    repaid[rng.uniform(size=n) < 0.4] = np.nan  # outcomes not known yet
    income = rng.normal(40_000, 15_000, n)
    income[rng.uniform(size=n) < 0.02] = np.nan
    income[:3] = [-5.0, 250_000.0, 100_000.0]  # outside the reference's range: outer bins
    return pd.DataFrame(
        {
            "made_at": pd.to_datetime(START) + pd.to_timedelta(seconds, unit="s"),
            "sex": rng.choice(["f", "m"], n),
            "age_band": rng.choice(["18-30", "31-50", "51+"], n),
            "approved": (score > 0.5).astype(int),
            "repaid": repaid,
            "score": score,
            "income": income,
            "region": rng.choice(["north", "south", "east"], n),
        }
    )


def _same(
    left: dict[datetime, WindowCounts], right: dict[datetime, WindowCounts], *, exact: bool = True
) -> None:
    # Counts always bit for bit; sums of scores too unless exact=False (PostgreSQL adds in
    # its own order, in parallel workers: the last bits may differ).
    assert sorted(left) == sorted(right)
    for start in left:
        a, b = left[start], right[start]
        for part in ("decisions", "outcomes"):
            ta, tb = getattr(a, part), getattr(b, part)
            assert (ta is None) == (tb is None)
            if ta is not None:
                pd.testing.assert_frame_equal(ta.cells, tb.cells, check_exact=exact, rtol=1e-12)
                assert ta.bins == tb.bins and ta.classes == tb.classes
        assert sorted(a.features) == sorted(b.features)
        for name in a.features:
            fa, fb = a.features[name], b.features[name]
            assert np.array_equal(fa.values, fb.values) and np.array_equal(fa.counts, fb.counts)
            assert fa.missing == fb.missing


def test_windows_built_one_day_at_a_time_equal_windows_built_at_once() -> None:
    data = _decisions()
    at_once = build_windows(data, PLAN, engine="memory")
    assert len(at_once) == 12
    one_by_one: dict[datetime, WindowCounts] = {}
    for day in range(12):
        since = START + timedelta(days=day)
        one_by_one |= build_windows(
            data, PLAN, since=since, until=since + timedelta(days=1), engine="memory"
        )
    _same(at_once, one_by_one)


def test_late_outcomes_change_only_their_windows() -> None:
    data = _decisions()
    before = build_windows(data, PLAN, engine="memory")
    late = data.copy()
    day_five = (late["made_at"] >= pd.Timestamp(START + timedelta(days=5))) & (
        late["made_at"] < pd.Timestamp(START + timedelta(days=6))
    )
    arriving = day_five & late["repaid"].isna()
    assert arriving.sum() > 50
    late.loc[arriving, "repaid"] = 1.0
    after = build_windows(late, PLAN, engine="memory")
    changed = [start for start in before if not _equal(before[start], after[start])]
    assert changed == [START + timedelta(days=5)]
    refreshed = build_windows(
        late,
        PLAN,
        since=START + timedelta(days=5),
        until=START + timedelta(days=6),
        engine="memory",
    )
    _same({**before, **refreshed}, after)
    # Decisions counted once: the new outcomes add rows to the outcome table only.
    window = after[START + timedelta(days=5)]
    assert window.decisions is not None and window.outcomes is not None
    assert window.decisions.rows == before[START + timedelta(days=5)].rows
    assert window.outcomes.rows == window.decisions.rows - int(
        (day_five & late["repaid"].isna()).sum()
    )


def _equal(a: WindowCounts, b: WindowCounts) -> bool:
    try:
        _same({a.start: a}, {b.start: b})
    except AssertionError:
        return False
    return True


def test_duckdb_on_parquet_equals_memory(tmp_path: Path) -> None:
    data = _decisions(days=6, per_day=200)
    path = tmp_path / "decisions.parquet"
    data.to_parquet(path)
    # DuckDB adds scores as exact integers (the same sum in any thread order), the in-memory
    # engine adds them in row order: the last bits of a score sum may differ.
    _same(build_windows(data, PLAN, engine="memory"), build_windows(path, PLAN), exact=False)
    since, until = START + timedelta(days=2), START + timedelta(days=4)
    _same(
        build_windows(data, PLAN, since=since, until=until, engine="memory"),
        build_windows(path, PLAN, since=since, until=until),
        exact=False,
    )


@pytest.mark.postgresql
def test_postgresql_counts_windows_in_the_database_equal_to_memory(
    postgresql_url: str, postgresql_table: Callable[[pd.DataFrame], str]
) -> None:
    data = _decisions(days=5, per_day=200)
    table = postgresql_table(data)
    _same(
        build_windows(data, PLAN, engine="memory"),
        build_windows(table, PLAN, engine=postgresql_url),
        exact=False,
    )
    since, until = START + timedelta(days=1), START + timedelta(days=3)
    _same(
        build_windows(data, PLAN, since=since, until=until, engine="memory"),
        build_windows(
            SqlQuery(f"SELECT * FROM {table}"),
            PLAN,
            since=since,
            until=until,
            engine=postgresql_url,
        ),
        exact=False,
    )
    epoch = data.assign(made_at=(data["made_at"] - pd.Timestamp(0, tz="UTC")).dt.total_seconds())
    _same(
        build_windows(data, PLAN, engine="memory"),
        build_windows(postgresql_table(epoch), PLAN, engine=postgresql_url),
        exact=False,
    )


@pytest.mark.spark
def test_spark_counts_windows_of_a_parquet_log_equal_to_memory(tmp_path: Path, spark: Any) -> None:
    data = _decisions(days=4, per_day=150)
    path = tmp_path / "decisions.parquet"
    data.to_parquet(path)
    engine = SparkEngine(spark)
    # Spark, like DuckDB, adds scores as exact integers; the in-memory engine in row order.
    memory = build_windows(data, PLAN, engine="memory")
    _same(memory, build_windows(path, PLAN, engine=engine), exact=False)
    since, until = START + timedelta(days=1), START + timedelta(days=3)
    _same(
        build_windows(data, PLAN, since=since, until=until, engine="memory"),
        build_windows(spark.read.parquet(str(path)), PLAN, since=since, until=until),
        exact=False,
    )


def test_epoch_seconds_work_as_timestamps(tmp_path: Path) -> None:
    data = _decisions(days=3, per_day=100)
    epoch = data.assign(made_at=(data["made_at"] - pd.Timestamp(0, tz="UTC")).dt.total_seconds())
    path = tmp_path / "epoch.parquet"
    epoch.to_parquet(path)
    _same(build_windows(data, PLAN, engine="memory"), build_windows(path, PLAN), exact=False)


def test_merged_windows_equal_the_count_table_of_the_whole_span() -> None:
    data = _decisions(days=7)
    merged = merge_windows(list(build_windows(data, PLAN, engine="memory").values()))
    whole = count_table(
        data,
        sensitive_features=["sex", "age_band"],
        prediction="approved",
        score="score",
        score_bins=PLAN.score_bins or 10,
        engine="memory",
    )
    assert merged.decisions is not None
    order = ["sex", "age_band", *whole.keys]
    pd.testing.assert_frame_equal(
        merged.decisions.cells.sort_values(order).reset_index(drop=True),
        whole.cells.sort_values(order).reset_index(drop=True),
        check_exact=False,  # score sums add in another order
    )
    income = merged.features["income"]
    assert income.total + income.missing == len(data)
    assert income.missing == int(data["income"].isna().sum())
    assert income.counts[0] >= 1 and income.counts[-1] >= 2  # clipped into the outer bins


def test_unknown_column_is_a_clear_error() -> None:
    data = _decisions(days=1, per_day=20).drop(columns="region")
    with pytest.raises(Exception, match="region"):
        build_windows(data, PLAN, engine="memory")


def test_a_window_may_see_one_outcome_only_an_audit_may_not() -> None:
    day = pd.DataFrame({"sex": ["f", "m"] * 5, "repaid": [1] * 10, "approved": [1, 0] * 5})
    with pytest.raises(InputError, match="only one value"):
        count_table(day, sensitive_features=["sex"], label="repaid", prediction="approved")
    table = count_table(
        day,
        sensitive_features=["sex"],
        label="repaid",
        prediction="approved",
        options={"window": True},
    )
    assert table.classes == (0, 1) and table.rows == 10
    assert set(table.cells["label"]) == {1}
