"""Intervals beside corrected p-values agree with them on significance.

Holm's procedure finds significant exactly the tests with a raw p-value below alpha / (m - k),
Benjamini-Hochberg's those below alpha k / m (k of m significant): the gap intervals shown next
to corrected p-values are at one minus that level, so an interval that excludes zero goes with a
significant gap. Newcombe's interval is not the exact inverse of the chi-square or Fisher test,
so a handful of boundary cases may still disagree: those rows say so.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from ethica.fairness import audit
from ethica.fairness._significance import Correction


def _decisions(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1000, 5000))
    groups = int(rng.integers(3, 10))
    g = rng.integers(0, groups, n)
    effect = rng.normal(0.0, 0.08, groups)
    label = (rng.random(n) < 0.4).astype(np.int64)
    chance = np.clip(np.where(label == 1, 0.6, 0.25) + effect[g], 0.01, 0.99)
    return pd.DataFrame(
        {
            "g": [f"g{i}" for i in g],
            "h": rng.choice(["x", "y", "z"], n),
            "label": label,
            "prediction": (rng.random(n) < chance).astype(np.int64),
        }
    )


@pytest.mark.parametrize("correction", ["holm", "bh", "none"])
def test_gap_intervals_agree_with_corrected_tests(correction: Correction) -> None:
    tested = disagreeing = 0
    for seed in range(8):
        result = audit(
            _decisions(seed),
            sensitive_features=["g", "h"],
            label="label",
            prediction="prediction",
            correction=correction,
        )
        rows = result.comparisons
        rows = rows[rows["asserted"] & rows["p_adjusted"].notna()]
        level = rows["corrected_confidence"].iloc[0]
        # The level is the raw p-value threshold of the corrected procedure, exactly.
        assert ((rows["p_value"] < 1.0 - level) == rows["significant"]).all()
        m, k = len(rows), int(rows["significant"].sum())
        expected = {
            "holm": 0.05 / (m - k) if k < m else 0.05,
            "bh": 0.05 * max(k, 1) / m,
            "none": 0.05,
        }[correction]
        assert 1.0 - level == pytest.approx(expected, rel=1e-12)
        excludes = (rows["corrected_difference_low"] > 0) | (rows["corrected_difference_high"] < 0)
        agrees = rows["interval_agrees"]
        assert (excludes[agrees] == rows["significant"][agrees]).all()
        assert (excludes[~agrees] != rows["significant"][~agrees]).all()
        tested += len(rows)
        disagreeing += int((~agrees).sum())
    assert disagreeing <= 0.005 * tested, (disagreeing, tested)


def test_a_gap_not_significant_after_correction_has_an_interval_with_zero() -> None:
    # The case: "p = 1.000" beside an interval that excludes zero. A small group whose
    # uncorrected interval excludes zero but whose gap is not significant after Holm.
    rng = np.random.default_rng(4)
    groups = [f"g{i:02d}" for i in range(40)]
    g = rng.choice(groups, 8000)
    chance = np.where(g == "g00", 0.22, 0.3)
    decisions = pd.DataFrame({"g": g, "prediction": (rng.random(g.size) < chance).astype(int)})
    result = audit(decisions, sensitive_features="g", prediction="prediction")
    rows = result.comparisons.set_index("group")
    unsure = rows[
        ~rows["significant"] & ((rows["difference_high"] < 0) | (rows["difference_low"] > 0))
    ]
    assert len(unsure) >= 1  # the uncorrected interval would have said "not zero"
    assert (unsure["corrected_difference_low"] <= 0).all()
    assert (unsure["corrected_difference_high"] >= 0).all()


def test_the_corrected_level_is_labelled_in_json_report_and_findings() -> None:
    result = audit(
        _decisions(1), sensitive_features=["g", "h"], label="label", prediction="prediction"
    )
    level = float(result.comparisons["corrected_confidence"].iloc[0])
    words = f"{level * 100:.4g}%"
    record = json.loads(result.to_json())["groupings"]["g"]["comparisons"]["selection_rate"]
    assert record["corrected_confidence"] == pytest.approx(level)
    assert {"corrected_difference_low", "corrected_ratio_high", "interval_agrees"} <= set(record)
    html = result.to_html()
    assert f"ratio with Katz interval at {words}, the level that matches the corrected" in html
    stated = [f for f in result.findings if f.severity != "not assessed"]
    assert stated
    for finding in stated:
        assert f"{words} interval of the gap" in finding.text
        assert "corrected alike" in finding.text
