"""Drift statistics from counts equal scipy's on the rows to 1e-9, random and adversarial data."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from scipy.spatial import distance
from statsmodels.stats.proportion import proportions_ztest  # type: ignore[import-untyped]

from ethica.errors import InputError
from ethica.monitoring import TESTS, Distribution, default_test, drift
from ethica.monitoring._drift import shares_in_bins
from ethica.monitoring._statistics import jensen_shannon, psi

TOLERANCE = 1e-9


def _close(ours: float, theirs: float) -> None:
    if math.isinf(theirs) or math.isnan(theirs):
        assert ours == theirs or (math.isnan(ours) and math.isnan(theirs))
        return
    assert abs(ours - theirs) <= TOLERANCE * max(1.0, abs(theirs)), (ours, theirs)


def _numeric_pairs() -> list[tuple[str, Any, Any]]:
    rng = np.random.default_rng(17)
    with_nan = rng.normal(size=400)
    with_nan[rng.choice(400, 40, replace=False)] = np.nan
    return [
        ("normal, small (exact KS)", rng.normal(size=300), rng.normal(0.3, 1.2, size=250)),
        ("normal, large (Smirnov)", rng.normal(size=12_000), rng.normal(0.02, 1, size=15_000)),
        ("heavy ties", rng.integers(0, 4, 900).astype(float), rng.integers(0, 5, 700) * 1.0),
        (
            "rounded lognormal",
            np.round(rng.lognormal(size=3000), 1),
            np.round(rng.lognormal(0.1, size=2000), 1),
        ),
        ("missing values", with_nan, rng.normal(0.5, size=333)),
        ("infinities", np.array([1.0, 2.0, np.inf, 3.0, -np.inf] * 9), rng.normal(2, size=40)),
        ("tiny shares", rng.normal(size=30_000), np.r_[rng.normal(size=20), 40.0]),
        ("constant reference", np.full(50, 2.5), rng.normal(2.5, 0.01, size=60)),
        ("identical", np.arange(100.0), np.arange(100.0)),
        ("disjoint supports", rng.uniform(0, 1, 500), rng.uniform(5, 6, 400)),
        ("one row each", np.array([1.0]), np.array([2.0])),
        ("sizes sharing a factor", rng.normal(size=1200), rng.normal(size=1800)),
    ]


NUMERIC = _numeric_pairs()


def _present(values: Any) -> Any:
    array = np.asarray(values, dtype=float)
    return array[np.isfinite(array)]


@pytest.mark.parametrize(("case", "reference", "current"), NUMERIC, ids=[c[0] for c in NUMERIC])
def test_ks_and_wasserstein_equal_scipy(case: str, reference: Any, current: Any) -> None:
    ref, cur = Distribution.of(reference, "numeric"), Distribution.of(current, "numeric")
    ks = TESTS["ks"].compute(ref, cur)
    expected = stats.ks_2samp(_present(reference), _present(current))
    _close(ks.value, float(expected.statistic))
    assert ks.p_value is not None
    _close(ks.p_value, float(expected.pvalue))

    wasserstein = TESTS["wasserstein"].compute(ref, cur)
    scale = max(float(np.std(_present(reference))), 0.001)
    _close(
        wasserstein.value,
        stats.wasserstein_distance(_present(reference), _present(current)) / scale,
    )


@pytest.mark.parametrize(("case", "reference", "current"), NUMERIC, ids=[c[0] for c in NUMERIC])
def test_binned_statistics_equal_scipy_on_evidently_bins(
    case: str, reference: Any, current: Any
) -> None:
    ref_rows, cur_rows = _present(reference), _present(current)
    if len(np.unique(ref_rows)) > 20:
        edges = np.histogram_bin_edges(np.concatenate([ref_rows, cur_rows]), bins="sturges")
        ref_hist, cur_hist = np.histogram(ref_rows, edges)[0], np.histogram(cur_rows, edges)[0]
    else:
        keys = np.union1d(ref_rows, cur_rows)
        ref_hist = np.array([(ref_rows == k).sum() for k in keys])
        cur_hist = np.array([(cur_rows == k).sum() for k in keys])
    ref, cur = Distribution.of(reference, "numeric"), Distribution.of(current, "numeric")
    ours_ref, ours_cur = shares_in_bins(ref, cur)
    assert np.array_equal(ours_ref, ref_hist) and np.array_equal(ours_cur, cur_hist)
    _close(
        TESTS["jensenshannon"].compute(ref, cur).value,
        float(distance.jensenshannon(ref_hist, cur_hist)),
    )
    _close(TESTS["psi"].compute(ref, cur).value, _psi_by_hand(ref_hist, cur_hist))


def _psi_by_hand(reference: Any, current: Any) -> float:
    """PSI written from Evidently's definition, its filling of empty bins included."""

    def filled(shares: Any) -> Any:
        smallest = min(s for s in shares if s > 0)
        fill = smallest / 10**6 if smallest <= 0.0001 else 0.0001
        return [s if s > 0 else fill for s in shares]

    ref_shares = filled(list(np.asarray(reference) / np.sum(reference)))
    cur_shares = filled(list(np.asarray(current) / np.sum(current)))
    return float(
        sum((r - c) * math.log(r / c) for r, c in zip(ref_shares, cur_shares, strict=True))
    )


