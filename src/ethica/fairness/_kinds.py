"""Decision kinds beyond binary: how each aggregates its count table and computes its metrics."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeAlias

from ethica.fairness._count_table import CountTable
from ethica.fairness._group_metrics import GroupMetrics
from ethica.fairness._multiclass import multiclass_metrics, multiclass_table
from ethica.fairness._ranking import ranking_metrics, ranking_table
from ethica.fairness._regression import regression_metrics, regression_table

#: ``builder(engine, source, roles, *, score_bins, options)``: one aggregation into a count table.
TableBuilder: TypeAlias = Callable[..., CountTable]
#: ``metrics(table, grouping)``: every metric of each group of one grouping.
MetricsFunction: TypeAlias = Callable[[CountTable, tuple[str, ...]], GroupMetrics]

#: Kind name -> (table builder, metrics function).
KINDS: dict[str, tuple[TableBuilder, MetricsFunction]] = {
    "multiclass": (multiclass_table, multiclass_metrics),
    "regression": (regression_table, regression_metrics),
    "ranking": (ranking_table, ranking_metrics),
}
