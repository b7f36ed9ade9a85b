"""Assess disparities between groups of customers in decisions, from one count table.

The entry point is :func:`audit`; :func:`count_table` exposes the aggregation pass on its own
(count tables of shards or time windows merge). Gaps are assessed, never "removed": no tool
makes a system fair.
"""

from ethica.fairness._audit import assess, audit, count_table
from ethica.fairness._count_table import CountTable, MissingGroupWarning, ScoreBins
from ethica.fairness._disparities import CRITERIA, Settings
from ethica.fairness._findings import Finding
from ethica.fairness._group_metrics import GroupMetrics
from ethica.fairness._intervals import katz_ratio, newcombe, wilson
from ethica.fairness._result import Audit
from ethica.fairness._significance import adjust

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
