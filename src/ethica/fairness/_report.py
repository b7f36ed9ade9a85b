"""The audit as HTML: a self-contained report with charts, and a compact summary for notebooks.

The report is written generically over the audit's tables (``metrics``, ``comparisons``,
``summary``, ``criteria``), so every kind of decision gets one; charts appear only when the
metrics they show exist. Each grouping's tables are built in :mod:`._report_tables`, the
section on what drives the decisions in :mod:`._report_drivers`.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any, Protocol

import jinja2
import pandas as pd

from ethica.fairness._bootstrap import MIN_OUTCOMES
from ethica.fairness._charts import GAP_METRICS, grouping_figures
from ethica.fairness._count_table import GROUP_SEPARATOR, CountTable
from ethica.fairness._disparities import Settings
from ethica.fairness._findings import Finding
from ethica.fairness._glossary import (
    BORDERLINE,
    CORRECTION_WORDS,
    CRITERIA_WORDS,
    METRIC_WORDS,
    confidence_words,
)
from ethica.fairness._group_metrics import GroupMetrics
from ethica.fairness._kinds import decision_kind
from ethica.fairness._number_words import number, points
from ethica.fairness._report_drivers import drivers
from ethica.fairness._report_tables import gap_table, metric_table, summary_table
from ethica.fairness._svg import Figure


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


_ENVIRONMENT = jinja2.Environment(
    loader=jinja2.PackageLoader("ethica.fairness", "templates"),
    autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


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
        drivers=None if attributions is None else drivers(attributions),
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
                "difference": points(difference, signed=False),
                "ratio": number(row["ratio"], 2),
                "difference_to_overall": points(row["difference_to_overall"], signed=False),
                "ratio_to_overall": number(row["ratio_to_overall"], 2),
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
                "table": metric_table(metrics, rows, overall=audit.overall),
                "summary": summary_table(audit.summary[audit.summary["grouping"] == name], metrics),
                "gaps": gap_table(rows, metrics),
            }
        )
    return out


def _corrected_level(audit: Audit) -> float:
    levels = audit.comparisons.get("corrected_confidence")
    if levels is None or levels.empty:
        return audit.settings.confidence
    return float(levels.iloc[0])
