"""Charts of an audit as Vega-Lite specs (built with Altair); :mod:`._svg` renders them."""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from typing import Any

import altair as alt
import pandas as pd

from ethica.fairness._chart_style import (
    AXIS,
    PALETTE,
    ROW_HEIGHT,
    SHAPES,
    WIDTH,
    bottom_legend,
    chart_height,
    group_axis,
    inline_data,
    status_marks,
    status_of,
)
from ethica.fairness._glossary import plain_name, short_name
from ethica.fairness._group_metrics import GroupMetrics
from ethica.fairness._svg import ChartSpec, Figure, figure

#: The gaps charted first when they exist (the others are in the tables).
GAP_METRICS = ("selection_rate", "true_positive_rate", "false_positive_rate", "precision")
#: How a share of a total (exposure, top-k places) is compared, said under its charts.
SHARE_COMPARISON = (
    "A share of exposure or of the top places is compared with the group's share of those "
    "ranked (or, with a reference group, with the share it would hold at that group's rate)."
)
#: Calibration curves are unreadable with more lines than this; the table still has them.
MAX_CURVES = 8


def grouping_figures(
    metrics: GroupMetrics,
    comparisons: pd.DataFrame,
    *,
    confidence: float,
    materiality: float,
    id_prefix: str,
) -> list[Figure]:
    """Draw the charts that apply to one grouping, given which metrics the audit computed."""
    grouping = " × ".join(metrics.grouping)
    rows = comparisons[comparisons["grouping"] == grouping].assign(status=status_of)
    present = list(metrics.values)
    level = f"{round(confidence * 100)}%"
    charts: list[tuple[str, str, ChartSpec]] = []
    if "selection_rate" in present:
        charts.append(
            (
                f"Selection rate by {grouping}",
                f"Share of each group given the favourable outcome, with {level} Wilson "
                "intervals; the vertical line is the comparison value.",
                value_chart(rows, "selection_rate", as_percent=True),
            )
        )
    gap_metrics = [m for m in GAP_METRICS if m in present] or present[:3]
    if any(m in metrics.proportions for m in gap_metrics):
        gap_words = (
            f"Difference of each group to the comparison, in percentage points for rates, with "
            f"{level} Newcombe intervals; the shaded band is ±{materiality * 100:g} points (the "
            "materiality threshold)."
        )
    else:
        gap_words = "Difference of each group to the comparison, in the metric's own unit."
    if any(m in metrics.shares for m in gap_metrics):
        gap_words += f" {SHARE_COMPARISON}"
    charts.append(
        (
            f"Gaps by {grouping}",
            gap_words,
            gap_chart(rows, gap_metrics, materiality=materiality, proportions=metrics.proportions),
        )
    )
    if {"true_positive_rate", "false_positive_rate"} <= set(present):
        charts.append(
            (
                f"Error rates by {grouping} (equalized odds)",
                "True positive rate (share of those who merited the favourable outcome who got "
                "it) and false positive rate (share of those who did not who got it), with "
                f"{level} Wilson intervals. Equalized odds asks both to be equal across groups.",
                error_rates_chart(rows),
            )
        )
    if "roc_auc" in present:
        charts.append(
            (
                f"ROC AUC by {grouping}",
                "How well the score ranks those with the favourable true outcome above the "
                "others, within each group (0.5 is chance, 1 is perfect).",
                value_chart(rows, "roc_auc", as_percent=False, domain=(0.5, 1.0)),
            )
        )
    curve = metrics.curves.get("calibration")
    if curve is not None and len(metrics.groups) <= MAX_CURVES:
        charts.append(
            (
                f"Calibration by {grouping}",
                "Observed share with the favourable true outcome against the mean score, in "
                "ten score bins; a calibrated score follows the dashed diagonal in every group.",
                calibration_chart(curve, metrics.grouping),
            )
        )
    if "selection_rate" not in present:
        for metric in present[:2]:
            marker = (
                f"the tick on each row is the group's share of those ranked. {SHARE_COMPARISON}"
                if metric in metrics.shares
                else "the vertical line is the comparison value."
            )
            charts.append(
                (
                    f"{plain_name(metric).capitalize()} by {grouping}",
                    f"Each group's {plain_name(metric)}, with {level} intervals where available; "
                    + marker,
                    value_chart(rows, metric, as_percent=metric in metrics.proportions),
                )
            )
    return [
        figure(
            title,
            caption,
            chart,
            figure_id=f"{id_prefix}-{index}",
            wide=isinstance(chart, alt.HConcatChart) and len(gap_metrics) > 1,
        )
        for index, (title, caption, chart) in enumerate(charts)
    ]


