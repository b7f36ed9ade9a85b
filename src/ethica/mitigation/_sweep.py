"""The trade-off between accuracy (or expected profit) and the gaps between groups.

Candidates: the decisions as made, each criterion's group thresholds, and the chosen criterion's
thresholds at partial strengths (each group moved part of the way from its rate as decided to the
common one), all evaluated (in expectation) on the same count table. Each point carries
intervals: Wilson's for accuracy, Newcombe's for each gap (between the highest and the lowest
group), a normal interval for the expected profit per decision under a user-given cost matrix.
The recommendation rule is stated with the result: among the candidates whose gap on the
chosen criterion is at most ``materiality``, the best on the objective; when none is, the one
with the smallest gap.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ethica.errors import InputError
from ethica.fairness import CountTable, newcombe, wilson
from ethica.mitigation._thresholds import Criterion, group_thresholds

AS_DECIDED = "as decided"
#: The rates each criterion asks to be equal.
CRITERION_RATES: dict[str, tuple[str, ...]] = {
    "demographic_parity": ("selection_rate",),
    "equal_opportunity": ("true_positive_rate",),
    "equalized_odds": ("true_positive_rate", "false_positive_rate"),
}
RATES = ("selection_rate", "true_positive_rate", "false_positive_rate")
#: Each rate as (numerator, denominator) cells of the confusion matrix.
RATE_CELLS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "selection_rate": (("tp", "fp"), ("tp", "fp", "fn", "tn")),
    "true_positive_rate": (("tp",), ("tp", "fn")),
    "false_positive_rate": (("fp",), ("fp", "tn")),
}
CELLS = ("tp", "fp", "fn", "tn")


@dataclass(frozen=True)
class CostMatrix:
    """What one decision is worth, by its cell, in one currency unit.

    Approved and good (``tp``), approved and bad (``fp``), declined but good (``fn``),
    declined and bad (``tn``).
    """

    tp: float
    fp: float
    fn: float = 0.0
    tn: float = 0.0

    @classmethod
    def parse(cls, text: str) -> CostMatrix:
        """Read ``"tp=120,fp=-600,fn=0,tn=0"`` (``fn`` and ``tn`` default to 0)."""
        values: dict[str, float] = {}
        for part in text.split(","):
            name, _, number = part.partition("=")
            name = name.strip().lower()
            if name not in CELLS or not number.strip():
                raise InputError(
                    f"a cost matrix reads tp=VALUE,fp=VALUE[,fn=VALUE,tn=VALUE]; got {text!r}"
                )
            try:
                values[name] = float(number)
            except ValueError:
                raise InputError(f"{name}={number!r} is not a number") from None
        if "tp" not in values or "fp" not in values:
            raise InputError(f"a cost matrix needs at least tp and fp; got {text!r}")
        if not all(math.isfinite(v) for v in values.values()):
            raise InputError("the values of a cost matrix are finite numbers")
        return cls(**values)

    def as_dict(self) -> dict[str, float]:
        """Return the values by cell."""
        return {"tp": self.tp, "fp": self.fp, "fn": self.fn, "tn": self.tn}


@dataclass(frozen=True)
class TradeOff:
    """Candidates with their objective, gaps and intervals, Pareto membership, the recommended.

    ``objective`` is ``"accuracy"``, or ``"profit"`` (expected profit per decision) when a
    cost matrix was given.
    """

    criterion: str
    points: pd.DataFrame
    recommended: str
    rule: str
    objective: str = "accuracy"
    confidence: float = 0.95
    costs: dict[str, float] | None = field(default=None)


def trade_off(
    table: CountTable,
    *,
    criterion: Criterion,
    materiality: float = 0.05,
    costs: CostMatrix | None = None,
    confidence: float = 0.95,
    strengths: Sequence[float] = (0.25, 0.5, 0.75),
) -> TradeOff:
    """Sweep the candidates and mark the Pareto frontier of the objective vs the criterion's gap.

    Parameters
    ----------
    table
        A binary count table with labels and scores.
    criterion
        The criterion whose gap the recommendation bounds.
    materiality
        The largest gap the recommended candidate may have.
    costs
        A cost matrix: the objective becomes the expected profit per decision.
    confidence
        Level of every interval.
    strengths
        Partial strengths (in (0, 1)) of the chosen criterion's thresholds to sweep too; none
        for equalized odds, whose two rates move together only all the way.
    """
    if not all(0.0 < s < 1.0 for s in strengths):
        raise InputError(f"strengths are shares strictly between 0 and 1; got {list(strengths)}")
    rows = []
    names: tuple[Criterion, ...] = ("demographic_parity", "equal_opportunity", "equalized_odds")
    for index, name in enumerate(names):
        expected = group_thresholds(table, criterion=name).expected
        if index == 0:
            rows.append(_row(AS_DECIDED, expected, "_before", costs, confidence) | {"strength": 0})
        rows.append(_row(f"thresholds: {name}", expected, "", costs, confidence) | {"strength": 1})
        if name != criterion or name == "equalized_odds":
            continue
        for strength in sorted(strengths):
            partial = group_thresholds(table, criterion=name, strength=strength).expected
            said = f"thresholds: {name} at {strength:.0%}"
            rows.append(_row(said, partial, "", costs, confidence) | {"strength": strength})
    points = pd.DataFrame(rows)
    objective = "accuracy" if costs is None else "profit"
    gap = points[[f"{r}_gap" for r in CRITERION_RATES[criterion]]].max(axis=1)
    points["criterion_gap"] = gap
    value = points[objective]
    points["pareto"] = [
        not ((gap <= g) & (value >= a) & ((gap < g) | (value > a))).any()
        for g, a in zip(gap, value, strict=True)
    ]
    within = (gap <= materiality).to_numpy()
    if within.any():
        best = np.where(within, value.to_numpy(float), -np.inf)
        chosen = points["candidate"].iloc[int(np.argmax(best))]
    else:
        chosen = points["candidate"].iloc[int(np.argmin(gap.to_numpy(float)))]
    said = "most accurate" if costs is None else "most profitable (expected, per decision)"
    rule = (
        f"the {said} candidate whose {criterion.replace('_', ' ')} gap is at most "
        f"{materiality:g}; if none is, the one with the smallest gap"
    )
    return TradeOff(
        criterion=criterion,
        points=points,
        recommended=str(chosen),
        rule=rule,
        objective=objective,
        confidence=confidence,
        costs=None if costs is None else costs.as_dict(),
    )


def _row(
    name: str,
    expected: pd.DataFrame,
    suffix: str,
    costs: CostMatrix | None,
    confidence: float,
) -> dict[str, object]:
    groups = expected[expected["group"] != "overall"]
    overall = expected[expected["group"] == "overall"].iloc[0]
    cells = {c: float(overall[f"{c}{suffix}"]) for c in CELLS}
    n = sum(cells.values())
    low, high = wilson(cells["tp"] + cells["tn"], n, confidence)
    row: dict[str, object] = {
        "candidate": name,
        "accuracy": float(overall[f"accuracy{suffix}"]),
        "accuracy_low": float(low),
        "accuracy_high": float(high),
    }
    if costs is not None:
        row |= _profit(cells, costs, confidence)
    for rate in RATES:
        values = groups[f"{rate}{suffix}"].to_numpy(float)
        top, bottom = int(np.nanargmax(values)), int(np.nanargmin(values))
        top_x, top_n = _cells(groups.iloc[top], rate, suffix)
        bottom_x, bottom_n = _cells(groups.iloc[bottom], rate, suffix)
        gap_low, gap_high = newcombe(top_x, top_n, bottom_x, bottom_n, confidence)
        row[f"{rate}_gap"] = float(values[top] - values[bottom])
        row[f"{rate}_gap_low"] = float(gap_low)
        row[f"{rate}_gap_high"] = float(gap_high)
    return row


def _cells(group: pd.Series[Any], rate: str, suffix: str) -> tuple[float, float]:
    numerator, denominator = RATE_CELLS[rate]
    x = float(sum(group[f"{c}{suffix}"] for c in numerator))
    n = float(sum(group[f"{c}{suffix}"] for c in denominator))
    return x, n


def _profit(cells: Mapping[str, float], costs: CostMatrix, confidence: float) -> dict[str, float]:
    """Return the expected profit per decision with its normal interval."""
    from ethica.fairness._intervals import z_value

    values = costs.as_dict()
    n = sum(cells.values())
    mean = sum(values[c] * cells[c] for c in CELLS) / n
    variance = sum(cells[c] * (values[c] - mean) ** 2 for c in CELLS) / n
    half = z_value(confidence) * math.sqrt(variance / n)
    return {"profit": mean, "profit_low": mean - half, "profit_high": mean + half}
