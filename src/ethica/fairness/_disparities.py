"""Gaps between groups: each group against a reference, and one summary figure per metric.

Every group is compared with the whole population (``to_overall``) or with a chosen reference
group (``to_reference``). For a proportion, the gap to the overall rate is an exact rescaling of
the gap to the rest of the population, ``g - overall = (1 - w) (g - rest)`` with ``w`` the group's
share of the denominator, so the intervals and tests use the independent comparison with the
rest. Groups smaller than ``min_group_size`` are reported but their gaps are not asserted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from ethica.fairness._count_table import group_labels
from ethica.fairness._group_metrics import FloatArray, GroupMetrics, ratio
from ethica.fairness._intervals import katz_ratio, newcombe, wilson
from ethica.fairness._significance import Correction, across_groups, adjust, two_by_two

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
    reference = _reference_index(metrics, settings.reference)
    size = len(labels)
    large = metrics.sizes >= settings.min_group_size
    asserted = large if reference is None else large & large[reference]
    if reference is not None:
        asserted = asserted & (np.arange(size) != reference)
    columns: dict[str, list[Any]] = {}
    for metric, values in metrics.values.items():
        target = overall.values[metric][0] if reference is None else values[reference]
        row: dict[str, Any] = {
            "group": labels,
            "metric": np.full(size, metric, dtype=object),
            "count": metrics.sizes.astype(np.int64),
            "value": values,
            "reference_value": np.full(size, target),
            "difference": values - target,
            "ratio": ratio(values, np.full(size, target)),
            "asserted": asserted,
        }
        if metric in metrics.rates:
            row.update(_rate_statistics(metrics, overall, metric, reference, settings))
        for name in _COLUMNS:
            columns.setdefault(name, []).append(row.get(name, np.full(size, np.nan)))
    frame = pd.DataFrame({name: np.concatenate(parts) for name, parts in columns.items()})
    frame.insert(0, "grouping", " × ".join(metrics.grouping))
    frame.insert(5, "compared_to", "overall" if reference is None else labels[reference])
    # Without any proportion (a regression audit) the column is all NaN, so float until cast.
    frame["test"] = frame["test"].astype(object).fillna("none").astype(str)
    return frame


_COLUMNS = (
    "group", "metric", "count", "value", "reference_value", "difference", "ratio",
    "numerator", "denominator", "value_low", "value_high", "difference_low", "difference_high",
    "ratio_low", "ratio_high", "p_value", "test", "asserted",
)  # fmt: skip


def finish_comparisons(
    rows: pd.DataFrame, settings: Settings, *, relative: frozenset[str] = frozenset()
) -> pd.DataFrame:
    """Correct the p-values of the whole audit together and flag material, significant gaps.

    A gap is material when its absolute difference reaches ``settings.materiality``; for the
    metrics in ``relative`` (amounts such as a credit limit, on no fixed scale) when the ratio
    differs from 1 by that much instead.
    """
    rows = rows.copy()
    if "p_value" not in rows:
        rows["p_value"] = np.nan
    tested = rows["p_value"].where(rows["asserted"])
    rows["p_adjusted"] = adjust(tested.to_numpy(), settings.correction)
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


def summarize(metrics: GroupMetrics, overall: GroupMetrics, settings: Settings) -> pd.DataFrame:
    """Per metric: the gap between groups (max - min, min / max) and to the whole population."""
    large = metrics.sizes >= settings.min_group_size
    reference = _reference_index(metrics, settings.reference)
    out = []
    for metric, values in metrics.values.items():
        kept = values[large & ~np.isnan(values)]
        entry: dict[str, Any] = {"grouping": " × ".join(metrics.grouping), "metric": metric}
        entry.update(gaps(kept, overall.values[metric][0]))
        if reference is not None:
            entry.update(
                {
                    f"{k}_to_reference": v
                    for k, v in gaps(values[large & ~np.isnan(values)], values[reference]).items()
                    if k.endswith("to_overall")
                }
            )
        if metric in metrics.rates:
            num, den = metrics.rates[metric]
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


def _rate_statistics(
    metrics: GroupMetrics,
    overall: GroupMetrics,
    metric: str,
    reference: int | None,
    settings: Settings,
) -> dict[str, Any]:
    num, den = metrics.rates[metric]
    c = settings.confidence
    low, high = wilson(num, den, c)
    out: dict[str, Any] = {
        "numerator": num,
        "denominator": den,
        "value_low": low,
        "value_high": high,
    }
    if reference is None:
        total_num, total_den = (a[0] for a in overall.rates[metric])
        x2, n2 = total_num - num, total_den - den  # the rest of the population
        share = 1.0 - ratio(den, total_den)
        d_low, d_high = newcombe(num, den, x2, n2, c)
        r_low, r_high = katz_ratio(num, den, x2, n2, c)
        # g/overall = r / (w r + 1 - w) with r = g/rest: increasing in r, so bounds map over.
        weight = 1.0 - share
        out["difference_low"], out["difference_high"] = share * d_low, share * d_high
        out["ratio_low"] = r_low / (weight * r_low + share)
        out["ratio_high"] = r_high / (weight * r_high + share)
    else:
        x2, n2 = np.full_like(num, num[reference]), np.full_like(den, den[reference])
        out["difference_low"], out["difference_high"] = newcombe(num, den, x2, n2, c)
        out["ratio_low"], out["ratio_high"] = katz_ratio(num, den, x2, n2, c)
    out["p_value"], out["test"] = two_by_two(num, den, x2, n2)
    return out


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
