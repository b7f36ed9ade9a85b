"""What an audit found, in plain words: which gaps are material, and which are significant."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import pandas as pd

from ethica.fairness._disparities import Settings
from ethica.fairness._gap_statistics import POPULATION_SHARE
from ethica.fairness._glossary import (
    BOOT_METHOD_WORDS,
    BORDERLINE,
    DENOMINATOR_WORDS,
    METRIC_WORDS,
    SHARE_WORDS,
    SUPPORT_WORDS,
    confidence_words,
    metric_words,
    plain_name,
)
from ethica.fairness._number_words import percent, points

__all__ = ["METRIC_WORDS", "SHARE_WORDS", "Finding", "findings", "metric_family"]

#: The metrics whose gaps are stated as findings (the others are in the tables).
HEADLINE = (
    "selection_rate",
    "true_positive_rate",
    "false_positive_rate",
    "precision",
    *SHARE_WORDS,
)

Severity = Literal["material and significant", "material, not significant", "not assessed"]


@dataclass(frozen=True)
class Finding:
    """One statement about a gap between a group and its comparison."""

    severity: Severity
    grouping: str
    group: str
    metric: str
    difference: float
    text: str


def findings(comparisons: pd.DataFrame, settings: Settings) -> list[Finding]:
    """Material gaps in the headline metrics, in the order a reader needs them.

    Significant gaps come first, then gaps of broad groups (one feature before intersections,
    which are smaller and noisier), then the largest.
    """
    headline = comparisons["metric"].map(metric_family).isin(HEADLINE)
    rows = comparisons[headline & comparisons["material"]]
    depth = rows["grouping"].astype(str).str.count(" × ")
    rows = rows.assign(size=rows["difference"].abs(), depth=depth).sort_values(
        ["significant", "depth", "size"], ascending=[False, True, False]
    )
    out = [
        _finding({str(k): v for k, v in row.items()}, settings)
        for row in rows.to_dict(orient="records")
    ]
    too_small = comparisons["support"] < settings.min_group_size
    small = comparisons.loc[too_small & (comparisons["count"] < settings.min_group_size)]
    names = sorted(set(small["group"].astype(str)))
    if names:
        out.append(
            _not_assessed(
                f"Groups with fewer than {settings.min_group_size} decisions are reported but "
                f"their gaps are not assessed: {_listed(names)}."
            )
        )
    defined = comparisons["undefined"] == ""  # undefined values are stated below
    thin = comparisons.loc[too_small & defined & (comparisons["count"] >= settings.min_group_size)]
    for metric, rows in thin[thin["metric"].isin(list(SUPPORT_WORDS))].groupby("metric"):
        names = [f"{g} ({n:.0f})" for g, n in zip(rows["group"], rows["support"], strict=True)]
        text = (
            f"Gaps in {plain_name(str(metric))} resting on fewer than {settings.min_group_size} "
            f"{SUPPORT_WORDS[str(metric)]} are reported but not assessed: {_listed(names)}."
        )
        out.append(_not_assessed(text, str(metric)))
    undefined = comparisons.loc[~defined & comparisons["metric"].map(metric_family).isin(HEADLINE)]
    for metric, rows in undefined.groupby("metric"):
        groups = zip(rows["group"], rows["grouping"], strict=True)
        text = (
            f"The {plain_name(str(metric))} is undefined (0/0) where a group has "
            f"{undefined_reason(str(metric))}, and is left missing rather than counted as 0: "
            f"{_listed([f'{g} ({grouping})' for g, grouping in groups])}."
        )
        out.append(_not_assessed(text, str(metric)))
    return out


def undefined_reasons(comparisons: pd.DataFrame) -> pd.Series:
    """Give why each row's value is undefined ("0/0: no favourable decisions"), else ""."""
    undefined = comparisons["value"].isna() & (comparisons["support"] == 0)
    reasons = comparisons["metric"].map(lambda m: f"0/0: {undefined_reason(str(m))}")
    return reasons.where(undefined, "")


def undefined_reason(metric: str) -> str:
    """Say what a group lacks when ``metric`` is 0/0 in it: "no favourable decisions", ..."""
    return f"no {DENOMINATOR_WORDS.get(metric_family(metric), 'rows it is computed over')}"