def value_chart(
    rows: pd.DataFrame,
    metric: str,
    *,
    as_percent: bool,
    domain: tuple[float, float] | None = None,
) -> ChartSpec:
    """Each group's value as a point with its interval, and a rule at the comparison value.

    ``domain`` is widened when a value falls outside it, so that no point is ever hidden.
    """
    data = _metric_rows(rows, metric)
    scale = alt.Scale(zero=as_percent, nice=True)
    if domain is not None and not data.empty:
        low = min(domain[0], float(data["value"].min()))
        high = max(domain[1], float(data["value"].max()))
        scale = alt.Scale(domain=[low, high], nice=True)
    axis = alt.Axis(format=".0%", **AXIS) if as_percent else alt.Axis(**AXIS)
    x = alt.X(
        "value:Q",
        title=plain_name(metric),
        axis=axis,
        scale=scale,
    )
    y = group_axis(data)
    base = alt.Chart(inline_data(data)).encode(y=y)
    layers: list[Any] = []
    if data["value_low"].notna().any():
        layers.append(
            base.mark_rule(color="#57606a", strokeWidth=1.5).encode(
                x=alt.X("value_low:Q", title=plain_name(metric)), x2="value_high:Q"
            )
        )
    layers.append(
        base.mark_point(filled=True, size=70, opacity=1).encode(x=x, **status_marks(data))
    )
    comparison = data["reference_value"].dropna()
    if comparison.nunique() > 1:
        # Shares have one comparison per group (its share of those ranked): a tick on each row.
        layers.append(
            base.mark_tick(color="#24292f", thickness=2, size=ROW_HEIGHT * 0.8).encode(
                x="reference_value:Q"
            )
        )
    elif not comparison.empty:
        layers.append(
            alt.Chart(inline_data(pd.DataFrame({"reference_value": [float(comparison.iloc[0])]})))
            .mark_rule(color="#24292f", strokeDash=[4, 3])
            .encode(x="reference_value:Q")
        )
    return alt.layer(*layers).properties(width=WIDTH, height=chart_height(data))


def gap_chart(
    rows: pd.DataFrame,
    metrics: Sequence[str],
    *,
    materiality: float,
    proportions: Collection[str],
) -> ChartSpec:
    """Difference to the comparison per group, one panel per metric.

    Gaps in proportions are shown in percentage points, with the materiality band around zero;
    other metrics keep their own unit.
    """
    panels = []
    shown = rows[rows["metric"].isin(list(metrics)) & rows["value"].notna()]
    for index, metric in enumerate(metrics):
        data = _metric_rows(rows, metric)
        proportion = metric in proportions
        scale = 100.0 if proportion else 1.0
        data = data.assign(
            difference=data["difference"] * scale,
            difference_low=data["difference_low"] * scale,
            difference_high=data["difference_high"] * scale,
        )
        title = (
            f"{short_name(metric)} (points)" if proportion else f"{short_name(metric)} (difference)"
        )
        base = alt.Chart(inline_data(data)).encode(y=group_axis(data, show=index == 0))
        layers: list[Any] = []
        if proportion:
            band = pd.DataFrame({"low": [-materiality * 100], "high": [materiality * 100]})
            layers.append(
                alt.Chart(inline_data(band))
                .mark_rect(color="#eaeef2")
                .encode(x="low:Q", x2="high:Q")
            )
        zero = alt.Chart(inline_data(pd.DataFrame({"zero": [0.0]})))
        layers.append(zero.mark_rule(color="#24292f").encode(x="zero:Q"))
        if data["difference_low"].notna().any():
            layers.append(
                base.mark_rule(color="#57606a", strokeWidth=1.5).encode(
                    x=alt.X("difference_low:Q", title=title), x2="difference_high:Q"
                )
            )
        x = alt.X("difference:Q", title=title, scale=alt.Scale(nice=True), axis=alt.Axis(**AXIS))
        layers.append(
            base.mark_point(filled=True, size=70, opacity=1).encode(x=x, **status_marks(shown))
        )
        width = 200 if len(metrics) > 1 else WIDTH
        panels.append(alt.layer(*layers).properties(width=width, height=chart_height(data)))
    return alt.hconcat(*panels, spacing=14)


