"""The audit as HTML: a self-contained report with charts, and a compact summary for notebooks.

The report is written generically over the audit's tables (``metrics``, ``comparisons``,
``summary``, ``criteria``), so every kind of decision gets one; charts appear only when the
metrics they show exist.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import partial
from typing import Any, Protocol

import jinja2
import pandas as pd

from ethica.fairness._bootstrap import MIN_OUTCOMES
from ethica.fairness._chart_style import gap_status
from ethica.fairness._charts import GAP_METRICS, attribution_chart, grouping_figures
from ethica.fairness._count_table import GROUP_SEPARATOR, CountTable
from ethica.fairness._disparities import Settings
from ethica.fairness._findings import Finding
from ethica.fairness._glossary import (
    BOOT_METHOD_WORDS,
    BORDERLINE,
    CORRECTION_WORDS,
    CRITERIA_WORDS,
    METRIC_WORDS,
    confidence_words,
)
from ethica.fairness._group_metrics import GroupMetrics
from ethica.fairness._kinds import decision_kind
from ethica.fairness._svg import Figure, figure


class Audit(Protocol):
    """What a report reads of an audit (:class:`ethica.fairness.Audit` has it all).

    A protocol rather than the class, so that the result imports its report and not the reverse.
    """

    @property
    def table(self) -> CountTable: ...
    @property
    def settings(self) -> Settings: ...
    @property
    def overall(self) -> GroupMetrics: ...
    @property
    def metrics(self) -> dict[str, GroupMetrics]: ...
    @property
    def comparisons(self) -> pd.DataFrame: ...
    @property
    def summary(self) -> pd.DataFrame: ...
    @property
    def criteria(self) -> pd.DataFrame: ...
    @property
    def findings(self) -> list[Finding]: ...


#: Cell markers of the metric tables; the marker is there so that colour is never the only cue.
MARKERS = {"material and significant": "◆", "material, not significant": "▲"}

_ENVIRONMENT = jinja2.Environment(
    loader=jinja2.PackageLoader("ethica.fairness", "templates"),
    autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


#: A feature "matters differently" when its largest group mean is this many times its smallest.
DRIVER_RATIO = 1.25
#: ...and its overall weight is at least this share of the strongest feature's.
DRIVER_MIN_SHARE = 0.05
#: At most this many differences are put in words per sensitive feature.
DRIVER_SENTENCES = 3


def render_report(audit: Audit, *, title: str, attributions: pd.DataFrame | None = None) -> str:
    """Render the full report: findings in words, criteria, charts, tables and methods.

    ``attributions`` (from :func:`ethica.explain.attribution_summary`) adds the section "What
    drives the decisions, by group".
    """
    template = _ENVIRONMENT.get_template("report.html.j2")
    return template.render(
        title=title,
        header=_header(audit),
        findings=_findings(audit),
        criteria=_criteria(audit),
        groupings=_groupings(audit),
        drivers=None if attributions is None else _drivers(attributions),
        settings=audit.settings,
        kind=audit.table.kind,
        bootstrap=audit.settings.bootstrap,
        boot_min_outcomes=MIN_OUTCOMES,
        corrected_level=confidence_words(_corrected_level(audit)),
        borderline=BORDERLINE,
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        styles=_ENVIRONMENT.get_template("report.css").render(),
    )


def render_summary(audit: Audit) -> str:
    """Render a compact summary for Jupyter: headline findings and criteria, no charts."""
    template = _ENVIRONMENT.get_template("summary.html.j2")
    return template.render(
        header=_header(audit),
        findings=_findings(audit),
        criteria=_criteria(audit),
        styles=_ENVIRONMENT.get_template("summary.css").render(),
    )


def _header(audit: Audit) -> dict[str, Any]:
    settings = audit.settings
    if settings.reference:
        reference = ", ".join(f"{k} = {v}" for k, v in settings.reference.items())
    else:
        reference = "the whole population (overall)"
    t = settings.four_fifths
    facts = [
        ("Decisions", f"{audit.table.rows:,}"),
        ("Kind", decision_kind(audit.table.kind).words),
        ("Sensitive features", ", ".join(audit.table.sensitive_features)),
        ("Confidence level", f"{settings.confidence * 100:g}%"),
        ("Groups compared with", reference),
        (
            "Minimum group size",
            f"{settings.min_group_size:,} decisions, and as many in a rate's denominator",
        ),
        (
            "Correction for many tests",
            CORRECTION_WORDS.get(settings.correction, settings.correction),
        ),
        ("Materiality", f"{settings.materiality * 100:g} points"),
        ("Four-fifths threshold", f"{t:g} (ratios outside {t:.2f}–{1 / t:.2f} fail)"),
    ]
    if settings.bootstrap:
        facts.append(("Bootstrap", f"{settings.bootstrap:,} replicates (seed {settings.seed})"))
    return {
        "facts": facts,
        "rows": audit.table.rows,
        "kind": decision_kind(audit.table.kind).words,
        "features": list(audit.table.sensitive_features),
    }


def _findings(audit: Audit) -> dict[str, Any]:
    significant = [f for f in audit.findings if f.severity == "material and significant"]
    material = [f for f in audit.findings if f.severity == "material, not significant"]
    not_assessed = [f for f in audit.findings if f.severity == "not assessed"]
    rows = audit.comparisons
    tested = rows[rows["asserted"]]
    return {
        "significant": significant,
        "material": material,
        "not_assessed": not_assessed,
        "headline": [METRIC_WORDS.get(m, m) for m in GAP_METRICS if m in set(rows["metric"])],
        "comparisons": len(tested),
        "other_material": int((tested["material"] & ~tested["metric"].isin(GAP_METRICS)).sum()),
    }


def _criteria(audit: Audit) -> list[dict[str, Any]]:
    blocks: dict[str, list[dict[str, Any]]] = {}
    materiality = audit.settings.materiality
    for row in audit.criteria.to_dict(orient="records"):
        name, meaning = CRITERIA_WORDS.get(str(row["criterion"]), (str(row["criterion"]), ""))
        difference = float(row["difference"])
        blocks.setdefault(str(row["grouping"]), []).append(
            {
                "name": name,
                "meaning": meaning,
                "difference": _points(difference, signed=False),
                "ratio": _number(row["ratio"], 2),
                "difference_to_overall": _points(row["difference_to_overall"], signed=False),
                "ratio_to_overall": _number(row["ratio_to_overall"], 2),
                "above": not math.isnan(difference) and difference >= materiality,
            }
        )
    return [{"grouping": grouping, "rows": rows} for grouping, rows in blocks.items()]


def _groupings(audit: Audit) -> list[dict[str, Any]]:
    full = GROUP_SEPARATOR.join(audit.table.sensitive_features)
    out = []
    for index, (name, metrics) in enumerate(audit.metrics.items()):
        charted = len(metrics.grouping) == 1 or name == full
        figures: list[Figure] = []
        if charted:
            figures = grouping_figures(
                metrics,
                audit.comparisons,
                confidence=audit.settings.confidence,
                materiality=audit.settings.materiality,
                id_prefix=f"g{index}",
            )
        rows = audit.comparisons[audit.comparisons["grouping"] == name]
        out.append(
            {
                "name": name,
                "anchor": f"grouping-{index}",
                "groups": len(metrics.groups),
                "figures": figures,
                "table": _metric_table(audit, metrics, rows),
                "summary": _summary_table(audit, name, metrics),
                "gaps": _gap_table(rows, metrics),
            }
        )
    return out


def _drivers(summary: pd.DataFrame) -> list[dict[str, Any]]:
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
                        "overall": _amount(overall[feature]),
                        "cells": [_amount(part.loc[feature, g]) for g in part.columns],
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
        f"{feature} weighs in the decisions of {high} ({_amount(top)}) but not in those of {low}."
        if math.isinf(ratio)
        else f"{feature} weighs {ratio:.1f} times as much in the decisions of {high} "
        f"({_amount(top)}) as in those of {low} ({_amount(bottom)})."
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


def _metric_table(audit: Audit, metrics: GroupMetrics, rows: pd.DataFrame) -> dict[str, Any]:
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
    overall = audit.overall.frame().iloc[0].to_dict()
    return {
        "columns": [c.replace("_", " ") for c in columns],
        "rows": body,
        "overall": {
            "count": f"{int(overall['count']):,}",
            "cells": [_value(overall[c], metric=c, metrics=metrics) for c in columns],
        },
    }


def _summary_table(audit: Audit, grouping: str, metrics: GroupMetrics) -> list[dict[str, Any]]:
    summary = audit.summary[audit.summary["grouping"] == grouping]
    out = []
    for row in summary.to_dict(orient="records"):
        metric = str(row["metric"])
        proportion = metric in metrics.proportions
        gap = partial(_points, signed=False) if proportion else _amount
        out.append(
            {
                "metric": metric.replace("_", " "),
                "difference": gap(row["difference"]),
                "ratio": _number(row["ratio"], 2),
                "difference_to_overall": gap(row["difference_to_overall"]),
                "ratio_to_overall": _number(row["ratio_to_overall"], 2),
                "p_value": _p_value(row.get("p_value_across_groups", math.nan)),
                "boot": _interval(
                    row.get("boot_difference_low", math.nan),
                    row.get("boot_difference_high", math.nan),
                    gap,
                ),
            }
        )
    return out


def _gap_table(rows: pd.DataFrame, metrics: GroupMetrics) -> list[dict[str, Any]]:
    chosen = [m for m in GAP_METRICS if m in metrics.values] or list(metrics.values)[:3]
    out = []
    for row in rows[rows["metric"].isin(chosen)].to_dict(orient="records"):
        metric = str(row["metric"])
        proportion = metric in metrics.proportions
        value = _percent if proportion else _amount
        gap = _points if proportion else _amount
        out.append(
            {
                "group": str(row["group"]),
                "count": f"{int(row['count']):,}",
                "metric": metric.replace("_", " "),
                "value": value(row["value"]),
                "value_interval": _interval(
                    row.get("value_low", math.nan), row.get("value_high", math.nan), value
                )
                or _undefined(row),
                "compared_to": f"{row['compared_to']} ({value(row['reference_value'])})",
                "difference": gap(row["difference"]),
                "difference_interval": _interval(
                    row.get("corrected_difference_low", math.nan),
                    row.get("corrected_difference_high", math.nan),
                    gap,
                ),
                "ratio": _number(row["ratio"], 2),
                "ratio_interval": _interval(
                    row.get("corrected_ratio_low", math.nan),
                    row.get("corrected_ratio_high", math.nan),
                    partial(_number, digits=2),
                ),
                "test": str(row.get("test", "")) if row.get("test") not in (None, "none") else "",
                "p_adjusted": _p_value(row.get("p_adjusted", math.nan)),
                "boot": _boot_interval(row, gap),
                "status": _status(row),
                "borderline": not bool(row.get("interval_agrees", True)),
                "marker": MARKERS.get(_status(row), ""),
            }
        )
    return out


#: The tables' words for a gap's status where they differ from the charts' legend.
_TABLE_STATUS = {"not assessed (small group)": "not assessed", "no material gap": ""}


def _status(row: Mapping[Any, Any]) -> str:
    status = gap_status(row)
    return _TABLE_STATUS.get(status, status)


def _labels(index: pd.Index[Any]) -> list[str]:
    if isinstance(index, pd.MultiIndex):
        return [GROUP_SEPARATOR.join(str(v) for v in values) for values in index]
    return [str(v) for v in index]


def _value(value: Any, *, metric: str, metrics: GroupMetrics) -> str:
    return _percent(value) if metric in metrics.proportions else _amount(value)


def _missing(value: Any) -> bool:
    try:
        return value is None or math.isnan(float(value))
    except (TypeError, ValueError):
        return True


def _percent(value: Any) -> str:
    return "–" if _missing(value) else f"{float(value) * 100:.1f}%"


def _points(value: Any, *, signed: bool = True) -> str:
    if _missing(value):
        return "–"
    return f"{float(value) * 100:+.1f} pt" if signed else f"{float(value) * 100:.1f} pt"


def _amount(value: Any) -> str:
    """Format a number in its own unit, with as many decimals as its size calls for."""
    if _missing(value):
        return "–"
    number = float(value)
    if math.isinf(number):
        return "∞"
    if abs(number) >= 1000:
        return f"{number:,.0f}"
    if abs(number) >= 10:
        return f"{number:,.1f}"
    return f"{number:.3f}"


def _number(value: Any, digits: int) -> str:
    if _missing(value):
        return "–"
    number = float(value)
    if math.isinf(number):
        return "∞"
    return f"{number:.{digits}f}"


def _interval(low: Any, high: Any, form: Any) -> str:
    if _missing(low) or _missing(high):
        return ""
    return f"{form(low)} to {form(high)}"


def _corrected_level(audit: Audit) -> float:
    levels = audit.comparisons.get("corrected_confidence")
    if levels is None or levels.empty:
        return audit.settings.confidence
    return float(levels.iloc[0])


def _undefined(row: Mapping[Any, Any]) -> str:
    reason = str(row.get("undefined") or "")
    return f"undefined ({reason})" if reason else ""


def _boot_interval(row: Mapping[Any, Any], form: Any) -> str:
    """Show the bootstrap interval of a gap, naming the analytic interval where it stands in."""
    text = _interval(
        row.get("boot_difference_low", math.nan), row.get("boot_difference_high", math.nan), form
    )
    method = row.get("boot_difference_method", "percentile")
    if text and method != "percentile":
        text += f" ({BOOT_METHOD_WORDS.get(str(method), str(method))})"
    return text


def _p_value(value: Any) -> str:
    if _missing(value):
        return "–"
    p = float(value)
    return "< 0.001" if p < 0.001 else f"{p:.3f}"