def _not_assessed(text: str, metric: str = "") -> Finding:
    return Finding("not assessed", "", "", metric, math.nan, text)


def _listed(names: list[str]) -> str:
    return ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")


def _finding(row: dict[str, object], settings: Settings) -> Finding:
    metric = str(row["metric"])
    value, target = float(row["value"]), float(row["reference_value"])  # type: ignore[arg-type]
    difference = float(row["difference"])  # type: ignore[arg-type]
    family = metric_family(metric)
    words = metric_words(family)
    if family != metric:  # one class of a multiclass decision: "selection_rate[gold]"
        words = f"{words.split(' (')[0]} of class {metric[len(family) + 1 : -1]}"
    compared = "overall" if row["compared_to"] == "overall" else f"for {row['compared_to']}"
    level = round(settings.confidence * 100)
    interval = ""
    if not math.isnan(float(row.get("value_low", math.nan))):  # type: ignore[arg-type]
        interval = f" ({level}% CI {percent(row['value_low'])}–{percent(row['value_high'])})"
    direction = "lower" if difference < 0 else "higher"
    if family in SHARE_WORDS:
        # A share of a total is 1 overall: it is compared with the group's share of those ranked.
        held = SHARE_WORDS[family].format(k=metric[len(family) + 1 : -1])
        compared = (
            "of those ranked"
            if row["compared_to"] == POPULATION_SHARE
            else f"at the rate of {row['compared_to']}"
        )
        text = (
            f"{row['group']} ({row['grouping']}): {percent(value)} {held}{interval} against "
            f"{percent(target)} {compared}, {abs(difference) * 100:.1f} points {direction}"
        )
    else:
        text = (
            f"{row['group']} ({row['grouping']}): {words} {percent(value)}{interval} against "
            f"{percent(target)} {compared}, {abs(difference) * 100:.1f} points {direction}"
        )
    boot_low = float(row.get("boot_difference_low", math.nan))  # type: ignore[arg-type]
    if not math.isnan(boot_low):
        method = str(row.get("boot_difference_method", "percentile"))
        named = f", {BOOT_METHOD_WORDS[method]}" if method in BOOT_METHOD_WORDS else ""
        text += (
            f" (bootstrap {level}% interval of the gap {points(boot_low)} to "
            f"{points(row['boot_difference_high'])}{named})"
        )
    ratio = float(row["ratio"])  # type: ignore[arg-type]
    if family == "selection_rate" and not bool(row["four_fifths_pass"]):
        text += f"; ratio {ratio:.2f} fails the four-fifths rule"
    p = float(row["p_adjusted"])  # type: ignore[arg-type]
    correction = {"holm": " after Holm correction", "bh": " after Benjamini-Hochberg correction"}
    suffix = correction.get(settings.correction, "")
    corrected = _corrected_interval(row, settings)
    if bool(row["significant"]):
        severity: Severity = "material and significant"
        text += f". The gap is significant ({_p(p)}{suffix}{corrected})."
    elif math.isnan(p):
        severity = "material, not significant"
        text += ". The gap is material; this metric has no significance test."
    else:
        severity = "material, not significant"
        text += f". The gap is material but could be chance ({_p(p)}{suffix}{corrected})."
    if not bool(row.get("interval_agrees", True)):
        text += f" {BORDERLINE}."
    return Finding(severity, str(row["grouping"]), str(row["group"]), metric, difference, text)


def _corrected_interval(row: dict[str, object], settings: Settings) -> str:
    """Name the gap's interval at the level that matches the corrected test."""
    low = float(row.get("corrected_difference_low", math.nan))  # type: ignore[arg-type]
    if math.isnan(low):
        return ""
    level = confidence_words(float(row["corrected_confidence"]))  # type: ignore[arg-type]
    alike = "" if settings.correction == "none" else ", corrected alike"
    return (
        f"; {level} interval of the gap {points(low)} to "
        f"{points(row['corrected_difference_high'])}{alike}"
    )


def metric_family(metric: str) -> str:
    """Strip the class from a metric's name: ``selection_rate[gold]`` -> ``selection_rate``."""
    return str(metric).split("[", 1)[0]


def _p(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"
