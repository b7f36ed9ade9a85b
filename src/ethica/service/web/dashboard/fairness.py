"""The fairness snapshot of a system's live decisions, as the dashboard shows it.

The audit engine does the work (:func:`ethica.service.decisions.live_audit.audit_live_decisions`);
this module picks its headline gaps — the share of each group given each outcome (or, for a
ranking, shown in the top places) — with their intervals, its findings in words, and its charts.
"""

from __future__ import annotations

import math
import re
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from ethica.errors import InputError
from ethica.fairness import Audit
from ethica.fairness._charts import grouping_figures
from ethica.fairness._count_table import group_order
from ethica.fairness._findings import METRIC_WORDS, metric_family
from ethica.fairness._svg import Figure
from ethica.governance import RankingDecision, parse_spec
from ethica.service.decisions.live_audit import audit_live_decisions_noted
from ethica.service.settings import Settings
from ethica.service.systems.tables import System
from ethica.service.web.dashboard.words import humanised

#: The periods an officer can look back over, in days.
PERIODS = (7, 30, 90)
#: The metric families whose gaps the snapshot shows (the rest are in a full audit report).
HEADLINE = ("selection_rate", "in_top_k")


@dataclass(frozen=True)
class GroupGap:
    """One group's value of a metric and its gap to the comparison, each with an interval."""

    group: str
    count: int
    value: float
    value_low: float
    value_high: float
    compared_to: str
    reference_value: float
    difference: float
    difference_low: float
    difference_high: float
    ratio: float
    ratio_low: float
    ratio_high: float
    status: str
    badge: str


@dataclass(frozen=True)
class GapTable:
    """The groups of one grouping (``sex``, ``sex × age_band``) in one metric."""

    grouping: str
    metric: str
    words: str
    groups: list[GroupGap]

    @property
    def crossed(self) -> bool:
        """Whether the grouping crosses attributes (``sex × age band``): a group per combination."""
        return " × " in self.grouping


@dataclass(frozen=True)
class FairnessSnapshot:
    """What the system page shows of an audit of the period's decisions."""

    decisions: int
    confidence: float
    materiality: float
    tables: list[GapTable]
    findings: list[str]
    figures: list[Figure]
    notes: list[str] = field(default_factory=list)


def ranking_items(system: System) -> list[str]:
    """The items a ranking system declares (audited one at a time); empty for other kinds."""
    decision = parse_spec(system.spec).decision
    if isinstance(decision, RankingDecision) and decision.items:
        return list(decision.items)
    return []


def live_snapshot(
    session: Session,
    *,
    settings: Settings,
    system: System,
    days: int,
    now: datetime,
    item: str | None = None,
) -> FairnessSnapshot:
    """Audit the system's decisions of the last ``days`` days and take the snapshot.

    Raises InputError when there is nothing to audit (no decisions in the period, no protected
    attributes declared, a kind the audit engine does not cover).
    """
    if days not in PERIODS:
        raise InputError(f"the period is {', '.join(map(str, PERIODS))} days; got {days}")
    # What the audit warns about (e.g. customers who did not disclose an attribute, audited as
    # the group "missing") is shown on the page, not lost in a log.
    result, notes = audit_live_decisions_noted(
        session,
        database_url=settings.database.url,
        system_id=system.id,
        master_key=settings.ledger.master_key_bytes,
        since=now - timedelta(days=days),
        item=item,
    )
    taken = snapshot(result, id_prefix=f"fairness-{system.id}")
    return replace(taken, notes=notes)


def snapshot(result: Audit, *, id_prefix: str) -> FairnessSnapshot:
    """The headline gaps, findings and charts of an audit."""
    if result.table.rows == 0:
        raise InputError("there are no decisions in this period to audit")
    settings = result.settings
    rows = result.comparisons[result.comparisons["metric"].map(metric_family).isin(HEADLINE)]
    tables = [
        GapTable(
            grouping=str(grouping),
            metric=str(metric),
            words=_words(str(metric)),
            groups=sorted(
                (_gap(row) for row in part.to_dict(orient="records")),
                key=lambda gap: group_order(gap.group),
            ),
        )
        for (grouping, metric), part in rows.groupby(["grouping", "metric"], sort=False)
    ]
    singles = [name for name in result.metrics if " × " not in name]
    figures = [
        figure
        for name in singles
        for figure in grouping_figures(
            result.metrics[name],
            result.comparisons,
            confidence=settings.confidence,
            materiality=settings.materiality,
            id_prefix=f"{id_prefix}-{name}",
        )[:2]
    ]
    # Attributes named like ids (age_band) read as words on the page: the audit keeps the names.
    names = {n for name in result.metrics for n in name.split(" × ") if "_" in n}
    return FairnessSnapshot(
        decisions=int(result.table.rows),
        confidence=settings.confidence,
        materiality=settings.materiality,
        tables=[replace(t, grouping=_readable(t.grouping, names)) for t in tables],
        findings=[_readable(finding.text, names) for finding in result.findings],
        figures=[
            replace(
                f,
                title=_readable(f.title, names),
                caption=_readable(f.caption, names),
                svg=_TEXT.sub(lambda m: _readable(m.group(0), names), f.svg),
            )
            for f in figures
        ],
    )


#: The text between an SVG's tags (ids and references in its attributes keep the names).
_TEXT = re.compile(r">[^<]+<")


def _readable(text: str, names: set[str]) -> str:
    """``text`` with each attribute name that reads as an id (``age_band``) in words."""
    for name in sorted(names, key=len, reverse=True):
        text = text.replace(name, humanised(name))
    return text


def _words(metric: str) -> str:
    family = metric_family(metric)
    inside = metric[len(family) + 1 : -1] if "[" in metric else ""
    if family == "in_top_k":
        return f"share shown in the top {inside}"
    if family == "selection_rate" and inside:
        return f"share decided “{inside}”"
    return METRIC_WORDS.get(family, family.replace("_", " "))


def _gap(row: Mapping[Hashable, Any]) -> GroupGap:
    status, badge = _status(row)
    return GroupGap(
        group=str(row["group"]),
        count=int(row["count"]),
        value=_number(row["value"]),
        value_low=_number(row["value_low"]),
        value_high=_number(row["value_high"]),
        compared_to=str(row["compared_to"]),
        reference_value=_number(row["reference_value"]),
        difference=_number(row["difference"]),
        # The gaps' intervals at the corrected level, as the status's corrected test uses, so
        # an interval and its "significant" never disagree (the audit report does the same).
        difference_low=_number(row.get("corrected_difference_low", row["difference_low"])),
        difference_high=_number(row.get("corrected_difference_high", row["difference_high"])),
        ratio=_number(row["ratio"]),
        ratio_low=_number(row.get("corrected_ratio_low", row["ratio_low"])),
        ratio_high=_number(row.get("corrected_ratio_high", row["ratio_high"])),
        status=status,
        badge=badge,
    )


def _status(row: Mapping[Hashable, Any]) -> tuple[str, str]:
    """How the gap was judged, in words, and the badge that shows it (never colour alone)."""
    if row["compared_to"] != "overall" and row["group"] == row["compared_to"]:
        return "comparison group", "neutral"
    if not bool(row["asserted"]):
        return "not assessed (small group)", "neutral"
    if bool(row["material"]) and bool(row["significant"]):
        return "material and significant", "bad"
    if bool(row["material"]):
        return "material, not significant", "warn"
    return "no material gap", "ok"


def _number(value: Any) -> float:
    return math.nan if value is None else float(value)
