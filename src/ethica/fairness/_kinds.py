"""Decision kinds: one record per kind says how it aggregates, what it measures and how it reads.

Binary decisions are one kind like the others; the audit looks a kind up here and never
compares its name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeAlias

from ethica.engines import Engine
from ethica.errors import InputError
from ethica.fairness._binary import binary_metrics, binary_table
from ethica.fairness._count_table import CountTable, ScoreBins
from ethica.fairness._group_metrics import GroupMetrics
from ethica.fairness._multiclass import multiclass_metrics, multiclass_table
from ethica.fairness._ranking import ranking_metrics, ranking_table
from ethica.fairness._regression import regression_metrics, regression_table
from ethica.fairness._roles import Roles


class TableBuilder(Protocol):
    """One aggregation pass into a count table of one kind."""

    def __call__(
        self,
        engine: Engine,
        source: Any,
        roles: Roles,
        *,
        pos_label: Any = None,
        score_bins: int | ScoreBins = 1000,
        options: dict[str, Any] | None = None,
    ) -> CountTable:
        """Aggregate ``source`` on ``engine`` into a count table."""


#: ``metrics(table, grouping)``: every metric of each group of one grouping.
MetricsFunction: TypeAlias = Callable[[CountTable, tuple[str, ...]], GroupMetrics]


@dataclass(frozen=True)
class DecisionKind:
    """A kind of decision the audit understands.

    Attributes
    ----------
    name
        ``"binary"``, ``"multiclass"``, ``"regression"`` or ``"ranking"``.
    words
        How a report names decisions of this kind.
    table
        Builds the count table in one aggregation pass.
    metrics
        Every metric of each group of one grouping, from the count table.
    relative
        Metrics on no fixed scale, whose gaps are material by their ratio rather than difference.
    bootstrappable
        Whether bootstrap intervals (resampling the count table) are computed for this kind.
    """

    name: str
    words: str
    table: TableBuilder
    metrics: MetricsFunction
    relative: frozenset[str] = frozenset()
    bootstrappable: bool = False


KINDS: dict[str, DecisionKind] = {
    kind.name: kind
    for kind in (
        DecisionKind(
            "binary", "binary decisions", binary_table, binary_metrics, bootstrappable=True
        ),
        DecisionKind("multiclass", "multiclass decisions", multiclass_table, multiclass_metrics),
        DecisionKind(
            "regression",
            "numeric decisions (regression)",
            regression_table,
            regression_metrics,
            relative=frozenset(
                {
                    "mean_prediction",
                    "std_prediction",
                    "median_prediction",
                    "mean_label",
                    "mean_error",
                    "mean_absolute_error",
                    "root_mean_squared_error",
                }
            ),
        ),
        DecisionKind(
            "ranking",
            "rankings",
            ranking_table,
            ranking_metrics,
            relative=frozenset({"exposure_per_item", "mean_relevance"}),
        ),
    )
}


def decision_kind(name: str) -> DecisionKind:
    """Look a kind up by name; an unknown name is an input error listing the kinds."""
    kind = KINDS.get(name)
    if kind is None:
        raise InputError(f"unknown kind {name!r}: use {', '.join(KINDS)}")
    return kind
