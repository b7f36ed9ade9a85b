"""Fairness per window and rolling span equals the audit of its rows; CUSUM finds a planted gap."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from ethica.fairness import Settings, assess, audit
from ethica.monitoring._over_time import (
    cusum,
    fairness_over_time,
    first_change,
    gap_series,
)
from ethica.monitoring._windows import FeatureBins, WindowPlan, build_windows, merge_windows

START = datetime(2026, 1, 5, tzinfo=UTC)
PLAN = WindowPlan(time="at", sensitive_features=("sex", "age"), prediction="approved")
GAP_OPENS = 40


def _log(days: int = 60, per_day: int = 400, seed: int = 2) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = days * per_day
    day = np.repeat(np.arange(days), per_day)
    sex = rng.choice(["f", "m"], n)
    rate = np.where((sex == "f") & (day >= GAP_OPENS), 0.40, 0.55)
    return pd.DataFrame(
        {
            "at": pd.to_datetime(START)
            + pd.to_timedelta(day * 86_400 + rng.integers(0, 86_400, n), unit="s"),
            "sex": sex,
            "age": rng.choice(["young", "old"], n),
            "approved": (rng.uniform(size=n) < rate).astype(int),
        }
    )


def test_each_point_is_the_audit_of_its_span() -> None:
    log = _log(days=10)
    windows = build_windows(log, PLAN, engine="memory")
    weekly = fairness_over_time(windows, sensitive_features=["sex"], span_days=7)
    end = START + timedelta(days=9)
    point = weekly[(weekly["start"] == end - timedelta(days=6)) & (weekly["group"] == "f")]
    rows = log[
        (log["at"] >= pd.Timestamp(end - timedelta(days=6)))
        & (log["at"] < pd.Timestamp(end + timedelta(days=1)))
    ]
    direct = audit(rows, sensitive_features=["sex"], prediction="approved").comparisons
    expected = direct[direct["group"] == "f"]
    assert int(point["rows"].iloc[0]) == len(rows)
    for column in ("value", "difference", "difference_low", "difference_high", "p_value"):
        np.testing.assert_allclose(
            point[column].to_numpy(float), expected[column].to_numpy(float), rtol=1e-12
        )


SCORED = WindowPlan(
    time="at",
    sensitive_features=("sex", "age"),
    prediction="approved",
    label="repaid",
    score="score",
    features={"income": FeatureBins("numeric", 0.0, 1.0, 10)},
)
EXACT = ("count", "value", "difference", "difference_low", "difference_high", "p_value")


@pytest.mark.parametrize("span_days", [1, 3])
@pytest.mark.parametrize("part", ["decisions", "outcomes"])
def test_all_spans_at_once_equal_one_audit_per_span(span_days: int, part: str) -> None:
    log = _log(days=9, per_day=300).drop(index=range(300, 600))  # day 1 has no decisions
    rng = np.random.default_rng(5)
    log["score"] = np.round(rng.uniform(size=len(log)), 2)
    log["repaid"] = np.where(rng.uniform(size=len(log)) < 0.3, None, rng.integers(0, 2, len(log)))
    log["income"] = rng.uniform(size=len(log))
    windows = build_windows(log, SCORED, engine="memory")
    over_time = fairness_over_time(
        windows,
        sensitive_features=["sex", "age"],
        span_days=span_days,
        part=part,  # type: ignore[arg-type]
    )
    starts = sorted(windows)
    assert sorted(set(over_time["end"])) == [s + timedelta(days=1) for s in starts]
    for end in starts:
        inside = [windows[s] for s in starts if end - timedelta(days=span_days) < s <= end]
        table = getattr(merge_windows(inside), part)
        expected = assess(table, Settings()).comparisons
        got = over_time[over_time["end"] == end + timedelta(days=1)]
        assert int(got["rows"].iloc[0]) == table.rows
        assert got["start"].iloc[0] == end - timedelta(days=span_days - 1)
        for column in ("grouping", "group", "metric", "material", "significant", "undefined"):
            assert got[column].tolist() == expected[column].tolist(), column
        for column in (*EXACT, "p_adjusted"):
            np.testing.assert_allclose(
                got[column].to_numpy(float), expected[column].to_numpy(float), rtol=1e-12
            )
    last = fairness_over_time(
        windows, sensitive_features=["sex", "age"], span_days=span_days, last_only=True, part=part
    )
    tail = over_time[over_time["end"] == starts[-1] + timedelta(days=1)].reset_index(drop=True)
    pd.testing.assert_frame_equal(last, tail)


@pytest.mark.slow  # sixty audits, one per day
def test_the_planted_gap_is_found_in_the_week_it_opens_and_not_before() -> None:
    windows = build_windows(_log(), PLAN, engine="memory")
    daily = fairness_over_time(windows, sensitive_features=["sex"])
    series = gap_series(daily, grouping="sex", group="f", metric="selection_rate")
    found = first_change(series)
    assert found is not None
    assert START + timedelta(days=GAP_OPENS) <= found < START + timedelta(days=GAP_OPENS + 7)
    before = series[series["start"] < START + timedelta(days=GAP_OPENS)]
    assert not (before["material"] & before["significant"]).any()
    after = series[series["start"] >= START + timedelta(days=GAP_OPENS + 7)]
    assert (after["difference"] < -0.05).all()


def test_the_cusum_false_alarm_rate_is_as_documented() -> None:
    """In control, the two-sided CUSUM (k=0.5, h=5) alarms about once in 470 windows."""
    rng = np.random.default_rng(0)
    run_lengths = []
    for _ in range(300):
        series = rng.normal(size=3000)
        changes = cusum(series, np.ones_like(series), baseline=0, expected=0.0)
        run_lengths.append(changes[0].index + 1 if changes else 3000)
    average = float(np.mean(run_lengths))
    assert 400 < average < 560, average


def test_a_shift_of_one_standard_error_is_found_within_a_few_windows() -> None:
    rng = np.random.default_rng(1)
    delays = []
    for _ in range(200):
        series = np.r_[rng.normal(size=30), rng.normal(1.0, size=100)]
        changes = cusum(series, np.ones_like(series), baseline=30)
        assert changes and changes[0].direction == "up"
        delays.append(changes[0].index - 30 + 1)
    assert np.mean(delays) < 15  # Montgomery's table: about 10 for k=0.5, h=5
