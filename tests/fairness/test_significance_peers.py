"""The audit's tests and corrections against scipy and textbook definitions of Holm and BH.

Every 2 x 2 comparison of the audit is rebuilt from the raw rows (the group against the rest of
the population, or against the reference group) and tested with scipy; the corrections are
checked against plain loops written from their definitions (statsmodels, when installed, too).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from ethica.fairness import adjust, audit

TOLERANCE = 1e-12


def _decisions(seed: int = 0) -> pd.DataFrame:
    # Group sizes from tiny (Fisher's exact test) to large (chi-square), with real gaps.
    rng = np.random.default_rng(seed)
    sizes = {"A": 9, "B": 25, "C": 60, "D": 400, "E": 900}
    rates = {"A": 0.2, "B": 0.3, "C": 0.5, "D": 0.35, "E": 0.4}
    group = np.repeat(list(sizes), list(sizes.values()))
    label = (rng.random(group.size) < 0.45).astype(np.int64)
    chance = np.array([rates[g] for g in group]) + 0.2 * label
    decision = (rng.random(group.size) < chance).astype(np.int64)
    return pd.DataFrame({"group": group, "y": label, "y_pred": decision})


def _scipy_p_value(x1: int, n1: int, x2: int, n2: int) -> tuple[float, str]:
    """Pearson's chi-square without continuity correction, or Fisher's test when an expected
    count is below 5 (the rule the audit documents); 1 when one outcome never occurs."""
    table = np.array([[x1, n1 - x1], [x2, n2 - x2]])
    if table[:, 0].sum() == 0 or table[:, 1].sum() == 0:
        return 1.0, "none"
    expected = stats.contingency.expected_freq(table)
    if expected.min() < 5:
        return float(stats.fisher_exact(table).pvalue), "fisher"
    return float(stats.chi2_contingency(table, correction=False).pvalue), "chi-square"


# Rows a metric counts in, from the raw data: (rows in the denominator, rows in the numerator).
MASKS = {
    "selection_rate": (lambda f: f["y"] >= 0, lambda f: f["y_pred"] == 1),
    "true_positive_rate": (lambda f: f["y"] == 1, lambda f: f["y_pred"] == 1),
    "false_positive_rate": (lambda f: f["y"] == 0, lambda f: f["y_pred"] == 1),
    "precision": (lambda f: f["y_pred"] == 1, lambda f: f["y"] == 1),
    "accuracy": (lambda f: f["y"] >= 0, lambda f: f["y"] == f["y_pred"]),
}


def _counts(frame: pd.DataFrame, metric: str) -> tuple[int, int]:
    denominator, numerator = MASKS[metric]
    rows = frame[denominator(frame)]
    return int(numerator(rows).sum()), len(rows)


@pytest.mark.parametrize("reference", [None, "E"])
def test_two_by_two_p_values_equal_scipys(reference: str | None) -> None:
    frame = _decisions()
    result = audit(
        frame,
        sensitive_features=["group"],
        label="y",
        prediction="y_pred",
        reference=None if reference is None else {"group": reference},
        min_group_size=0,
    )
    rows = result.comparisons.set_index(["metric", "group"])
    tests_seen = set()
    for metric in MASKS:
        for group in "ABCDE":
            if group == reference:
                continue
            mine = frame[frame["group"] == group]
            other = (
                frame[frame["group"] != group]
                if reference is None
                else frame[frame["group"] == reference]
            )
            x1, n1 = _counts(mine, metric)
            x2, n2 = _counts(other, metric)
            expected, test = _scipy_p_value(x1, n1, x2, n2)
            row = rows.loc[(metric, group)]
            assert (row["numerator"], row["denominator"]) == (x1, n1)
            assert row["test"] == test, (metric, group)
            assert row["p_value"] == pytest.approx(expected, abs=TOLERANCE, rel=1e-9), (
                metric,
                group,
            )
            tests_seen.add(test)
    assert tests_seen == {"fisher", "chi-square"}


def test_p_value_across_groups_equals_scipys_test_of_independence() -> None:
    frame = _decisions(1)
    result = audit(
        frame, sensitive_features=["group"], label="y", prediction="y_pred", min_group_size=0
    )
    summary = result.summary.set_index("metric")
    for metric in MASKS:
        counts = [_counts(frame[frame["group"] == g], metric) for g in "ABCDE"]
        table = np.array([[x, n - x] for x, n in counts])
        expected = stats.chi2_contingency(table, correction=False).pvalue
        assert summary.loc[metric, "p_value_across_groups"] == pytest.approx(expected, rel=1e-9)


def holm_by_definition(p: list[float]) -> list[float]:
    """Holm (1979): the i-th smallest p becomes max over j <= i of min(1, (m - j + 1) p_(j))."""
    m = len(p)
    order = sorted(range(m), key=lambda i: p[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, index in enumerate(order, start=1):
        running = max(running, min(1.0, (m - rank + 1) * p[index]))
        adjusted[index] = running
    return adjusted


def bh_by_definition(p: list[float]) -> list[float]:
    """BH (1995): the i-th smallest becomes min over j >= i of min(1, m p_(j) / j)."""
    m = len(p)
    order = sorted(range(m), key=lambda i: p[i])
    adjusted = [0.0] * m
    for rank, index in enumerate(order, start=1):
        adjusted[index] = min(min(1.0, m * p[order[j - 1]] / j) for j in range(rank, m + 1))
    return adjusted


def _p_value_sets() -> list[list[float]]:
    rng = np.random.default_rng(8)
    mixed = np.concatenate([rng.uniform(0, 0.01, 5), rng.uniform(0, 1, 30)])
    ties = [0.01, 0.02, 0.02, 0.02, 0.04, 0.5, 0.5, 1.0]
    return [rng.permutation(mixed).tolist(), ties, [0.03], [0.0, 1.0, 0.2]]


@pytest.mark.parametrize("p", _p_value_sets())
def test_holm_and_bh_equal_their_definitions(p: list[float]) -> None:
    np.testing.assert_allclose(adjust(p, "holm"), holm_by_definition(p), rtol=0, atol=TOLERANCE)
    np.testing.assert_allclose(adjust(p, "bh"), bh_by_definition(p), rtol=0, atol=TOLERANCE)
    np.testing.assert_array_equal(adjust(p, "none"), p)


def test_missing_p_values_are_left_out_of_the_family() -> None:
    p = [0.01, np.nan, 0.04, 0.03, np.nan]
    present = [0.01, 0.04, 0.03]
    for method, definition in (("holm", holm_by_definition), ("bh", bh_by_definition)):
        out = adjust(p, method)
        assert np.isnan(out[[1, 4]]).all()
        np.testing.assert_allclose(out[[0, 2, 3]], definition(present), atol=TOLERANCE)


@pytest.mark.parametrize("method", ["holm", "bh"])
def test_holm_and_bh_equal_statsmodels(method: str) -> None:
    multitest = pytest.importorskip(
        "statsmodels.stats.multitest", reason="statsmodels not installed"
    )
    for p in _p_value_sets():
        expected = multitest.multipletests(p, method={"holm": "holm", "bh": "fdr_bh"}[method])[1]
        np.testing.assert_allclose(adjust(p, method), expected, atol=TOLERANCE)


@pytest.mark.parametrize("correction", ["holm", "bh"])
def test_audit_corrects_the_asserted_comparisons_together(correction: str) -> None:
    frame = _decisions(2)
    result = audit(
        frame,
        sensitive_features=["group"],
        label="y",
        prediction="y_pred",
        min_group_size=30,
        correction=correction,  # type: ignore[arg-type]
    )
    rows = result.comparisons
    family = rows[rows["asserted"] & rows["p_value"].notna()]
    definition = holm_by_definition if correction == "holm" else bh_by_definition
    expected = definition(family["p_value"].tolist())
    np.testing.assert_allclose(family["p_adjusted"], expected, atol=TOLERANCE)
    # Groups below min_group_size (A, B) are reported but not part of the family.
    assert rows.loc[rows["group"].isin(["A", "B"]), "p_adjusted"].isna().all()
    assert (rows["significant"] == (rows["p_adjusted"] < 0.05)).all()
