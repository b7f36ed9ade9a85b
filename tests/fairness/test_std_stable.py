"""``std_prediction`` equals ``numpy.std`` on amounts far from zero, on every engine and merged.

Amounts around 1,000,000 with a spread of 1: ``sqrt(E[x^2] - E[x]^2)`` gave 1.000305 where numpy
gives 0.999653 (a relative error of 6.5e-4). Each cell now carries its squared deviations from
its own mean (two passes) and cells merge by Chan et al.'s update.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

from ethica.engines import DuckDBEngine, MemoryEngine
from ethica.fairness import audit, count_table
from ethica.fairness._moments import merge_moments, merge_two

FEATURES = ["sex", "age"]


def amounts(rows: int = 20_000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {"sex": rng.choice(["F", "M"], rows), "age": rng.choice(["<30", "30-60", "60+"], rows)}
    )
    frame["limit"] = 1e6 + rng.normal(0.0, 1.0, rows) + np.where(frame["sex"] == "F", 0.3, 0.0)
    return frame


def assert_std_equals_numpy(result: Any, frame: pd.DataFrame) -> None:
    """Every group's and the overall ``std_prediction`` equal numpy.std to 1e-12 relative."""
    for metrics in result.metrics.values():
        features = list(metrics.grouping)
        expected = frame.groupby(features)["limit"].agg(lambda x: np.std(x.to_numpy()))
        np.testing.assert_allclose(
            metrics.values["std_prediction"], expected.to_numpy(), rtol=1e-12, atol=0
        )
    overall = result.overall.values["std_prediction"][0]
    assert overall == pytest.approx(np.std(frame["limit"].to_numpy()), rel=1e-12, abs=0)


def test_the_naive_formula_would_fail_here() -> None:
    # The check below has teeth: the sums-of-squares formula misses numpy by far more than 1e-12.
    x = amounts()["limit"].to_numpy()
    naive = np.sqrt(np.mean(x * x) - np.mean(x) ** 2)
    assert abs(naive - np.std(x)) / np.std(x) > 1e-8


@pytest.mark.parametrize("engine", ["memory", "duckdb"])
def test_std_prediction_equals_numpy_in_memory_and_duckdb(engine: str) -> None:
    frame = amounts()
    result = audit(
        frame, sensitive_features=FEATURES, prediction="limit", kind="regression", engine=engine
    )
    assert_std_equals_numpy(result, frame)


def test_std_prediction_equals_numpy_on_postgresql(
    postgresql_url: str, postgresql_table: Callable[[pd.DataFrame], str]
) -> None:
    frame = amounts()
    table = postgresql_table(frame)
    result = audit(
        table,
        sensitive_features=FEATURES,
        prediction="limit",
        kind="regression",
        engine=postgresql_url,
    )
    assert_std_equals_numpy(result, frame)


def test_count_tables_of_shards_and_engines_merge_without_loss() -> None:
    frame = amounts(seed=1)
    first, second = frame.iloc[:7000], frame.iloc[7000:]
    whole = count_table(frame, sensitive_features=FEATURES, prediction="limit", kind="regression")
    assert whole.bins is not None
    shards = [
        count_table(
            part,
            sensitive_features=FEATURES,
            prediction="limit",
            kind="regression",
            score_bins=whole.bins,
            engine=engine,
        )
        for part, engine in ((first, MemoryEngine()), (second, DuckDBEngine()))
    ]
    merged = shards[0].merge(shards[1])
    result = audit(merged, sensitive_features=FEATURES)
    assert_std_equals_numpy(result, frame)


def test_chan_pairwise_update_equals_the_merge_of_many() -> None:
    # Amounts as the count table holds them: shifted to the bins' start, so the means keep
    # their digits (an unshifted mean of 1e6 is only known to 1e-10).
    rng = np.random.default_rng(2)
    parts = [3.0 + rng.normal(0.0, 1.0, size) for size in (5, 17, 1, 40)]
    moments = [(float(p.size), float(p.mean()), float(((p - p.mean()) ** 2).sum())) for p in parts]
    pairwise = moments[0]
    for m in moments[1:]:
        pairwise = merge_two(pairwise, m)
    counts, means, m2 = (np.array(column) for column in zip(*moments, strict=True))
    n, mean, total = merge_moments(np.zeros(4, dtype=np.int64), counts, means, m2, 1)
    everything = np.concatenate(parts)
    assert pairwise[0] == n[0] == everything.size
    assert pairwise[1] == pytest.approx(everything.mean(), rel=1e-15)
    assert mean[0] == pytest.approx(everything.mean(), rel=1e-15)
    expected = ((everything - everything.mean()) ** 2).sum()
    assert pairwise[2] == pytest.approx(expected, rel=1e-12)
    assert total[0] == pytest.approx(expected, rel=1e-12)
