"""Counterfactuals: the smallest changes the customer could make that would change the decision.

Only actionable features change; a feature with a declared direction moves only the way that
favours the customer; values stay within the spec's [minimum, maximum], else the training range.
Every option is verified by scoring the changed features with the system's own model.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ethica.errors import InputError
from ethica.governance import BinaryDecision, FeatureSpec
from ethica.scoring import Scorer

#: Bisection steps that shrink a numeric change found on the grid.
_REFINE_STEPS = 12


@dataclass(frozen=True)
class Counterfactual:
    """One set of changes that turns the adverse outcome into the favourable one.

    Attributes
    ----------
    changes
        Per feature, its (current, changed) values.
    score
        The model's score with the changes, as the scorer computed it.
    outcome
        The outcome with the changes (the favourable one).
    cost
        The size of the changes: a numeric change counts as its share of the feature's range,
        a category or yes/no change as 1.
    """

    changes: dict[str, tuple[Any, Any]]
    score: float
    outcome: str
    cost: float

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready copy."""
        return {
            "changes": {
                name: {"from": _plain(before), "to": _plain(after)}
                for name, (before, after) in self.changes.items()
            },
            "score": self.score,
            "outcome": self.outcome,
            "cost": self.cost,
        }


@dataclass(frozen=True)
class _Candidates:
    feature: FeatureSpec
    start: Any
    values: list[Any]  # ordered from the smallest change to the largest
    costs: list[float]
    width: float = 1.0  # the range a numeric change is measured against
    numeric: bool = False

    def cost(self, value: Any) -> float:
        if self.numeric:
            return abs(float(value) - float(self.start)) / self.width
        return 1.0


_Flips = Callable[[Mapping[str, Any]], bool]


def counterfactuals(
    scorer: Scorer,
    features: Mapping[str, Any],
    *,
    ranges: Mapping[str, tuple[float, float]] | None = None,
    max_options: int = 3,
    grid_size: int = 24,
    pair_grid_size: int = 8,
) -> list[Counterfactual]:
    """Find diverse smallest changes over actionable features that reverse an adverse decision.

    Single-feature changes are searched on a grid and shrunk by bisection; pairs of features on
    a coarser grid, then shrunk one feature at a time. A numeric value is then rounded to the
    coarsest step (10, 1, 0.1, ...) that still reverses the decision, so the customer reads
    "150", not "147.2508". An option is dropped when another one changes a subset of its
    features by no more, so that each option is needed as it stands.

    Parameters
    ----------
    scorer
        The system's model bound to its spec (a binary decision).
    features
        The features the model received.
    ranges
        Observed range per numeric feature, used where the spec gives no minimum or maximum;
        a numeric feature with no bound in the direction it may move is not changed.
    max_options
        At most this many options, cheapest first.
    grid_size, pair_grid_size
        Candidate values per numeric feature in the single and the pair searches.

    Returns
    -------
    list of Counterfactual
        Empty when the decision is already favourable or no allowed change reverses it.
    """
    decision = scorer.spec.decision
    if not isinstance(decision, BinaryDecision):
        raise InputError("counterfactuals are computed for binary decisions only")
    if max_options < 1 or grid_size < 1 or pair_grid_size < 1:
        raise InputError("max_options, grid_size and pair_grid_size must be at least 1")
    adverse = decision.adverse_outcome
    current = dict(features)
    if scorer.score(current).outcome != adverse:
        return []
    candidates = [
        c
        for f in scorer.spec.features
        if (c := _candidates(f, current.get(f.name), ranges or {}, grid_size)) is not None
    ]

    def flips(changes: Mapping[str, Any]) -> bool:
        return scorer.score({**current, **changes}).outcome != adverse

    singles: dict[str, Any] = {}
    options: list[dict[str, Any]] = []
    for candidate in candidates:
        found = _single(candidate, flips)
        if found is not None:
            singles[candidate.feature.name] = found
            options.append({candidate.feature.name: found})
    for first, second in itertools.combinations(candidates, 2):
        pair = _pair(_thin(first, pair_grid_size), _thin(second, pair_grid_size), flips, singles)
        if pair is not None:
            options.append(pair)
    by_name = {c.feature.name: c for c in candidates}

    def cost(changes: Mapping[str, Any]) -> float:
        return sum(by_name[name].cost(value) for name, value in changes.items())

    chosen: list[Counterfactual] = []
    for changes in sorted(options, key=lambda option: (cost(option), sorted(option))):
        if any(_dominates(kept.changes, changes, current) for kept in chosen):
            continue
        scored = scorer.score({**current, **changes})
        if scored.outcome == adverse:  # pragma: no cover - the search keeps reversals only
            continue
        chosen.append(
            Counterfactual(
                changes={n: (current[n], v) for n, v in changes.items()},
                score=scored.score,
                outcome=scored.outcome,
                cost=cost(changes),
            )
        )
        if len(chosen) == max_options:
            break
    return chosen


