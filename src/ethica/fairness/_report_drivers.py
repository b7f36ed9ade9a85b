"""The report's section "What drives the decisions, by group": attributions in words and charts.

Read from :func:`ethica.explain.attribution_summary` (columns: sensitive feature, group); only
differences large enough to matter are put in sentences, the table holds the rest.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from ethica.fairness._charts import attribution_chart
from ethica.fairness._number_words import amount
from ethica.fairness._svg import figure

#: A feature "matters differently" when its largest group mean is this many times its smallest.
DRIVER_RATIO = 1.25
#: ...and its overall weight is at least this share of the strongest feature's.
DRIVER_MIN_SHARE = 0.05
#: At most this many differences are put in words per sensitive feature.
DRIVER_SENTENCES = 3


def drivers(summary: pd.DataFrame) -> list[dict[str, Any]]:
    """One block per sensitive feature: sentences, a table and a chart of the attributions."""
    if not isinstance(summary.columns, pd.MultiIndex) or summary.columns.nlevels != 2:
        raise ValueError(
            "attributions must come from ethica.explain.attribution_summary: columns "
            "(sensitive feature, group)"
        )
    features = [str(f) for f in summary.index]
    counts: Mapping[Any, int] = summary.attrs.get("counts", {})
    overall_key = summary.columns[0]
    overall = summary[overall_key].astype("float64")
    strongest = float(overall.max()) if len(overall) else 0.0
    blocks = []
    for index, grouping in enumerate(dict.fromkeys(summary.columns.get_level_values(0))):
        if (grouping, summary[grouping].columns[0]) == overall_key:
            continue
        part = summary[grouping].astype("float64")
        groups = [str(g) for g in part.columns]
        long = part.reset_index().melt(id_vars=part.index.name or "index", var_name="group")
        long.columns = pd.Index(["feature", "group", "value"])
        chart = attribution_chart(long, features=features)
        blocks.append(
            {
                "name": str(grouping),
                "anchor": f"drivers-{index}",
                "groups": [{"name": g, "count": _count(counts.get((grouping, g)))} for g in groups],
                "sentences": _driver_sentences(str(grouping), part, overall, strongest),
                "rows": [
                    {
                        "feature": feature,
                        "overall": amount(overall[feature]),
                        "cells": [amount(part.loc[feature, g]) for g in part.columns],
                    }
                    for feature in part.index
                ],
                "figure": figure(
                    f"What drives the decisions, by {grouping}",
                    "Mean absolute attribution of each feature on the model's margin, per group; "
                    "a longer bar means the feature moves that group's decisions more.",
                    chart,
                    figure_id=f"d{index}",
                ),
            }
        )
    return blocks


def _driver_sentences(
    grouping: str, part: pd.DataFrame, overall: pd.Series, strongest: float
) -> list[str]:
    found = []
    for feature in part.index:
        values = part.loc[feature].dropna()
        if values.empty or float(overall[feature]) < DRIVER_MIN_SHARE * strongest:
            continue
        high, low = values.idxmax(), values.idxmin()
        top, bottom = float(values[high]), float(values[low])
        ratio = math.inf if bottom == 0 else top / bottom
        if ratio >= DRIVER_RATIO:
            found.append((ratio, str(feature), str(high), top, str(low), bottom))
    found.sort(key=lambda item: -item[0])
    sentences = [
        f"{feature} weighs in the decisions of {high} ({amount(top)}) but not in those of {low}."
        if math.isinf(ratio)
        else f"{feature} weighs {ratio:.1f} times as much in the decisions of {high} "
        f"({amount(top)}) as in those of {low} ({amount(bottom)})."
        for ratio, feature, high, top, low, bottom in found[:DRIVER_SENTENCES]
    ]
    if not sentences:
        sentences.append(
            f"The features weigh about the same for every group of {grouping}: no feature's "
            f"weight differs by more than {round((DRIVER_RATIO - 1) * 100)}% between groups."
        )
    elif len(found) > DRIVER_SENTENCES:
        sentences.append(f"{len(found) - DRIVER_SENTENCES} more feature(s) differ; see the table.")
    return sentences


def _count(value: Any) -> str:
    return "" if value is None else f"{int(value):,}"
