"""A post-processing policy: per group, a (randomised) threshold rule, and what it yields.

The expected rates under the policy come from the same count table the thresholds came from,
so they are the numbers an audit of the post-processed decisions would report in expectation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from ethica.errors import InputError
from ethica.fairness import CountTable
from ethica.mitigation._score_curves import FloatArray, ScoreCurve, score_curves


@dataclass(frozen=True)
class GroupRule:
    """Select with probability p0 when score > threshold0, p1 when score > threshold1 (summed).

    With probability ``p_ignore`` that decision is replaced by a draw selecting with probability
    ``constant`` (equalized odds only).
    """

    group: str
    p0: float
    threshold0: float
    p1: float
    threshold1: float
    p_ignore: float = 0.0
    constant: float = 0.0

    def probability(self, scores: npt.ArrayLike) -> FloatArray:
        """Probability of a favourable decision for each score."""
        values = np.asarray(scores, dtype=np.float64)
        thresholded = self.p0 * (values > self.threshold0) + self.p1 * (values > self.threshold1)
        return (1 - self.p_ignore) * thresholded + self.p_ignore * self.constant

    @property
    def randomised(self) -> bool:
        """Whether two customers with the same score in this group may get different decisions."""
        mixed = 0.0 < self.p0 < 1.0 and self.threshold0 != self.threshold1
        return bool(mixed or self.p_ignore > 0.0)


@dataclass(frozen=True)
class ThresholdPolicy:
    """Group-specific thresholds chosen for a criterion, and their expected effect.

    Attributes
    ----------
    criterion, objective
        What the thresholds equalise and what they maximise.
    sensitive_features
        The features whose values (their intersection) pick a customer's rule.
    rules
        One :class:`GroupRule` per group name (values joined by " × ").
    rate
        The common value of the equalised rate (the false positive rate for equalized odds).
    strength
        How far each group moved from its rate as decided towards ``rate`` (1: all the way).
    objective_value
        The objective the policy reaches on the table, in expectation.
    curves
        The table's score curves the rules were chosen on (what :attr:`expected` reads).
    """

    criterion: str
    objective: str
    sensitive_features: tuple[str, ...]
    rules: Mapping[str, GroupRule]
    rate: float
    objective_value: float
    strength: float = 1.0
    curves: Sequence[ScoreCurve] = field(default=(), repr=False, compare=False)

    #: Group thresholds use a protected attribute at decision time (see guard rails).
    uses_protected_attribute = True

    @classmethod
    def build(
        cls,
        table: CountTable,
        criterion: str,
        objective: str,
        rules: Mapping[str, GroupRule],
        *,
        rate: float,
        objective_value: float,
        curves: Sequence[ScoreCurve] | None = None,
        strength: float = 1.0,
    ) -> ThresholdPolicy:
        """Assemble a policy of ``table`` (its ``curves``, when the caller has them already)."""
        return cls(
            criterion=criterion,
            objective=objective,
            sensitive_features=table.sensitive_features,
            rules=dict(rules),
            rate=rate,
            objective_value=objective_value,
            strength=strength,
            curves=tuple(score_curves(table) if curves is None else curves),
        )

    @cached_property
    def expected(self) -> pd.DataFrame:
        """Rates per group (and ``"overall"``) before and after the rules, in expectation.

        Rows, selection rate, true and false positive rates and accuracy, before (``*_before``,
        from the recorded decisions) and after. Computed when first read: choosing the
        thresholds does not need them.
        """
        return expected_rates(self.rules, self.curves)

    def probability(self, scores: npt.ArrayLike, groups: Sequence[str]) -> FloatArray:
        """Probability of a favourable decision for each (score, group name) pair."""
        values = np.asarray(scores, dtype=np.float64)
        names = np.asarray(groups, dtype=object)
        unknown = sorted(set(names.tolist()) - set(self.rules))
        if unknown:
            raise InputError(
                f"no threshold for group(s) {unknown[:5]}; known: {sorted(self.rules)}"
            )
        out = np.empty(len(values), dtype=np.float64)
        for name, rule in self.rules.items():
            mask = names == name
            out[mask] = rule.probability(values[mask])
        return out

    def decide(
        self, scores: npt.ArrayLike, groups: Sequence[str], *, seed: int = 0
    ) -> npt.NDArray[np.bool_]:
        """Draw the favourable decisions (randomised rules draw with ``seed``)."""
        chance = self.probability(scores, groups)
        return np.random.default_rng(seed).random(len(chance)) < chance

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready form of the policy."""
        return {
            "criterion": self.criterion,
            "objective": self.objective,
            "sensitive_features": list(self.sensitive_features),
            "rate": self.rate,
            "strength": self.strength,
            "objective_value": self.objective_value,
            "rules": [rule.__dict__ for rule in self.rules.values()],
            "expected": self.expected.to_dict(orient="records"),
        }


