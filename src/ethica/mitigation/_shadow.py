"""Compare the decisions served with those a candidate mitigation made beside them, in shadow.

Per protected attribute: each group's selection rate under both, with Wilson intervals, and the
gap between the highest and lowest group with Newcombe's interval; how often the two agree; and,
where true outcomes arrived, the accuracy of each. The same numbers an audit of the stored
decisions reports (tested against :func:`ethica.fairness.audit`).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ethica.errors import InputError
from ethica.fairness import newcombe, wilson

SIDES = ("served", "candidate")


@dataclass(frozen=True)
class Proportion:
    """A share with its interval (NaN when nothing was counted)."""

    successes: int
    trials: int
    value: float
    low: float
    high: float

    @classmethod
    def of(cls, successes: int, trials: int, confidence: float) -> Proportion:
        """Return the share ``successes / trials`` with its Wilson interval."""
        low, high = wilson(successes, trials, confidence)
        value = successes / trials if trials else math.nan
        return cls(int(successes), int(trials), value, float(low), float(high))


@dataclass(frozen=True)
class ShadowComparison:
    """The shadow comparison of served and candidate decisions.

    Attributes
    ----------
    rows
        Decisions compared.
    sensitive_features
        The protected attributes the groups come from (each on its own).
    groups
        One row per attribute and group: ``rows`` and, per side, ``{side}_rate``,
        ``{side}_low`` and ``{side}_high`` (selection rate and its interval).
    gaps
        One row per attribute and side: ``gap`` (highest minus lowest group's selection
        rate), ``low``, ``high`` (Newcombe's interval) and the two groups it lies between.
    agreement
        The share of decisions on which candidate and served decision agree.
    accuracy
        Per side, the share of decisions with a true outcome that the side got right
        (``trials`` 0 when no outcome has arrived).
    confidence
        Level of every interval.
    """

    rows: int
    sensitive_features: tuple[str, ...]
    groups: pd.DataFrame
    gaps: pd.DataFrame
    agreement: Proportion
    accuracy: dict[str, Proportion]
    confidence: float

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready form (NaN as None)."""
        return {
            "rows": self.rows,
            "sensitive_features": list(self.sensitive_features),
            "confidence": self.confidence,
            "groups": _records(self.groups),
            "gaps": _records(self.gaps),
            "agreement": _clean(self.agreement.__dict__),
            "accuracy": {side: _clean(p.__dict__) for side, p in self.accuracy.items()},
        }

    @property
    def digest(self) -> str:
        """SHA-256 of the comparison's JSON form: what a promotion cites as its evidence."""
        text = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


def compare_decisions(
    data: pd.DataFrame,
    *,
    sensitive_features: Sequence[str],
    served: str = "served",
    candidate: str = "candidate",
    label: str | None = "label",
    confidence: float = 0.95,
) -> ShadowComparison:
    """Compare served and candidate decisions (0/1 columns) by each sensitive feature.

    Parameters
    ----------
    data
        One row per decision.
    sensitive_features
        Columns of the groups; each is compared on its own.
    served, candidate
        Columns of the favourable (1) or not (0) decisions served and made in shadow.
    label
        Column of the true outcome (1 favourable, 0 not, missing where none arrived), or None.
    confidence
        Level of the intervals.
    """
    features = tuple(sensitive_features)
    needed = [*features, served, candidate, *([label] if label else [])]
    missing = [c for c in needed if c not in data.columns]
    if missing:
        raise InputError(f"the decisions lack column(s) {missing}; they have {list(data.columns)}")
    if data.empty:
        raise InputError("no decision has been made in shadow yet: nothing to compare")
    decided = {
        side: data[column].astype(np.int64)
        for side, column in zip(SIDES, (served, candidate), strict=True)
    }
    groups, gaps = [], []
    for feature in features:
        keys = data[feature].fillna("missing").astype(str)
        rows = keys.value_counts().sort_index()
        selected = {side: decided[side].groupby(keys).sum().reindex(rows.index) for side in SIDES}
        for name in rows.index:
            row: dict[str, Any] = {"attribute": feature, "group": name, "rows": int(rows[name])}
            for side in SIDES:
                share = Proportion.of(int(selected[side][name]), int(rows[name]), confidence)
                row |= {
                    f"{side}_rate": share.value,
                    f"{side}_low": share.low,
                    f"{side}_high": share.high,
                }
            groups.append(row)
        for side in SIDES:
            gaps.append(
                {"attribute": feature, "side": side, **_gap(selected[side], rows, confidence)}
            )
    agreement = Proportion.of(
        int((decided["served"] == decided["candidate"]).sum()), len(data), confidence
    )
    accuracy: dict[str, Proportion] = {}
    truth = data[label] if label else pd.Series(np.nan, index=data.index)
    known = truth.notna()
    for side in SIDES:
        right = int((decided[side][known] == truth[known].astype(np.int64)).sum())
        accuracy[side] = Proportion.of(right, int(known.sum()), confidence)
    return ShadowComparison(
        rows=len(data),
        sensitive_features=features,
        groups=pd.DataFrame(groups),
        gaps=pd.DataFrame(gaps),
        agreement=agreement,
        accuracy=accuracy,
        confidence=confidence,
    )


def _gap(selected: pd.Series[Any], rows: pd.Series[Any], confidence: float) -> dict[str, Any]:
    rates = selected / rows
    high, low = str(rates.idxmax()), str(rates.idxmin())
    interval = newcombe(selected[high], rows[high], selected[low], rows[low], confidence)
    return {
        "gap": float(rates[high] - rates[low]),
        "low": float(interval[0]),
        "high": float(interval[1]),
        "highest_group": high,
        "lowest_group": low,
    }


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    return {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in values.items()}


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [_clean({str(k): v for k, v in row.items()}) for row in frame.to_dict(orient="records")]
