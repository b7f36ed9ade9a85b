"""The report's tables of one grouping: every metric per group, the gaps, and their summary.

Each cell is written by :mod:`ethica.fairness._number_words`; a gap's status comes with a marker
so that colour is never the only cue.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import partial
from typing import Any

import pandas as pd

from ethica.fairness._chart_style import gap_status
from ethica.fairness._charts import GAP_METRICS
from ethica.fairness._count_table import GROUP_SEPARATOR
from ethica.fairness._glossary import BOOT_METHOD_WORDS
from ethica.fairness._group_metrics import GroupMetrics
from ethica.fairness._number_words import amount, interval, number, p_value, percent, points

#: Cell markers of the metric tables; the marker is there so that colour is never the only cue.
MARKERS = {"material and significant": "◆", "material, not significant": "▲"}

#: The tables' words for a gap's status where they differ from the charts' legend.
_TABLE_STATUS = {"not assessed (small group)": "not assessed", "no material gap": ""}


def metric_table(
    metrics: GroupMetrics, rows: pd.DataFrame, *, overall: GroupMetrics
) -> dict[str, Any]:
    """Tabulate every metric of every group, its gaps marked, with the whole population's row."""
    frame = metrics.frame()
    columns = [c for c in frame.columns if c != "count"]
    status = {
        (str(r["group"]), str(r["metric"])): _status(r) for r in rows.to_dict(orient="records")
    }
    body = []
    for labels, values in zip(_labels(frame.index), frame.to_dict(orient="records"), strict=True):
        cells = []
        for column in columns:
            flag = status.get((labels, column), "")
            cells.append(
                {
                    "text": _value(values[column], metric=column, metrics=metrics),
                    "flag": flag,
                    "marker": MARKERS.get(flag, ""),
                }
            )
        body.append({"group": labels, "count": f"{int(values['count']):,}", "cells": cells})
    whole = overall.frame().iloc[0].to_dict()
    return {
        "columns": [c.replace("_", " ") for c in columns],
        "rows": body,
        "overall": {
            "count": f"{int(whole['count']):,}",
            "cells": [_value(whole[c], metric=c, metrics=metrics) for c in columns],
        },
    }


def summary_table(summary: pd.DataFrame, metrics: GroupMetrics) -> list[dict[str, Any]]:
    """Tabulate, per metric, the largest gap between the groups of one grouping's ``summary``."""
    out = []
    for row in summary.to_dict(orient="records"):
        metric = str(row["metric"])
        proportion = metric in metrics.proportions
        gap = partial(points, signed=False) if proportion else amount
        out.append(
            {
                "metric": metric.replace("_", " "),
                "difference": gap(row["difference"]),
                "ratio": number(row["ratio"], 2),
                "difference_to_overall": gap(row["difference_to_overall"]),
                "ratio_to_overall": number(row["ratio_to_overall"], 2),
                "p_value": p_value(row.get("p_value_across_groups", math.nan)),
                "boot": interval(
                    row.get("boot_difference_low", math.nan),
                    row.get("boot_difference_high", math.nan),
                    gap,
                ),
            }
        )
    return out


def gap_table(rows: pd.DataFrame, metrics: GroupMetrics) -> list[dict[str, Any]]:
    """Tabulate each group's gap on the headline metrics, with its intervals, test and status."""
    chosen = [m for m in GAP_METRICS if m in metrics.values] or list(metrics.values)[:3]
    out = []
    for row in rows[rows["metric"].isin(chosen)].to_dict(orient="records"):
        metric = str(row["metric"])
        proportion = metric in metrics.proportions
        value = percent if proportion else amount
        gap = points if proportion else amount
        out.append(
            {
                "group": str(row["group"]),
                "count": f"{int(row['count']):,}",
                "metric": metric.replace("_", " "),
                "value": value(row["value"]),
                "value_interval": interval(
                    row.get("value_low", math.nan), row.get("value_high", math.nan), value
                )
                or _undefined(row),
                "compared_to": f"{row['compared_to']} ({value(row['reference_value'])})",
                "difference": gap(row["difference"]),
                "difference_interval": interval(
                    row.get("corrected_difference_low", math.nan),
                    row.get("corrected_difference_high", math.nan),
                    gap,
                ),
                "ratio": number(row["ratio"], 2),
                "ratio_interval": interval(
                    row.get("corrected_ratio_low", math.nan),
                    row.get("corrected_ratio_high", math.nan),
                    partial(number, digits=2),
                ),
                "test": str(row.get("test", "")) if row.get("test") not in (None, "none") else "",
                "p_adjusted": p_value(row.get("p_adjusted", math.nan)),
                "boot": _boot_interval(row, gap),
                "status": _status(row),
                "borderline": not bool(row.get("interval_agrees", True)),
                "marker": MARKERS.get(_status(row), ""),
            }
        )
    return out


def _status(row: Mapping[Any, Any]) -> str:
    status = gap_status(row)
    return _TABLE_STATUS.get(status, status)


def _labels(index: pd.Index[Any]) -> list[str]:
    if isinstance(index, pd.MultiIndex):
        return [GROUP_SEPARATOR.join(str(v) for v in values) for values in index]
    return [str(v) for v in index]


def _value(value: Any, *, metric: str, metrics: GroupMetrics) -> str:
    return percent(value) if metric in metrics.proportions else amount(value)


def _undefined(row: Mapping[Any, Any]) -> str:
    reason = str(row.get("undefined") or "")
    return f"undefined ({reason})" if reason else ""


def _boot_interval(row: Mapping[Any, Any], form: Any) -> str:
    """Show the bootstrap interval of a gap, naming the analytic interval where it stands in."""
    text = interval(
        row.get("boot_difference_low", math.nan), row.get("boot_difference_high", math.nan), form
    )
    method = row.get("boot_difference_method", "percentile")
    if text and method != "percentile":
        text += f" ({BOOT_METHOD_WORDS.get(str(method), str(method))})"
    return text
