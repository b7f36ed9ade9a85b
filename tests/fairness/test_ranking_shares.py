"""Shares of a ranking (of exposure, of the top-k) are compared with each group's own share."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from ethica.fairness import audit, newcombe, wilson
from ethica.fairness._audit import Audit

SHARES = ("share_of_exposure", "share_of_top_k[1]", "share_of_top_k[2]", "share_of_top_k[3]")


def rotated_lists(pattern: str, lists: int) -> pd.DataFrame:
    """Lists whose groups follow ``pattern`` rotated by one place per list.

    Over ``len(pattern)`` lists every group holds every position equally often per member, so
    each group's share of exposure and of every top-k equals its share of the rows.
    """
    rows = []
    for list_id in range(lists):
        shift = list_id % len(pattern)
        order = pattern[shift:] + pattern[:shift]
        rows += [
            {"group": group, "list": list_id, "position": position}
            for position, group in enumerate(order, start=1)
        ]
    return pd.DataFrame(rows)


def ranking_audit(frame: pd.DataFrame, **kwargs: object) -> Audit:
    return audit(
        frame,
        sensitive_features=["group"],
        prediction="position",
        kind="ranking",
        options={"top_k": (1, 2, 3)},
        **kwargs,  # type: ignore[arg-type]
    )


def rows_of(result: Audit) -> pd.DataFrame:
    return result.comparisons.set_index(["group", "metric"])


def test_groups_placed_alike_show_no_gap_even_when_their_sizes_differ() -> None:
    frame = rotated_lists("AAB", lists=60)  # A is two thirds of the rows, B one third
    result = ranking_audit(frame)
    rows = rows_of(result)
    for group, population in (("A", 2 / 3), ("B", 1 / 3)):
        for metric in SHARES:
            row = rows.loc[(group, metric)]
            assert row["value"] == pytest.approx(population)
            assert row["reference_value"] == pytest.approx(population)
            assert row["compared_to"] == "population share"
            assert row["difference"] == pytest.approx(0.0, abs=1e-12)
            assert row["ratio"] == pytest.approx(1.0)
            assert not row["material"]
    summary = result.summary.set_index("metric")
    for metric in SHARES:
        assert summary.loc[metric, "difference"] == pytest.approx(0.0, abs=1e-12)
        assert summary.loc[metric, "ratio"] == pytest.approx(1.0)
        assert summary.loc[metric, "difference_to_overall"] == pytest.approx(0.0, abs=1e-12)
    assert not [f for f in result.findings if f.metric in SHARES]


def pushed_down(lists: int = 60) -> pd.DataFrame:
    """Lists of four: group A always at positions 1 and 2, group B at 3 and 4."""
    return pd.DataFrame(
        [
            {"group": group, "list": list_id, "position": position}
            for list_id in range(lists)
            for position, group in enumerate("AABB", start=1)
        ]
    )


def test_an_under_exposed_group_has_the_gap_computed_by_hand() -> None:
    lists = 60
    result = ranking_audit(pushed_down(lists))
    rows = rows_of(result)
    exposure_a = 1 / math.log2(2) + 1 / math.log2(3)  # positions 1 and 2, per list
    exposure_b = 1 / math.log2(4) + 1 / math.log2(5)  # positions 3 and 4
    share_b = exposure_b / (exposure_a + exposure_b)  # 0.3633
    b = rows.loc[("B", "share_of_exposure")]
    assert b["value"] == pytest.approx(share_b)
    assert b["reference_value"] == pytest.approx(0.5)
    assert b["difference"] == pytest.approx(share_b - 0.5)
    assert b["ratio"] == pytest.approx(share_b / 0.5)
    assert b["material"]
    # Exposure per item of B over the overall one: the same ratio, by another route.
    per_item = rows.loc[("B", "exposure_per_item")]
    assert per_item["ratio"] == pytest.approx(b["ratio"])
    # Its interval: B's mean discount against A's (the rest), Welch's standard error, times
    # (1 - w) = 1/2 to the overall mean, and times n_B / total exposure for the share.
    discounts = {
        g: np.repeat(1 / np.log2(np.array(p) + 1.0), lists)
        for g, p in (("A", [1, 2]), ("B", [3, 4]))
    }
    se = math.sqrt(sum(d.var(ddof=1) / d.size for d in discounts.values()))
    gap = discounts["B"].mean() - discounts["A"].mean()
    scale = 2 * lists / (lists * (exposure_a + exposure_b))
    z = 1.959963984540054
    assert (b["difference_low"], b["difference_high"]) == pytest.approx(
        (scale * 0.5 * (gap - z * se), scale * 0.5 * (gap + z * se))
    )
    assert b["difference_low"] < b["difference"] < b["difference_high"] < 0
    assert b["p_value"] < 1e-6 and b["significant"]

    # Top 3: A holds 2 places and B 1 in each list, so B has a third of the places.
    top = rows.loc[("B", "share_of_top_k[3]")]
    assert top["value"] == pytest.approx(1 / 3)
    assert top["difference"] == pytest.approx(1 / 3 - 1 / 2)
    assert (top["numerator"], top["denominator"]) == (lists, 3 * lists)
    low, high = wilson(lists, 3 * lists)
    assert (top["value_low"], top["value_high"]) == pytest.approx((low[()], high[()]))
    # Share of the top 3 minus population share = (n_B / T) (in_top_3 of B - overall), and
    # that gap is (1 - w) times B against the rest (A): Newcombe on B's 60/120 vs A's 120/120.
    d_low, d_high = newcombe(lists, 2 * lists, 2 * lists, 2 * lists)
    scale = (2 * lists) / (3 * lists) * 0.5
    assert (top["difference_low"], top["difference_high"]) == pytest.approx(
        (scale * d_low[()], scale * d_high[()])
    )
    assert top["difference_low"] < top["difference"] < top["difference_high"] < 0
    presence = rows.loc[("B", "in_top_k[3]")]
    assert top["ratio"] == pytest.approx(presence["ratio"])
    assert top["p_value"] == pytest.approx(presence["p_value"])
    assert top["significant"]
    assert rows.loc[("B", "share_of_top_k[1]"), "value"] == 0.0

    texts = [f.text for f in result.findings if f.group == "B"]
    percent = f"{share_b * 100:.1f}%"
    words = f"against 50.0% of those ranked, {(0.5 - share_b) * 100:.1f} points lower"
    said = [t for t in texts if t.startswith(f"B (group): {percent} of exposure (95% CI ")]
    assert len(said) == 1 and words in said[0], texts
    assert any("33.3% of the top-3 places" in text for text in texts), texts


def test_shares_against_a_reference_group_use_its_rate_per_item() -> None:
    result = ranking_audit(pushed_down(), reference={"group": "A"})
    rows = rows_of(result)
    exposure_a = 1 / math.log2(2) + 1 / math.log2(3)
    exposure_b = 1 / math.log2(4) + 1 / math.log2(5)
    total = exposure_a + exposure_b
    b = rows.loc[("B", "share_of_exposure")]
    # Equal sizes: at A's exposure per item, B would hold A's share.
    assert b["compared_to"] == "A"
    assert b["reference_value"] == pytest.approx(exposure_a / total)
    assert b["ratio"] == pytest.approx(exposure_b / exposure_a)
    assert rows.loc[("A", "share_of_exposure"), "difference"] == pytest.approx(0.0)
    summary = result.summary.set_index("metric")
    # Between groups: the exposure per item of the least over the most exposed group.
    assert summary.loc["share_of_exposure", "ratio"] == pytest.approx(exposure_b / exposure_a)
    assert summary.loc["share_of_exposure", "difference"] == pytest.approx(
        2 * (exposure_a / total - 0.5)
    )
    assert summary.loc["share_of_exposure", "difference_to_reference"] == pytest.approx(
        (exposure_a - exposure_b) / total
    )
    assert any("at the rate of A" in f.text for f in result.findings)


def test_other_metrics_are_still_compared_with_the_overall_value() -> None:
    frame = pushed_down().assign(relevance=lambda f: 4 - f["position"])
    result = ranking_audit(frame, label="relevance", list_id="list")
    others = result.comparisons[~result.comparisons["metric"].str.startswith("share_of")]
    assert set(others["metric"]) >= {"exposure_per_item", "in_top_k[3]", "ndcg"}
    assert (others["compared_to"] == "overall").all()
    overall = others["metric"].map(lambda m: result.overall.values[m][0])
    np.testing.assert_allclose(others["reference_value"], overall)
    np.testing.assert_allclose(others["difference"], others["value"] - overall)


def test_the_report_renders_and_labels_the_population_share() -> None:
    result = ranking_audit(pushed_down())
    html = result.to_html()
    assert "population share (50.0%)" in html
    assert "share of those ranked" in html
    assert "of exposure (95% CI" in html
    assert "against 50.0% of those ranked, 13.7 points lower" in html
