"""Assess disparities between groups of customers in decisions, from one count table.

The entry point is :func:`audit`; :func:`count_table` exposes the aggregation pass on its own
(count tables of shards or time windows merge). Gaps are assessed, never "removed": no tool
makes a system fair.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ethica._lazy import lazy_attributes

if TYPE_CHECKING:
    from ethica.fairness._audit import assess, audit, count_table
    from ethica.fairness._count_table import CountTable, MissingGroupWarning
    from ethica.fairness._disparities import CRITERIA, Settings
    from ethica.fairness._findings import Finding
    from ethica.fairness._group_metrics import GroupMetrics
    from ethica.fairness._intervals import katz_ratio, newcombe, wilson
    from ethica.fairness._plan import ScoreBins
    from ethica.fairness._result import Audit
    from ethica.fairness._significance import adjust

# Loaded on first use: pandas and the engines cost a second, and the command line answers
# ``--help`` or a wrong argument without them.
_WHERE = {
    "assess": "_audit",
    "audit": "_audit",
    "count_table": "_audit",
    "CountTable": "_count_table",
    "MissingGroupWarning": "_count_table",
    "ScoreBins": "_plan",
    "CRITERIA": "_disparities",
    "Settings": "_disparities",
    "Finding": "_findings",
    "GroupMetrics": "_group_metrics",
    "katz_ratio": "_intervals",
    "newcombe": "_intervals",
    "wilson": "_intervals",
    "Audit": "_result",
    "adjust": "_significance",
}

__all__ = [
    "CRITERIA",
    "Audit",
    "CountTable",
    "Finding",
    "GroupMetrics",
    "MissingGroupWarning",
    "ScoreBins",
    "Settings",
    "adjust",
    "assess",
    "audit",
    "count_table",
    "katz_ratio",
    "newcombe",
    "wilson",
]


__getattr__, __dir__ = lazy_attributes("ethica.fairness", _WHERE, globals(), __all__)