def test_counts_of_windows_equal_scipy_weighted() -> None:
    """A window stores counts per value: scipy's weighted Wasserstein on the same counts."""
    rng = np.random.default_rng(3)
    values = np.sort(rng.normal(size=40))
    r, c = rng.integers(0, 50, 40), rng.integers(0, 50, 40)
    r[:5] = 0  # values only the current window holds
    c[-3:] = 0  # and values it lacks
    ref = Distribution.from_counts(values, r, "numeric")
    cur = Distribution.from_counts(values, c, "numeric")
    theirs = stats.wasserstein_distance(values, values, r, c)
    scale = math.sqrt(np.cov(values, aweights=r, bias=True))
    _close(TESTS["wasserstein"].compute(ref, cur).value, theirs / scale)
    expected = stats.ks_2samp(np.repeat(values, r), np.repeat(values, c))
    _close(TESTS["ks"].compute(ref, cur).value, float(expected.statistic))


def _categorical_pairs() -> list[tuple[str, Any, Any]]:
    rng = np.random.default_rng(29)
    letters = np.array(list("abcdefg"))
    return [
        (
            "random",
            rng.choice(letters, 800),
            rng.choice(letters, 500, p=[0.3, 0.1, 0.1, 0.1, 0.1, 0.1, 0.2]),
        ),
        ("unseen category", rng.choice(letters[:4], 600), rng.choice(letters[:5], 400)),
        ("category gone", rng.choice(letters[:5], 600), rng.choice(letters[:3], 400)),
        (
            "missing values",
            pd.Series(rng.choice([*letters[:4], None], 700)),
            rng.choice(letters[:4], 300),
        ),
        ("same shares", np.repeat(letters[:3], 100), np.repeat(letters[:3], 30)),
    ]


CATEGORICAL = _categorical_pairs()


@pytest.mark.parametrize(
    ("case", "reference", "current"), CATEGORICAL, ids=[c[0] for c in CATEGORICAL]
)
def test_categorical_statistics_equal_scipy(case: str, reference: Any, current: Any) -> None:
    ref_rows, cur_rows = pd.Series(reference).dropna(), pd.Series(current).dropna()
    keys = sorted(set(ref_rows) | set(cur_rows))
    ref_counts = np.array([(ref_rows == k).sum() for k in keys])
    cur_counts = np.array([(cur_rows == k).sum() for k in keys])
    ref, cur = Distribution.of(reference), Distribution.of(current)
    assert ref.feature_type == "categorical"
    _close(
        TESTS["jensenshannon"].compute(ref, cur).value,
        float(distance.jensenshannon(ref_counts, cur_counts)),
    )

    chi = TESTS["chisquare"].compute(ref, cur)
    assert chi.p_value is not None
    expected_counts = ref_counts * len(cur_rows) / len(ref_rows)
    if (expected_counts == 0).any():
        # scipy divides by zero here; the statistic is infinite and the p-value 0: drift.
        assert chi.value == math.inf and chi.p_value == 0.0
    else:
        theirs = stats.chisquare(cur_counts, expected_counts)
        _close(chi.value, float(theirs.statistic))
        _close(chi.p_value, float(theirs.pvalue))


@given(
    st.lists(st.integers(-3, 3).map(float), min_size=1, max_size=60),
    st.lists(st.integers(-3, 5).map(float), min_size=1, max_size=60),
)
@settings(max_examples=150, deadline=None)
def test_ties_and_tiny_samples_equal_scipy(reference: list[float], current: list[float]) -> None:
    ref, cur = Distribution.of(reference, "numeric"), Distribution.of(current, "numeric")
    ks = TESTS["ks"].compute(ref, cur)
    with warnings.catch_warnings():
        # scipy says so when its exact count fails and it falls back to Smirnov's formula.
        warnings.simplefilter("ignore", RuntimeWarning)
        expected = stats.ks_2samp(reference, current)
    _close(ks.value, float(expected.statistic))
    assert ks.p_value is not None
    _close(ks.p_value, float(expected.pvalue))
    scale = max(float(np.std(reference)), 0.001)
    _close(
        TESTS["wasserstein"].compute(ref, cur).value,
        stats.wasserstein_distance(reference, current) / scale,
    )