def expected_rates(rules: Mapping[str, GroupRule], curves: Sequence[ScoreCurve]) -> pd.DataFrame:
    """Rates per group before (recorded decisions) and after the rules, in expectation.

    ``curves``: the :func:`score_curves` of the table the rules apply to.
    """
    # One row per group, then overall; columns TP, FP, FN, TN.
    before = np.zeros((len(curves) + 1, 4))
    after = np.zeros((len(curves) + 1, 4))
    for index, curve in enumerate(curves):
        chance = rules[curve.group].probability(curve.scores)
        tp = float(np.dot(chance, curve.positives))
        fp = float(np.dot(chance, curve.negatives))
        after[index] = tp, fp, curve.positives.sum() - tp, curve.negatives.sum() - fp
        before[index] = curve.recorded
        # The overall counts add up group after group, as the groups are listed.
        after[-1] += after[index]
        before[-1] += before[index]
    before_rates, after_rates = _rates(before), _rates(after)
    del before_rates["n"]
    return pd.DataFrame(
        {
            "group": [curve.group for curve in curves] + ["overall"],
            **{f"{name}_before": values for name, values in before_rates.items()},
            "rows": after_rates.pop("n"),
            **after_rates,
        }
    )


def _rates(counts: FloatArray) -> dict[str, FloatArray]:
    """Rates and counts of each row of (TP, FP, FN, TN); a rate with no rows to divide is NaN."""
    tp, fp, fn, tn = counts.T
    n = tp + fp + fn + tn
    out = {
        "selection_rate": _ratio(tp + fp, n),
        "true_positive_rate": _ratio(tp, tp + fn),
        "false_positive_rate": _ratio(fp, fp + tn),
        "accuracy": _ratio(tp + tn, n),
    }
    # The expected counts too: intervals and expected profit rest on them.
    return {**out, "tp": tp, "fp": fp, "fn": fn, "tn": tn, "n": n}


def _ratio(part: FloatArray, whole: FloatArray) -> FloatArray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(whole != 0, part / whole, np.nan)


def rules_from_dicts(rules: Sequence[Mapping[str, Any]]) -> dict[str, GroupRule]:
    """Rebuild a policy's rules from their JSON form (``ThresholdPolicy.to_dict()["rules"]``).

    Each rule is checked: probabilities in [0, 1], numeric thresholds, one rule per group.
    """
    if not rules:
        raise InputError("a threshold policy needs at least one group's rule")
    built: dict[str, GroupRule] = {}
    for index, data in enumerate(rules):
        try:
            rule = GroupRule(
                group=str(data["group"]),
                p0=float(data["p0"]),
                threshold0=float(data["threshold0"]),
                p1=float(data["p1"]),
                threshold1=float(data["threshold1"]),
                p_ignore=float(data.get("p_ignore", 0.0)),
                constant=float(data.get("constant", 0.0)),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise InputError(
                f"rule {index} is not a group rule (group, p0, threshold0, p1, threshold1): {error}"
            ) from None
        chances = (rule.p0, rule.p1, rule.p_ignore, rule.constant)
        if not all(0.0 <= p <= 1.0 for p in chances) or abs(rule.p0 + rule.p1 - 1.0) > 1e-9:
            raise InputError(
                f"rule of group {rule.group!r}: p0, p1, p_ignore and constant are probabilities "
                "and p0 + p1 is 1"
            )
        if rule.group in built:
            raise InputError(f"group {rule.group!r} has two rules; give one per group")
        built[rule.group] = rule
    return built
