"""Gaps between groups: each group against a reference, and one summary figure per metric.

Every group is compared with the whole population (``to_overall``) or with a chosen reference
group (``to_reference``). For a proportion, the gap to the overall rate is an exact rescaling of
the gap to the rest of the population, ``g - overall = (1 - w) (g - rest)`` with ``w`` the group's
share of the denominator, so the intervals and tests use the independent comparison with the
rest. A share of a total (a group's share of all exposure, of the top-k places) is 1 overall by
construction, so it is compared with the group's share of the population instead (exposure
parity, Singh & Joachims 2018), or with the share it would hold at the reference group's rate.
Gaps resting on fewer than ``min_group_size`` rows are reported but not asserted: the rule
applies to each metric's own denominator (positives for the true positive rate, negatives for
the false positive rate, predicted positives for precision), not only to the group's rows.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
import pandas as pd

from ethica.fairness._count_table import group_labels
from ethica.fairness._gap_statistics import (
    mean_statistics,
    population,
    rate_statistics,
    share_statistics,
)
from ethica.fairness._group_metrics import FloatArray, GroupMetrics, ratio
from ethica.fairness._significance import Correction, across_groups, adjust

Method = Literal["between_groups", "to_overall", "to_reference"]

#: The fairness criteria an audit reports, each as the metrics whose gaps it looks at.
CRITERIA: dict[str, tuple[str, ...]] = {
    "demographic_parity": ("selection_rate",),
    "equal_opportunity": ("true_positive_rate",),
    "equalized_odds": ("true_positive_rate", "false_positive_rate"),
    "predictive_parity": ("precision",),
}


@dataclass(frozen=True)
class Settings:
    """How an audit compares groups and decides what is material and significant."""

    confidence: float = 0.95
    min_group_size: int = 30
    reference: Mapping[str, Any] | None = None
    correction: Correction = "holm"
    materiality: float = 0.05
    four_fifths: float = 0.8
    bootstrap: int = 0
    seed: int = 0

    @property
    def alpha(self) -> float:
        """Significance level: one minus the confidence."""
        return 1.0 - self.confidence


def compare_groups(
    metrics: GroupMetrics, overall: GroupMetrics, settings: Settings
) -> pd.DataFrame:
    """One row per group and metric: value with interval, gap to the comparison, test."""
    labels = group_labels(metrics.groups, metrics.grouping)
    rows = _metric_rows(metrics, overall, settings, labels)
    missing = np.full(len(labels), np.nan)
    columns: dict[str, list[Any]] = {}
    for metric in metrics.values:
        for name in _COLUMNS:
            columns.setdefault(name, []).append(rows[metric].get(name, missing))
    frame = pd.DataFrame({name: np.concatenate(parts) for name, parts in columns.items()})
    frame.insert(0, "grouping", " × ".join(metrics.grouping))
    # Without any proportion (a regression audit) the column is all NaN, so float until cast.
    frame["test"] = frame["test"].astype(object).fillna("none").astype(str)
    return frame


def _metric_rows(
    metrics: GroupMetrics,
    overall: GroupMetrics,
    settings: Settings,
    labels: list[str],
    *,
    gaps_only: bool = False,
) -> dict[str, dict[str, Any]]:
    """Per metric, the columns of :func:`compare_groups` (only gaps' intervals if ``gaps_only``)."""
    reference = _reference_index(metrics, settings.reference)
    size = len(labels)
    compared_to = "overall" if reference is None else labels[reference]
    rows: dict[str, dict[str, Any]] = {}
    for metric, values in metrics.values.items():
        if metric in metrics.shares:
            continue
        target = population(overall.values[metric]) if reference is None else values[reference]
        support = metrics.support(metric)
        large = support >= settings.min_group_size
        asserted = large if reference is None else large & large[reference]
        if reference is not None:
            asserted = asserted & (np.arange(size) != reference)
        row: dict[str, Any] = {
            "group": labels,
            "metric": np.full(size, metric, dtype=object),
            "count": metrics.sizes.astype(np.int64),
            "value": values,
            "compared_to": np.full(size, compared_to, dtype=object),
            "reference_value": np.full(size, target),
            "difference": values - target,
            "ratio": ratio(values, np.full(size, target)),
            "support": support,
            "asserted": asserted,
        }
        c = settings.confidence
        if metric in metrics.rates:
            row.update(rate_statistics(metrics, overall, metric, reference, c, gaps_only=gaps_only))
        elif metric in metrics.means:
            row.update(mean_statistics(metrics, overall, metric, reference, c, gaps_only=gaps_only))
        rows[metric] = row
    for share, per_item in metrics.shares.items():
        c = settings.confidence
        rows[share] = share_statistics(metrics, overall, share, rows[per_item], reference, c)
    return rows


_COLUMNS = (
    "group", "metric", "count", "value", "compared_to", "reference_value", "difference", "ratio",
    "numerator", "denominator", "value_low", "value_high", "difference_low", "difference_high",
    "ratio_low", "ratio_high", "p_value", "test", "support", "asserted",
)  # fmt: skip


def finish_comparisons(
    rows: pd.DataFrame,
    settings: Settings,
    *,
    relative: frozenset[str] = frozenset(),
    audits: Any = None,
) -> pd.DataFrame:
    """Correct the p-values of the whole audit together and flag material, significant gaps.

    A gap is material when its absolute difference reaches ``settings.materiality``; for the
    metrics in ``relative`` (amounts such as a credit limit, on no fixed scale) when the ratio
    differs from 1 by that much instead. ``audits`` (one label per row) holds several audits'
    rows at once, as monitoring's windows: each audit's p-values are corrected on their own.
    """
    rows = rows.copy()
    if "p_value" not in rows:
        rows["p_value"] = np.nan
    tested = rows["p_value"].where(rows["asserted"]).to_numpy()
    if audits is None:
        rows["p_adjusted"] = adjust(tested, settings.correction)
    else:
        _, which = np.unique(np.asarray(audits), return_inverse=True)
        order = np.argsort(which.reshape(-1), kind="stable")
        adjusted = np.full_like(tested, np.nan)
        for positions in np.split(order, np.flatnonzero(np.diff(which.reshape(-1)[order])) + 1):
            adjusted[positions] = adjust(tested[positions], settings.correction)
        rows["p_adjusted"] = adjusted
    rows["significant"] = (rows["p_adjusted"] < settings.alpha).fillna(False).astype(bool)
    t = settings.four_fifths
    outside = (rows["ratio"] < t) | (rows["ratio"] > 1.0 / t)
    # A multiclass audit has one selection rate per class, named "selection_rate[<class>]".
    selection = rows["metric"].map(lambda m: str(m).split("[", 1)[0]) == "selection_rate"
    rows["four_fifths_pass"] = ~outside.where(selection, False)
    scaled = rows["metric"].isin(relative)
    gap = rows["difference"].abs().where(~scaled, (rows["ratio"] - 1.0).abs())
    rows["material"] = ((gap >= settings.materiality) | (outside & selection)) & rows["asserted"]
    return rows


def corrected_level(rows: pd.DataFrame, settings: Settings) -> float:
    """Return the confidence level at which intervals agree with the audit's corrected tests.

    With ``m`` tests of which ``k`` are significant, Holm's procedure rejects exactly the tests
    whose p-value is below ``alpha / (m - k)`` (``alpha`` when all are), and Benjamini-Hochberg's
    exactly those below ``alpha k / m`` (``alpha / m`` when none is): intervals at one minus that
    level exclude a gap of zero where, and only where, the corrected test finds it significant
    (up to the small differences between an interval and its test). Without correction it is
    the audit's confidence.
    """
    tested = int(rows["p_value"].where(rows["asserted"]).notna().sum())
    if settings.correction == "none" or tested == 0:
        return settings.confidence
    significant = int(rows["significant"].sum())
    if settings.correction == "holm":
        per_test = (
            settings.alpha / (tested - significant) if significant < tested else settings.alpha
        )
    else:
        per_test = settings.alpha * max(significant, 1) / tested
    return 1.0 - per_test


def corrected_intervals(
    rows: pd.DataFrame, metrics: list[GroupMetrics], overall: GroupMetrics, settings: Settings
) -> pd.DataFrame:
    """Add the intervals of each gap at :func:`corrected_level` beside the corrected p-values.

    ``rows`` are the finished comparisons of ``metrics``, in the order :func:`compare_groups`
    gives them; ``corrected_confidence`` holds the level.
    """
    level = corrected_level(rows, settings)
    at_level = replace(settings, confidence=level)
    # The gaps' intervals of compare_groups' rows at that level, in its order (no values'
    # intervals, no tests, no table: only these four columns are kept).
    again = [
        _metric_rows(m, overall, at_level, group_labels(m.groups, m.grouping), gaps_only=True)
        for m in metrics
    ]
    rows = rows.copy()
    rows["corrected_confidence"] = level
    for name in ("difference_low", "difference_high", "ratio_low", "ratio_high"):
        parts = [
            np.asarray(by_metric[metric].get(name, np.full(len(m.groups), np.nan)), np.float64)
            for m, by_metric in zip(metrics, again, strict=True)
            for metric in m.values
        ]
        rows[f"corrected_{name}"] = np.concatenate(parts) if parts else np.array([])
    # Newcombe's interval is not the exact inverse of its test (chi-square or Fisher): near the
    # boundary the two can disagree, and the row says so. (Katz's log interval of the ratio
    # is further from the test at such levels; the difference is the gap the findings state.)
    excludes = (rows["corrected_difference_low"] > 0) | (rows["corrected_difference_high"] < 0)
    tested = (
        rows["asserted"] & rows["p_adjusted"].notna() & rows["corrected_difference_low"].notna()
    )
    rows["interval_agrees"] = (excludes == rows["significant"]) | ~tested
    return rows


def summarize(metrics: GroupMetrics, overall: GroupMetrics, settings: Settings) -> pd.DataFrame:
    """Per metric: the gap between groups (max - min, min / max) and to the whole population."""
    reference = _reference_index(metrics, settings.reference)
    out = []
    for metric, values in metrics.values.items():
        tested = metrics.shares.get(metric, metric)
        large = metrics.support(tested) >= settings.min_group_size
        shown = large & ~np.isnan(values)
        kept = values[shown]
        entry: dict[str, Any] = {"grouping": " × ".join(metrics.grouping), "metric": metric}
        if metric in metrics.shares:
            entry.update(share_gaps(kept, share_targets(metrics, overall, metric, None)[shown]))
        else:
            entry.update(gaps(kept, overall.values[metric][0]))
        if reference is not None:
            if metric in metrics.shares:
                targets = share_targets(metrics, overall, metric, reference)[shown]
                to_reference = share_gaps(kept, targets)
            else:
                to_reference = gaps(kept, values[reference])
            entry.update(
                {
                    f"{k}_to_reference": v
                    for k, v in to_reference.items()
                    if k.endswith("to_overall")
                }
            )
        if tested in metrics.rates:
            num, den = metrics.rates[tested]
            entry["p_value_across_groups"] = across_groups(num[large], den[large])
        entry["groups_compared"] = int(kept.size)
        out.append(entry)
    frame = pd.DataFrame(out)
    return frame.rename(columns=lambda c: c.replace("_to_overall_to_reference", "_to_reference"))


def gaps(values: FloatArray, overall: float) -> dict[str, float]:
    """Fairlearn's aggregates: between groups (max - min, min / max) and to the overall value."""
    if values.size == 0:
        nan = float("nan")
        return {
            "difference": nan,
            "ratio": nan,
            "difference_to_overall": nan,
            "ratio_to_overall": nan,
        }
    low, high = float(values.min()), float(values.max())
    with np.errstate(divide="ignore", invalid="ignore"):
        to_overall = np.minimum(values / overall, overall / values)
    return {
        "difference": high - low,
        "ratio": low / high if high > 0 else float("nan"),
        "difference_to_overall": float(np.abs(values - overall).max()),
        "ratio_to_overall": float(np.nanmin(to_overall)) if overall > 0 else float("nan"),
    }


def share_gaps(values: FloatArray, targets: FloatArray) -> dict[str, float]:
    """Aggregate gaps like :func:`gaps`, each share against the group's own comparison share.

    Between groups: the spread of the gaps ``share - target`` and the lowest ``share / target``
    over the highest (for exposure, the ratio of exposure per item of the least and the most
    exposed groups); to the comparison: the largest absolute gap and the ratio farthest from 1.
    With one target for every group these equal :func:`gaps`.
    """
    if values.size == 0:
        return gaps(values, math.nan)
    gap = values - targets
    relative = ratio(values, targets)
    if np.isnan(relative).all():
        low = high = closest = math.nan
    else:
        low, high = float(np.nanmin(relative)), float(np.nanmax(relative))
        with np.errstate(divide="ignore", invalid="ignore"):
            closest = float(np.nanmin(np.minimum(relative, 1.0 / relative)))
    return {
        "difference": float(gap.max() - gap.min()),
        "ratio": low / high if high > 0 else math.nan,
        "difference_to_overall": float(np.abs(gap).max()),
        "ratio_to_overall": closest,
    }


def criteria(summary: pd.DataFrame) -> pd.DataFrame:
    """Name fairness criteria per grouping from the per-metric summary (worst case of metrics)."""
    rows = []
    columns = ["difference", "difference_to_overall", "ratio", "ratio_to_overall"]
    for grouping, part in summary.groupby("grouping", sort=False):
        by_metric = part.set_index("metric")[columns].to_dict("index")
        for name, metrics in CRITERIA.items():
            if not all(m in by_metric for m in metrics):
                continue
            chosen = [by_metric[m] for m in metrics]
            row: dict[str, Any] = {"grouping": grouping, "criterion": name}
            for column in columns:
                pick = np.max if column.startswith("difference") else np.min
                row[column] = float(pick([c[column] for c in chosen]))  # NaN propagates
            rows.append(row)
    return pd.DataFrame(rows)


def share_targets(
    metrics: GroupMetrics, overall: GroupMetrics, share: str, reference: int | None
) -> FloatArray:
    """Return each group's comparison share: its population share, or at the reference's rate."""
    base = metrics.shares[share]
    rate = metrics.values[base][reference] if reference is not None else overall.values[base][0]
    total = float(overall.values[base][0] * overall.sizes[0])
    return ratio(metrics.sizes * rate, np.full(len(metrics.sizes), total))


def _reference_index(metrics: GroupMetrics, reference: Mapping[str, Any] | None) -> int | None:
    if reference is None:
        return None
    missing = [f for f in metrics.grouping if f not in reference]
    if missing:
        from ethica.errors import InputError

        raise InputError(
            f"the reference names no group for {missing}; give one value per sensitive feature, "
            "e.g. reference={'sex': 'Male', 'race': 'White'}"
        )
    wanted = tuple(str(reference[f]) for f in metrics.grouping)
    rows = list(metrics.groups[list(metrics.grouping)].itertuples(index=False, name=None))
    if wanted not in rows:
        from ethica.errors import InputError

        raise InputError(
            f"reference group {' × '.join(wanted)} does not occur in the data; groups are "
            f"{[' × '.join(r) for r in rows][:10]}"
        )
    return rows.index(wanted)
