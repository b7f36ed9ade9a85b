"""The bootstrap at the edges: small groups with rare outcomes, and thousands of groups.

The coverage test draws 3,000 independent groups of 30 rows at a 5% rate in one audit (the
bootstrap resamples each group on its own, sizes fixed, so every group is an independent draw
of the coverage event). With 3,000 draws the observed coverage has a binomial standard error of
0.004, so an interval at the percentile bootstrap's 77% (the rate at which such groups were
covered before) cannot land in 93-97% by chance, nor can one covering 99.7%.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from ethica.fairness import audit, count_table
from ethica.fairness._bootstrap import _quantiles, _sum_groups

GROUPS, SIZE, RATE = 3000, 30, 0.05
BIG, BIG_RATE = 90_000, 0.10


@pytest.fixture(scope="module")
def small_groups() -> pd.DataFrame:
    rng = np.random.default_rng(14)
    names = np.r_[np.repeat(np.char.zfill(np.arange(GROUPS).astype(str), 4), SIZE)]
    chance = np.r_[np.full(names.size, RATE), np.full(BIG, BIG_RATE)]
    names = np.r_[names, np.full(BIG, "big")]
    decision = (rng.random(chance.size) < chance).astype(np.int64)
    table = count_table(sensitive_features={"g": names}, prediction=decision)
    result = audit(table, sensitive_features=["g"], bootstrap=400, seed=3, min_group_size=0)
    rows = result.comparisons
    return rows[rows["group"] != "big"]


def test_small_groups_with_rare_outcomes_keep_nominal_coverage(small_groups: pd.DataFrame) -> None:
    overall = (GROUPS * SIZE * RATE + BIG * BIG_RATE) / (GROUPS * SIZE + BIG)
    gap = RATE - overall
    low, high = small_groups["boot_value_low"], small_groups["boot_value_high"]
    rate_covered = (low <= RATE) & (high >= RATE)
    low, high = small_groups["boot_difference_low"], small_groups["boot_difference_high"]
    gap_covered = (low <= gap) & (high >= gap)
    assert 0.93 <= rate_covered.mean() <= 0.97, rate_covered.mean()
    assert 0.93 <= gap_covered.mean() <= 0.97, gap_covered.mean()


def test_groups_without_a_favourable_outcome_get_an_interval_not_a_point(
    small_groups: pd.DataFrame,
) -> None:
    empty = small_groups[small_groups["numerator"] == 0]
    assert len(empty) > 0.15 * GROUPS  # about 21% of groups of 30 at 5% have none
    assert (empty["boot_value_low"] == 0.0).all()
    assert (empty["boot_value_high"] > 0.1).all()  # Wilson's upper bound for 0 of 30 is 11.4%
    assert (empty["boot_value_method"] == "wilson").all()
    assert (empty["boot_difference_method"] == "newcombe").all()
    # The analytic interval stands in exactly, so the two columns agree on these rows.
    assert np.allclose(empty["boot_difference_low"], empty["difference_low"])
    assert np.allclose(empty["boot_difference_high"], empty["difference_high"])


def test_groups_with_enough_outcomes_keep_the_percentile_interval() -> None:
    rng = np.random.default_rng(8)
    sex = np.repeat(["F", "M"], [400, 600])
    decision = (rng.random(sex.size) < np.where(sex == "F", 0.25, 0.45)).astype(np.int64)
    result = audit(None, sensitive_features={"sex": sex}, prediction=decision, bootstrap=300)
    rows = result.comparisons
    assert (rows["boot_value_method"] == "percentile").all()
    # Redrawn, not copied: the percentile interval differs from Wilson's at the third decimal.
    assert not np.allclose(rows["boot_value_low"], rows["value_low"], atol=1e-4)


def test_the_interval_used_is_named_in_json_report_and_findings() -> None:
    rng = np.random.default_rng(1)
    group = np.repeat(["a", "b", "c"], [30, 500, 500])
    chance = np.select([group == "a", group == "b"], [0.05, 0.3], 0.5)
    decision = (rng.random(group.size) < chance).astype(np.int64)
    result = audit(None, sensitive_features={"g": group}, prediction=decision, bootstrap=300)
    grouping = json.loads(result.to_json())["groupings"]["g"]
    methods = grouping["comparisons"]["selection_rate"]["boot_difference_method"]
    by_group = dict(zip(grouping["groups"], methods, strict=True))
    assert by_group["a"] == "newcombe"
    assert by_group["b"] == "percentile"
    html = result.to_html()
    assert "Newcombe, too few outcomes to resample" in html
    small = next(f for f in result.findings if f.group == "a")
    assert "bootstrap 95% interval of the gap" in small.text
    assert "Newcombe, too few outcomes to resample" in small.text
    large = next(f for f in result.findings if f.group == "b")
    assert "bootstrap 95% interval of the gap" in large.text
    assert "too few" not in large.text


def test_quantiles_equal_numpys_with_missing_values() -> None:
    rng = np.random.default_rng(2)
    values = rng.random((501, 9))
    values[rng.random(values.shape) < 0.3] = np.nan
    values[:, 4] = np.nan  # a metric undefined in every replicate
    values[:-1, 6] = np.nan  # ... or in all but one
    low, high = _quantiles(values, (0.025, 0.975))
    with pytest.warns(RuntimeWarning, match="All-NaN"):
        expected = np.nanquantile(values, [0.025, 0.975], axis=0)
    np.testing.assert_allclose(low, expected[0], rtol=0, atol=1e-15)
    np.testing.assert_allclose(high, expected[1], rtol=0, atol=1e-15)


def test_summing_finest_groups_equals_a_membership_product() -> None:
    rng = np.random.default_rng(3)
    counts = rng.integers(0, 50, (7, 40, 4)).astype(np.float64)
    codes = rng.integers(0, 6, 40)
    codes[:6] = np.arange(6)  # every group has a member
    membership = np.zeros((40, 6))
    membership[np.arange(40), codes] = 1.0
    expected = np.einsum("bfc,fg->bgc", counts, membership)
    np.testing.assert_array_equal(_sum_groups(counts, codes, 6), expected)
