"""The monitoring page's weekly reading of stored days: weeks merge days, accuracy is estimated
from scores beside the realised value, and the drift grid finds a planted shift of the score and
of one group's decisions in the weeks it happens."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from ethica.fairness import ScoreBins
from ethica.monitoring._weekly import by_week, drift_grid, gap_trends, performance_by_week
from ethica.monitoring._windows import WindowCounts, WindowPlan, build_windows

START = datetime(2026, 8, 3, tzinfo=UTC)
DAYS = 63  # nine weeks
SHIFT_DAY = 42  # the first day of week 7
PLAN = WindowPlan(
    time="at",
    sensitive_features=("sex",),
    prediction="approved",
    label="repaid",
    score="score",
    score_bins=ScoreBins("equal_width", 0.0, 1.0, 20),
)


def _log(per_day: int = 300, seed: int = 3) -> pd.DataFrame:
    """Calibrated scores; from week 7 women's scores fall (a score shift and a gap)."""
    rng = np.random.default_rng(seed)
    n = DAYS * per_day
    day = np.repeat(np.arange(DAYS), per_day)
    sex = rng.choice(["f", "m"], n)
    score = rng.beta(4, 3, n)
    shifted = (day >= SHIFT_DAY) & (sex == "f")
    score = np.where(shifted, score * 0.6, score)
    repaid = (rng.uniform(size=n) < score).astype(float)
    repaid[day >= DAYS - 14] = np.nan  # the last two weeks' outcomes are not known yet
    return pd.DataFrame(
        {
            "at": pd.to_datetime(START) + pd.to_timedelta(day * 86_400 + 3600, unit="s"),
            "sex": sex,
            "score": score,
            "approved": (score >= 0.5).astype(int),
            "repaid": repaid,
        }
    )


@pytest.fixture(scope="module")
def weeks() -> dict[datetime, WindowCounts]:
    days = build_windows(_log(), PLAN, engine="memory")
    # The service keeps the scored decisions apart ("scores"); here every decision is scored.
    return by_week({start: replace(w, scores=w.decisions) for start, w in days.items()})


def test_days_merge_into_weeks_from_the_first_day(weeks: dict[datetime, WindowCounts]) -> None:
    assert sorted(weeks) == [START + timedelta(days=7 * i) for i in range(9)]
    assert {w.rows for w in weeks.values()} == {7 * 300}


def test_accuracy_is_estimated_every_week_and_realised_where_outcomes_are_known(
    weeks: dict[datetime, WindowCounts],
) -> None:
    points = performance_by_week(weeks)
    assert len(points) == 9
    assert [p.realised is None for p in points] == [False] * 7 + [True] * 2
    assert [p.known for p in points] == [2100] * 7 + [0, 0]
    # Calibrated scores: the realised accuracy lies within (or very near) the estimate's band.
    for point in points[:7]:
        assert point.realised is not None
        assert point.estimated_low - 0.02 <= point.realised <= point.estimated_high + 0.02
        assert point.estimated_low < point.estimated < point.estimated_high


def test_the_drift_grid_finds_the_score_shift_and_the_decisions_from_week_seven(
    weeks: dict[datetime, WindowCounts],
) -> None:
    grid = drift_grid(weeks, sensitive_features=["sex"])
    assert grid is not None
    assert list(grid.rows) == ["score", "decision", "sex"]
    assert grid.weeks == sorted(weeks)[4:]
    score = [r is not None and r.drifted for r in grid.rows["score"]]
    assert score == [False, False, True, True, True]
    assert all(r is not None and r.test == "wasserstein" for r in grid.rows["score"])
    # The mix of women and men does not change: the group row stays stable.
    assert not any(r is not None and r.drifted for r in grid.rows["sex"])
    assert drift_grid(dict(sorted(weeks.items())[:4]), sensitive_features=["sex"]) is None


def test_women_s_weekly_gap_opens_in_week_seven_with_its_interval(
    weeks: dict[datetime, WindowCounts],
) -> None:
    [women] = [t for t in gap_trends(weeks, sensitive_features=["sex"]) if t.group == "f"]
    gaps = [p["gap"] for p in women.points]
    assert max(abs(g) for g in gaps[:6]) < 0.05 < min(abs(g) for g in gaps[6:])
    assert all(p["low"] <= p["gap"] <= p["high"] for p in women.points)
    assert women.changed_at is not None and women.changed_at >= START + timedelta(days=35)
