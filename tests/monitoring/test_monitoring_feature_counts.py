"""Every numeric feature counted in one pass (DuckDB streamed, PostgreSQL's binary COPY) equals
the in-memory engine's counts, bit for bit, on awkward values: bin edges, outside the range,
infinities, NaN and NULL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ethica.errors import EngineError, InputError
from ethica.monitoring import _feature_counts
from ethica.monitoring._windows import FeatureBins, WindowCounts, WindowPlan, build_windows

START = datetime(2026, 5, 1, tzinfo=UTC)
BINS = {
    "a": FeatureBins("numeric", -1.0, 1.0, 8),
    "b": FeatureBins("numeric", 0.0, 0.3, 3),  # 0.1 and 0.2 are not exact in binary
    "c": FeatureBins("numeric", 10.0, 20.0, 5),
    "kind": FeatureBins("categorical"),
}
PLAN = WindowPlan(time="at", sensitive_features=("sex",), prediction="approved", features=BINS)


def _log(rows: int = 6_000, days: int = 5, seed: int = 7, start: datetime = START) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    a = rng.normal(0, 0.8, rows)
    awkward = [-1.0, 1.0, -0.75, 0.25, np.inf, -np.inf, np.nan, 5.0, -5.0, 0.0]
    a[: len(awkward)] = awkward
    b = rng.choice([0.0, 0.1, 0.2, 0.3, 0.1 + 0.2, np.nan, 0.05], rows)
    c = rng.integers(8, 23, rows).astype(float)
    c[rng.uniform(size=rows) < 0.1] = np.nan  # NULL in SQL
    return pd.DataFrame(
        {
            "at": pd.to_datetime(start)
            + pd.to_timedelta(np.sort(rng.integers(0, days * 86_400, rows)), unit="s"),
            "sex": rng.choice(["f", "m"], rows),
            "approved": rng.integers(0, 2, rows),
            "a": a,
            "b": b,
            "c": pd.array(np.where(np.isnan(c), None, c), dtype="Float64"),
            "kind": rng.choice(["x", "y", "z"], rows),
        }
    )


def _same_features(left: dict[datetime, WindowCounts], right: dict[datetime, WindowCounts]) -> None:
    assert sorted(left) == sorted(right)
    for start in left:
        assert sorted(left[start].features) == sorted(right[start].features)
        for name, one in left[start].features.items():
            other = right[start].features[name]
            np.testing.assert_array_equal(one.values, other.values)
            np.testing.assert_array_equal(one.counts, other.counts)
            assert one.missing == other.missing, (start, name)


def test_streamed_duckdb_counts_equal_memory_across_many_batches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = _log()
    path = tmp_path / "log.parquet"
    log.to_parquet(path)
    memory = build_windows(log, PLAN, engine="memory")
    # Batches far smaller than a day: a window's counts add up over several batches.
    monkeypatch.setattr(_feature_counts, "BATCH_ROWS", 257)
    streamed = build_windows(str(path), PLAN, engine="duckdb")
    _same_features(memory, streamed)
    first = memory[min(memory)].features
    # NaN and NULL are missing; infinities and values outside the range fall in the outer bins.
    assert first["a"].missing >= 1 and first["c"].missing >= 1
    assert first["a"].values[0] == BINS["a"].centers()[0]
    assert first["a"].values[-1] == BINS["a"].centers()[-1]


def test_a_numeric_feature_of_text_is_a_clear_error(tmp_path: Path) -> None:
    log = _log(rows=200).assign(a=lambda f: f["kind"])
    path = tmp_path / "log.parquet"
    log.to_parquet(path)
    with pytest.raises((InputError, EngineError), match="number"):
        build_windows(str(path), PLAN, engine="duckdb")


@pytest.mark.postgresql
def test_postgresql_counts_every_feature_from_one_copy_equal_to_memory(
    postgresql_url: str, postgresql_table: Callable[[pd.DataFrame], str]
) -> None:
    log = _log()
    memory = build_windows(log, PLAN, engine="memory")
    in_database = build_windows(postgresql_table(log), PLAN, engine=postgresql_url)
    _same_features(memory, in_database)


@pytest.mark.postgresql
def test_postgresql_counts_the_windows_of_every_part_even_before_1970(
    postgresql_url: str, postgresql_table: Callable[[pd.DataFrame], str]
) -> None:
    # The connections share the windows by their index modulo the parts: days before 1970
    # have negative indexes, odd and even, and each must still be counted exactly once.
    log = _log(rows=2_000, start=datetime(1969, 12, 29, tzinfo=UTC))
    memory = build_windows(log, PLAN, engine="memory")
    in_database = build_windows(postgresql_table(log), PLAN, engine=postgresql_url)
    assert min(memory) < datetime(1969, 12, 31, tzinfo=UTC) and len(memory) == 5
    _same_features(memory, in_database)


@pytest.mark.postgresql
def test_a_numeric_feature_of_text_is_a_clear_error_in_postgresql(
    postgresql_url: str, postgresql_table: Callable[[pd.DataFrame], str]
) -> None:
    log = _log(rows=200).assign(a=lambda f: f["kind"])
    with pytest.raises(InputError, match="number"):
        build_windows(postgresql_table(log), PLAN, engine=postgresql_url)