def _candidates(
    feature: FeatureSpec,
    value: Any,
    ranges: Mapping[str, tuple[float, float]],
    grid_size: int,
) -> _Candidates | None:
    if not feature.actionable or value is None:
        return None
    if feature.type == "boolean":
        allowed = {"increasing": [True], "decreasing": [False]}.get(
            feature.direction, [True, False]
        )
        flips: list[Any] = [v for v in allowed if v != bool(value)]
        return _Candidates(feature, value, flips, [1.0] * len(flips)) if flips else None
    if feature.type == "category":
        others: list[Any] = [c for c in feature.categories or [] if c != value]
        return _Candidates(feature, value, others, [1.0] * len(others)) if others else None
    if feature.type not in ("number", "integer"):
        return None
    low, high = _bounds(feature, ranges)
    start = float(value)
    targets: list[float] = []
    if feature.direction in ("increasing", "none") and high is not None and high > start:
        targets += list(np.linspace(start, high, grid_size + 1)[1:])
    if feature.direction in ("decreasing", "none") and low is not None and low < start:
        targets += list(np.linspace(start, low, grid_size + 1)[1:])
    if feature.type == "integer":
        targets = [float(round(t)) for t in targets]
    unique = sorted({t for t in targets if t != start}, key=lambda t: (abs(t - start), t))
    if not unique:
        return None
    if low is not None and high is not None and high > low:
        width = float(high - low)
    else:  # one bound only: measure against the whole way to it
        width = float(max(abs(t - start) for t in unique))
    values: list[Any] = [_typed(t, feature) for t in unique]
    costs = [float(abs(t - start) / width) for t in unique]
    return _Candidates(feature, value, values, costs, width=width, numeric=True)


def _bounds(
    feature: FeatureSpec, ranges: Mapping[str, tuple[float, float]]
) -> tuple[float | None, float | None]:
    observed = ranges.get(feature.name)
    low = feature.minimum if feature.minimum is not None else (observed[0] if observed else None)
    high = feature.maximum if feature.maximum is not None else (observed[1] if observed else None)
    return low, high


def _typed(value: float, feature: FeatureSpec) -> float | int:
    return round(value) if feature.type == "integer" else float(value)


def _single(candidates: _Candidates, flips: _Flips) -> Any:
    name = candidates.feature.name
    for value in candidates.values:
        if flips({name: value}):
            if candidates.numeric:
                return _shrink(candidates, value, lambda v: flips({name: v}))
            return value
    return None


def _shrink(candidates: _Candidates, value: Any, flips: Callable[[Any], bool]) -> Any:
    """Bisect a reversing value toward the current one, then round it to a readable step."""
    feature = candidates.feature
    keeps, best = float(candidates.start), value
    changes = float(value)
    for _ in range(_REFINE_STEPS):
        middle = _typed((keeps + changes) / 2, feature)
        if float(middle) in (keeps, changes):
            break
        if flips(middle):
            changes, best = float(middle), middle
        else:
            keeps = float(middle)
    return _readable(candidates, best, flips)