@given(
    st.lists(st.integers(0, 20), min_size=2, max_size=12),
    st.data(),
)
@settings(max_examples=150, deadline=None)
def test_empty_bins_equal_scipy(reference: list[int], data: st.DataObject) -> None:
    current = data.draw(
        st.lists(st.integers(0, 20), min_size=len(reference), max_size=len(reference))
    )
    if sum(reference) == 0 or sum(current) == 0:
        assert math.isnan(jensen_shannon(reference, current).value)
        assert math.isnan(psi(reference, current).value)
        return
    _close(
        jensen_shannon(reference, current).value, float(distance.jensenshannon(reference, current))
    )
    _close(psi(reference, current).value, _psi_by_hand(np.array(reference), np.array(current)))


def test_binary_category_uses_the_z_test_of_statsmodels() -> None:
    rng = np.random.default_rng(5)
    reference, current = (
        rng.choice(["no", "yes"], 600, p=[0.7, 0.3]),
        rng.choice(["no", "yes"], 400),
    )
    result = drift("flag", Distribution.of(reference), Distribution.of(current))
    assert result.test == "z"
    counts = [int((reference == "no").sum()), int((current == "no").sum())]
    _, p_value = proportions_ztest(counts, [600, 400])
    _close(result.score, float(p_value))
    assert result.drifted


def test_default_rule_is_evidentlys() -> None:
    rng = np.random.default_rng(1)
    small, large = rng.normal(size=1000), rng.normal(size=1001)
    few_values = rng.integers(0, 5, 2000).astype(float)
    assert default_test(Distribution.of(small), Distribution.of(small)).name == "ks"
    assert default_test(Distribution.of(large), Distribution.of(small)).name == "wasserstein"
    assert (
        default_test(Distribution.of(few_values), Distribution.of(few_values)).name
        == "jensenshannon"
    )
    three = Distribution.of(rng.choice(list("abc"), 50))
    assert default_test(three, three).name == "chisquare"


def test_empty_current_window_is_not_drift_and_not_a_number() -> None:
    reference = Distribution.of(np.arange(10.0))
    empty = Distribution.of(np.array([np.nan, np.nan]), "numeric")
    assert empty.total == 0 and empty.missing == 2
    result = drift("x", reference, empty)
    assert math.isnan(result.score) and not result.drifted


def test_wrong_test_for_the_type_names_the_right_ones() -> None:
    text = Distribution.of(list("abcdefgh") * 3)
    with pytest.raises(InputError, match="jensenshannon"):
        drift("colour", text, text, test="ks")
    with pytest.raises(InputError, match="unknown drift test"):
        drift("colour", text, text, test="anderson")


def test_threshold_override_changes_the_verdict_only() -> None:
    rng = np.random.default_rng(8)
    reference, current = (
        Distribution.of(rng.normal(size=5000)),
        Distribution.of(rng.normal(0.15, size=5000)),
    )
    default = drift("x", reference, current)
    strict = drift("x", reference, current, threshold=0.5)
    assert default.score == strict.score and default.drifted and not strict.drifted


@given(st.lists(st.floats(allow_nan=True, allow_infinity=True, width=16), max_size=80))
@settings(max_examples=200, deadline=None)
def test_a_column_is_counted_as_numpy_counts_its_finite_values(values: list[float]) -> None:
    counted = Distribution.of(np.array(values, dtype=np.float64), "numeric")
    finite = np.array([v for v in values if math.isfinite(v)], dtype=np.float64)
    expected_values, expected_counts = np.unique(finite, return_counts=True)
    assert counted.values.tolist() == expected_values.tolist()
    assert counted.counts.tolist() == expected_counts.tolist()
    assert counted.missing == len(values) - len(finite)  # NaN and infinities


def test_labels_are_counted_as_text_whatever_their_type() -> None:
    column = pd.Series(["b", "a", None, "b", 3, "3"], dtype=object)
    counted = Distribution.of(column, "categorical")
    assert counted.values.tolist() == ["3", "a", "b"]
    assert counted.counts.tolist() == [2, 1, 2]
    assert counted.missing == 1
    unused = pd.Series(pd.Categorical(["x", "x"], categories=["x", "never"]))
    assert Distribution.of(unused).values.tolist() == ["x"]  # no category without rows
