"""Score bins: exact scores when few are distinct, counted only up to the limit that decides."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ethica.engines import Aggregation, Col, DuckDBEngine, MemoryEngine
from ethica.fairness import ScoreBins, count_table


def _frame(scores: np.ndarray) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    n = scores.size
    return pd.DataFrame(
        {
            "g": rng.choice(["a", "b"], n),
            "y": rng.integers(0, 2, n),
            "p": rng.integers(0, 2, n),
            "s": scores,
        }
    )


CASES = {
    # name: (scores, expected method, distinct values kept)
    "few, far apart": (np.tile([0.1, 0.5, 0.9], 100), "exact", 3),
    "few, sharing a bin": (np.tile([0.0, 1e-9, 1.0], 100), "exact", 3),
    "many": (np.linspace(0.0, 1.0, 5000), "equal_width", None),
    "one value": (np.full(300, 0.25), "exact", 1),
}


@pytest.mark.parametrize("engine", ["memory", "duckdb"])
@pytest.mark.parametrize("case", list(CASES))
def test_score_bins_match_the_distinct_values(engine: str, case: str) -> None:
    scores, method, distinct = CASES[case]
    table = count_table(
        _frame(scores), sensitive_features="g", label="y", prediction="p", score="s", engine=engine
    )
    assert table.bins is not None and table.bins.method == method
    assert "score_min" not in table.cells and "score_max" not in table.cells
    if distinct is not None:
        assert sorted(table.cells["score_bin"].unique()) == sorted(set(scores.tolist()))
        assert table.cells["score_bin"].nunique() == distinct
    fixed = count_table(
        _frame(scores),
        sensitive_features="g",
        label="y",
        prediction="p",
        score="s",
        engine=engine,
        score_bins=table.bins if method == "exact" else ScoreBins("equal_width", 0.0, 1.0, 1000),
    )
    assert fixed.cells["n"].sum() == scores.size


def test_ranges_agree_between_memory_and_duckdb() -> None:
    frame = pd.DataFrame({"k": ["a", "a", "b", "b", "b"], "v": [1.0, np.nan, -2.0, 3.5, 0.0]})
    aggregation = Aggregation(keys=(("k", Col("k")),), ranges=(("v", Col("v")),))
    memory = MemoryEngine().aggregate(frame, aggregation).sort_values("k", ignore_index=True)
    duck = DuckDBEngine().aggregate(frame, aggregation).sort_values("k", ignore_index=True)
    assert memory["v_min"].tolist() == duck["v_min"].tolist() == [1.0, -2.0]
    assert memory["v_max"].tolist() == duck["v_max"].tolist() == [1.0, 3.5]


def test_profile_without_distinct_skips_the_count() -> None:
    frame = pd.DataFrame({"v": [1.0, 2.0, 2.0, np.nan]})
    for engine in (MemoryEngine(), DuckDBEngine()):
        assert engine.profile(frame, "v", distinct=False).distinct is None
        assert engine.profile(frame, "v").distinct == 2


def test_profile_counts_distinct_values_up_to_a_limit() -> None:
    frame = pd.DataFrame({"v": [1.0, 2.0, 2.0, np.nan, 3.0, 3.0]})
    for engine in (MemoryEngine(), DuckDBEngine()):
        capped = [engine.profile(frame, "v", distinct_limit=k).distinct for k in (0, 1, 2, 3, 9)]
        assert capped == [1, 2, 3, 3, 3]
        assert engine.profile(frame, "v", distinct=False, distinct_limit=2).distinct is None


@pytest.mark.parametrize("engine", ["memory", "duckdb"])
def test_scores_one_past_the_limit_are_binned(engine: str) -> None:
    scores = np.tile(np.arange(11) / 10.0, 30)  # 11 distinct scores
    kwargs = {"sensitive_features": "g", "label": "y", "prediction": "p", "score": "s"}
    at = count_table(_frame(scores), engine=engine, score_bins=11, **kwargs)
    past = count_table(_frame(scores), engine=engine, score_bins=10, **kwargs)
    assert at.bins == ScoreBins("exact")
    assert past.bins == ScoreBins("equal_width", 0.0, 1.0, 10)