def _readable(candidates: _Candidates, value: Any, flips: Callable[[Any], bool]) -> Any:
    """Round ``value`` away from the current value to a readable step that still reverses.

    The step is at most a tenth of the feature's range, and the rounding adds at most 5% of it.
    """
    start, target = float(candidates.start), float(value)
    away = 1.0 if target > start else -1.0
    bound = max(candidates.values, key=lambda v: away * float(v))  # the furthest allowed value
    exponent = int(np.floor(np.log10(max(candidates.width, 1e-12)))) - 1
    for power in range(exponent, -3, -1):
        step = 10.0**power
        rounded = float(
            np.ceil(target / step) * step if away > 0 else np.floor(target / step) * step
        )
        rounded = round(rounded, 6)
        beyond = away * (rounded - float(bound)) > 1e-12
        if beyond or rounded == target or abs(rounded - target) > 0.05 * candidates.width:
            continue
        candidate = _typed(rounded, candidates.feature)
        if flips(candidate):
            return candidate
    return value


def _thin(candidates: _Candidates, size: int) -> _Candidates:
    if len(candidates.values) <= size:
        return candidates
    keep = np.unique(np.linspace(0, len(candidates.values) - 1, size).round().astype(int))
    return replace(
        candidates,
        values=[candidates.values[i] for i in keep],
        costs=[candidates.costs[i] for i in keep],
    )


def _pair(
    first: _Candidates, second: _Candidates, flips: _Flips, singles: Mapping[str, Any]
) -> dict[str, Any] | None:
    """Find the cheapest pair of changes, neither of which reaches a lone reversal."""

    def needed(candidates: _Candidates, value: Any) -> bool:
        name = candidates.feature.name
        return name not in singles or not _as_far(singles[name], value, candidates.start)

    combos = sorted(
        (
            (cost_a + cost_b, value_a, value_b)
            for value_a, cost_a in zip(first.values, first.costs, strict=True)
            if needed(first, value_a)
            for value_b, cost_b in zip(second.values, second.costs, strict=True)
            if needed(second, value_b)
        ),
        key=lambda combo: combo[0],
    )
    name_a, name_b = first.feature.name, second.feature.name
    for _, value_a, value_b in combos:
        if flips({name_a: value_a, name_b: value_b}):
            return _shrink_pair(first, second, value_a, value_b, flips)
    return None


def _shrink_pair(
    first: _Candidates, second: _Candidates, value_a: Any, value_b: Any, flips: _Flips
) -> dict[str, Any]:
    """Shrink each numeric change of a reversing pair, holding the other one fixed."""
    name_a, name_b = first.feature.name, second.feature.name

    def with_a(value: Any) -> bool:
        return flips({name_a: value, name_b: value_b})

    if first.numeric:
        value_a = _shrink(first, value_a, with_a)

    def with_b(value: Any) -> bool:
        return flips({name_a: value_a, name_b: value})

    if second.numeric:
        value_b = _shrink(second, value_b, with_b)
    return {name_a: value_a, name_b: value_b}


def _as_far(reference: Any, value: Any, start: Any) -> bool:
    """Whether ``value`` changes at least as much as ``reference``, the same way (or equals it)."""
    if isinstance(reference, (int, float)) and not isinstance(reference, bool):
        moved, other = float(reference) - float(start), float(value) - float(start)
        return bool(np.sign(moved) == np.sign(other) and abs(other) >= abs(moved))
    return bool(reference == value)


def _dominates(
    kept: Mapping[str, tuple[Any, Any]], changes: Mapping[str, Any], current: Mapping[str, Any]
) -> bool:
    """Whether ``kept`` changes a subset of the features of ``changes``, none of them further."""
    if not set(kept) <= set(changes):
        return False
    return all(_as_far(value, changes[name], current[name]) for name, (_, value) in kept.items())


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value