def error_rates_chart(rows: pd.DataFrame) -> ChartSpec:
    """Plot true and false positive rates side by side per group, with Wilson intervals."""
    names = {
        "true_positive_rate": "True positive rate",
        "false_positive_rate": "False positive rate",
    }
    data = rows[rows["metric"].isin(list(names)) & rows["value"].notna()].copy()
    data["rate"] = data["metric"].map(names)
    data = _with_intervals(data)
    colour = alt.Color(
        "rate:N",
        title=None,
        scale=alt.Scale(domain=list(names.values()), range=[PALETTE[0], PALETTE[1]]),
        legend=bottom_legend(),
    )
    shape = alt.Shape(
        "rate:N",
        title=None,
        scale=alt.Scale(domain=list(names.values()), range=["circle", "square"]),
        legend=bottom_legend(),
    )
    offset = alt.YOffset("rate:N", scale=alt.Scale(domain=list(names.values()), paddingOuter=0.3))
    base = alt.Chart(inline_data(data)).encode(y=group_axis(data), yOffset=offset)
    x_title = "rate"
    layers: list[Any] = []
    if data["value_low"].notna().any():
        layers.append(
            base.mark_rule(strokeWidth=1.5).encode(
                x=alt.X("value_low:Q", title=x_title), x2="value_high:Q", color=colour
            )
        )
    layers.append(
        base.mark_point(filled=True, size=60, opacity=1).encode(
            x=alt.X(
                "value:Q",
                title=x_title,
                axis=alt.Axis(format=".0%", **AXIS),
                scale=alt.Scale(domain=[0, 1]),
            ),
            color=colour,
            shape=shape,
        )
    )
    groups = data["group"].nunique()
    return alt.layer(*layers).properties(width=WIDTH, height=max(60, 2 * ROW_HEIGHT * groups))


def calibration_chart(curve: pd.DataFrame, grouping: tuple[str, ...]) -> ChartSpec:
    """Observed rate against mean score per score bin, one line per group, and the diagonal."""
    data = curve.copy()
    data["group"] = data[list(grouping)].astype(str).agg(" × ".join, axis=1)
    data = data[data["n"] > 0][["group", "mean_score", "observed_rate", "n"]]
    groups = list(dict.fromkeys(data["group"]))
    legend = bottom_legend()
    colour = alt.Color(
        "group:N",
        title=None,
        scale=alt.Scale(domain=groups, range=list(PALETTE[: len(groups)])),
        legend=legend,
    )
    low = float(min(data["mean_score"].min(), data["observed_rate"].min(), 0.0))
    high = float(max(data["mean_score"].max(), data["observed_rate"].max(), 1.0))
    diagonal = alt.Chart(inline_data(pd.DataFrame({"x": [low, high], "y": [low, high]}))).mark_line(
        color="#57606a", strokeDash=[4, 3]
    )
    base = alt.Chart(inline_data(data)).encode(
        x=alt.X("mean_score:Q", title="mean score in bin"),
        y=alt.Y("observed_rate:Q", title="observed rate", axis=alt.Axis(format=".0%")),
        color=colour,
    )
    lines = base.mark_line(strokeWidth=2)
    points = base.mark_point(filled=True, size=36, opacity=1).encode(
        shape=alt.Shape(
            "group:N",
            title=None,
            scale=alt.Scale(domain=groups, range=list(SHAPES[: len(groups)])),
            legend=legend,
        )
    )
    return alt.layer(diagonal.encode(x="x:Q", y="y:Q"), lines, points).properties(
        width=WIDTH, height=260
    )


def _metric_rows(rows: pd.DataFrame, metric: str) -> pd.DataFrame:
    data = rows[(rows["metric"] == metric) & rows["value"].notna()].copy()
    if "corrected_difference_low" in data:
        # A gap's interval at the level of the corrected tests, so its colour and bar agree.
        data["difference_low"] = data["corrected_difference_low"]
        data["difference_high"] = data["corrected_difference_high"]
    return _with_intervals(data)


def _with_intervals(data: pd.DataFrame) -> pd.DataFrame:
    for column in ("value_low", "value_high", "difference_low", "difference_high"):
        if column not in data:
            data[column] = math.nan
    keep = [
        "group",
        "metric",
        "value",
        "value_low",
        "value_high",
        "reference_value",
        "difference",
        "difference_low",
        "difference_high",
        "status",
        "rate",
    ]
    data = data[[c for c in keep if c in data]]
    data["group"] = data["group"].astype(str)
    return data.reset_index(drop=True)


def attribution_chart(data: pd.DataFrame, *, features: Sequence[str]) -> ChartSpec:
    """Mean absolute attribution per feature, one bar per group side by side.

    ``data`` has the columns ``feature``, ``group`` and ``value``; ``features`` is their order.
    """
    groups = list(dict.fromkeys(data["group"].astype(str)))
    colours = [PALETTE[i % len(PALETTE)] for i in range(len(groups))]
    base = alt.Chart(inline_data(data[["feature", "group", "value"]].astype({"group": str})))
    bars = base.mark_bar().encode(
        y=alt.Y("feature:N", sort=list(features), title=None, axis=alt.Axis(labelLimit=180)),
        yOffset=alt.YOffset("group:N", sort=groups),
        x=alt.X(
            "value:Q",
            title="mean |attribution| (model margin)",
            scale=alt.Scale(zero=True, nice=True),
            axis=alt.Axis(**AXIS),
        ),
        color=alt.Color(
            "group:N", scale=alt.Scale(domain=groups, range=colours), legend=bottom_legend()
        ),
    )
    height = max(60, ROW_HEIGHT // 2 * len(groups) * len(features) + 6 * len(features))
    return alt.layer(bars).properties(width=WIDTH, height=height)
