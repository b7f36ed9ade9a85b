"""Counterfactuals: the smallest changes the customer could make that would change the decision.

Only actionable features change; a feature with a declared direction moves only the way that
favours the customer; values stay within the spec's [minimum, maximum], else the training range,
on a grid of readable steps (:func:`readable_step`). Every option is scored by the system's own
model, many candidates per model call. For tree models the candidates are the grid values next
to the model's own split thresholds, so single- and two-feature options are the exact cheapest
on the grid; other models are searched on a coarse grid, refined where it reverses.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ethica.errors import InputError
from ethica.explain._attribution import feature_of_column
from ethica.explain._sklearn_models import preprocess
from ethica.explain._split_points import split_thresholds
from ethica.governance import BinaryDecision, FeatureSpec
from ethica.scoring import Scorer, outcome_of

#: Pair combinations per pair in the first model call of a tree search; each next call takes 4x.
_FIRST_PAIR_BATCH = 256


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
    width: float = 1.0  # the range a numeric change is measured against
    numeric: bool = False
    # Numeric only: every grid value on each side of the start, nearest first.
    sides: list[list[Any]] = field(default_factory=list)

    def cost(self, value: Any) -> float:
        if self.numeric:
            return abs(float(value) - float(self.start)) / self.width
        return 1.0


def readable_step(width: float, integer: bool) -> float:
    """Return the grid step of a numeric feature whose values span ``width``.

    A power of ten between a hundredth and a tenth of the range (1 for a range of 10 to 99,
    10 for 100 to 999), and at least 1 for integers: the customer reads "37", not "36.71".
    """
    step = 10.0 ** (math.floor(math.log10(max(width, 1e-12))) - 1)
    return max(step, 1.0) if integer else step


class _Search:
    """Scores variants of one adverse decision, many per model call."""

    def __init__(self, scorer: Scorer, current: Mapping[str, Any], decision: BinaryDecision):
        self.scorer = scorer
        self.current = current
        self.decision = decision

    def score(self, variants: Sequence[Mapping[str, Any]]) -> tuple[list[bool], list[float]]:
        """Return, per variant (changes to the current features), whether it reverses, its score."""
        if not variants:
            return [], []
        names = sorted({name for changes in variants for name in changes})
        columns = {
            name: [changes.get(name, self.current[name]) for changes in variants] for name in names
        }
        scores = self.scorer.raw_variants(self.current, columns)[:, 0]
        positive = scores >= self.decision.threshold
        favourable = self.decision.adverse_outcome == self.decision.negative
        return (positive == favourable).tolist(), scores.tolist()


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

    Numeric values move on a grid of readable steps within their bounds. For tree models
    (LightGBM, XGBoost, scikit-learn trees, forests and gradient boosting) the candidates are
    the grid values next to each of the model's split thresholds: between two thresholds the
    model does not change, so the cheapest single change and the cheapest pair of changes are
    exact over the grid. Other models are searched on ``grid_size`` values per feature (pairs
    on ``pair_grid_size``), then on the whole grid just short of the first value that reverses.
    A pair never uses a value that reverses the decision alone or goes as far as the feature's
    own single change, and an option is dropped when another one changes a subset of its
    features by no more, so that each option is needed as it stands. A feature whose current
    value is missing (None or NaN) is not changed.

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
        Candidate values per numeric feature in the single and the pair searches of models
        other than trees.

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
    search = _Search(scorer, current, decision)
    candidates = [
        c
        for f in scorer.spec.features
        if (c := _candidates(f, current.get(f.name), ranges or {})) is not None
    ]
    near = _split_neighbours(scorer, current, candidates)
    if near is not None:
        candidates = [
            c if not c.numeric else _with_values(c, near[c.feature.name])
            for c in candidates
            if not c.numeric or near[c.feature.name]
        ]
        singles, alone = _singles(candidates, search)
        pairs = _tree_pairs(candidates, singles, alone, search, max_options)
    else:
        coarse = [_coarse(c, grid_size) for c in candidates]
        singles, alone = _singles(coarse, search)
        singles = _refine_singles(coarse, singles, search)
        pairs = _pairs(coarse, pair_grid_size, singles, alone, search)
    options = [({name: value}, score) for name, (value, score) in singles.items()] + pairs
    by_name = {c.feature.name: c for c in candidates}

    def cost(changes: Mapping[str, Any]) -> float:
        return sum(by_name[name].cost(value) for name, value in changes.items())

    chosen: list[Counterfactual] = []
    for changes, score in sorted(options, key=lambda option: (cost(option[0]), sorted(option[0]))):
        if any(_dominates(kept.changes, changes, current) for kept in chosen):
            continue
        scored = outcome_of(scorer.spec, np.array([score]))
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


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _candidates(
    feature: FeatureSpec, value: Any, ranges: Mapping[str, tuple[float, float]]
) -> _Candidates | None:
    if not feature.actionable or _missing(value):
        return None
    if feature.type == "boolean":
        allowed = {"increasing": [True], "decreasing": [False]}.get(
            feature.direction, [True, False]
        )
        flips: list[Any] = [v for v in allowed if v != bool(value)]
        return _Candidates(feature, value, flips) if flips else None
    if feature.type == "category":
        others: list[Any] = [c for c in feature.categories or [] if c != value]
        return _Candidates(feature, value, others) if others else None
    if feature.type not in ("number", "integer"):
        return None
    low, high = _bounds(feature, ranges)
    start = float(value)
    up = feature.direction in ("increasing", "none") and high is not None and high > start
    down = feature.direction in ("decreasing", "none") and low is not None and low < start
    if not (up or down):
        return None
    if low is not None and high is not None and high > low:
        width = float(high - low)
    else:  # one bound only: measure against the whole way to it
        width = abs(float(high if up else low) - start)  # type: ignore[arg-type]
    step = readable_step(width, feature.type == "integer")
    sides: list[list[Any]] = []
    if up:
        steps = np.arange(math.floor(start / step) + 1, math.floor(float(high) / step) + 1)  # type: ignore[arg-type]
        sides.append([_typed(k * step, feature) for k in steps])
    if down:
        steps = np.arange(math.ceil(start / step) - 1, math.ceil(float(low) / step) - 1, -1)  # type: ignore[arg-type]
        sides.append([_typed(k * step, feature) for k in steps])
    sides = [side for side in sides if side]
    if not sides:
        return None
    found = _Candidates(feature, value, [], width=width, numeric=True, sides=sides)
    return _with_values(found, [v for side in sides for v in side])


def _with_values(candidates: _Candidates, values: Iterable[Any]) -> _Candidates:
    ordered = sorted(set(values), key=lambda v: (candidates.cost(v), float(v)))
    return _Candidates(
        candidates.feature,
        candidates.start,
        ordered,
        width=candidates.width,
        numeric=candidates.numeric,
        sides=candidates.sides,
    )


def _bounds(
    feature: FeatureSpec, ranges: Mapping[str, tuple[float, float]]
) -> tuple[float | None, float | None]:
    observed = ranges.get(feature.name)
    low = feature.minimum if feature.minimum is not None else (observed[0] if observed else None)
    high = feature.maximum if feature.maximum is not None else (observed[1] if observed else None)
    return low, high


def _typed(value: float, feature: FeatureSpec) -> float | int:
    return round(value) if feature.type == "integer" else round(float(value), 10)


def _split_neighbours(
    scorer: Scorer, current: Mapping[str, Any], candidates: Sequence[_Candidates]
) -> dict[str, set[Any]] | None:
    """Per numeric feature, the grid values next to a split threshold of the model's columns.

    None for a model that is not made of trees. A scikit-learn pipeline's tree sees the
    transformer's outputs, so each feature's grid is transformed as the model sees it first.
    Both grid values around each threshold are kept: libraries send a value equal to the
    threshold left (``<=``) or right (``<``), and compare in float32 or float64.
    """
    model = scorer.model
    names = [f.name for f in scorer.spec.features]
    booster = type(model).__module__.startswith(("lightgbm", "xgboost"))
    found = split_thresholds(model, names) if booster else None
    near: dict[str, set[Any]] = {}
    for candidate in candidates:
        if not candidate.numeric:
            continue
        name = candidate.feature.name
        grid = [v for side in candidate.sides for v in side]
        if found is not None and booster:
            inputs = [(np.asarray(grid, dtype=np.float64), found.get(name, np.empty(0)))]
        else:
            frame = scorer._frame_row(current)
            frame = frame.loc[frame.index.repeat(len(grid))].reset_index(drop=True)
            frame[name] = np.asarray(grid, dtype=np.float64)
            values, columns = preprocess(model, frame)
            if found is None:
                found = split_thresholds(model, columns)
                if found is None:
                    return None
            inputs = [
                (values[:, j], found[column])
                for j, column in enumerate(columns)
                if column in found and feature_of_column(column, names) == name
            ]
        near[name] = set()
        for seen, thresholds in inputs:
            order = np.argsort(seen, kind="stable")
            ordered = seen[order]
            left = np.searchsorted(ordered, thresholds, side="left")
            right = np.searchsorted(ordered, thresholds, side="right")
            around = np.unique(np.clip(np.concatenate([left - 1, left, right - 1, right]), 0, None))
            around = around[around < len(grid)]
            near[name].update(grid[k] for k in order[around])
    if found is None and split_thresholds(model, names) is None:
        return None  # no numeric candidate told trees from other models: ask directly
    return near


def _singles(
    candidates: Sequence[_Candidates], search: _Search
) -> tuple[dict[str, tuple[Any, float]], dict[str, set[Any]]]:
    """Score every candidate value alone, in one model call.

    Returns the cheapest reversing value of each feature (with its score), and per feature
    every value that reverses alone.
    """
    variants = [{c.feature.name: v} for c in candidates for v in c.values]
    flips, scores = search.score(variants)
    singles: dict[str, tuple[Any, float]] = {}
    alone: dict[str, set[Any]] = {c.feature.name: set() for c in candidates}
    for variant, flipped, score in zip(variants, flips, scores, strict=True):
        ((name, value),) = variant.items()
        if flipped:
            alone[name].add(value)
            if name not in singles:  # values come cheapest first
                singles[name] = (value, score)
    return singles, alone


def _coarse(candidates: _Candidates, size: int) -> _Candidates:
    """Keep ``size`` values per side of a numeric feature, evenly spread, the furthest kept."""
    if not candidates.numeric:
        return candidates
    kept = [side[k] for side in candidates.sides for k in _spread(len(side), size)]
    return _with_values(candidates, kept)


def _spread(length: int, size: int) -> list[int]:
    if length <= size:
        return list(range(length))
    return sorted({round(k) for k in np.linspace(length / size - 1, length - 1, size)})


def _refine_singles(
    coarse: Sequence[_Candidates], singles: dict[str, tuple[Any, float]], search: _Search
) -> dict[str, tuple[Any, float]]:
    """Look for a cheaper reversing value on the whole grid short of each coarse one."""
    variants: list[dict[str, Any]] = []
    for candidates in coarse:
        name = candidates.feature.name
        if candidates.numeric and name in singles:
            variants += [{name: v} for v in _short_of(candidates, singles[name][0])]
    flips, scores = search.score(variants)
    refined = dict(singles)
    by_name = {c.feature.name: c for c in coarse}
    for variant, flipped, score in zip(variants, flips, scores, strict=True):
        ((name, value),) = variant.items()
        cost = by_name[name].cost
        if flipped and cost(value) < cost(refined[name][0]):
            refined[name] = (value, score)
    return refined


def _short_of(candidates: _Candidates, value: Any) -> list[Any]:
    """Grid values a coarse search skipped that change less than ``value``.

    On ``value``'s side, those after the last kept value before it; on the other side, those
    after the last kept value that changes less.
    """
    limit = candidates.cost(value)
    kept = set(candidates.values)
    found: list[Any] = []
    for side in candidates.sides:
        nearer = [k for k, v in enumerate(side) if candidates.cost(v) < limit]
        if not nearer:
            continue
        end = nearer[-1] + 1
        before = [k for k in range(end) if side[k] in kept]
        found += side[(before[-1] + 1 if before else 0) : end]
    return found


def _pair_values(
    candidates: _Candidates,
    singles: Mapping[str, tuple[Any, float]],
    alone: Mapping[str, set[Any]],
) -> list[Any]:
    """Values a pair may use: neither reversing alone nor as far as the feature's single change."""
    name = candidates.feature.name
    single = singles.get(name)
    return [
        v
        for v in candidates.values
        if v not in alone.get(name, set())
        and (single is None or not _as_far(single[0], v, candidates.start))
    ]


def _tree_pairs(
    candidates: Sequence[_Candidates],
    singles: Mapping[str, tuple[Any, float]],
    alone: Mapping[str, set[Any]],
    search: _Search,
    max_options: int,
) -> list[tuple[dict[str, Any], float]]:
    """Find the exact cheapest reversing pair of every two features, cheapest combos first.

    The combinations of all pairs are scored together, a growing batch per pair and model call,
    until each pair has reversed or run out. A pair costing more than ``max_options`` options
    already found would not be shown: its combinations beyond that cost are not tried.
    """
    by_name = {c.feature.name: c for c in candidates}
    costs = sorted(by_name[name].cost(value) for name, (value, _) in singles.items())

    def bound() -> float:
        return costs[max_options - 1] if len(costs) >= max_options else math.inf

    # Per pair: its names, values, and its combinations as (cost, index a, index b), by cost.
    queues: list[tuple[str, str, list[Any], list[Any], Any]] = []
    for first, second in itertools.combinations(candidates, 2):
        values_a = _pair_values(first, singles, alone)
        values_b = _pair_values(second, singles, alone)
        if not values_a or not values_b:
            continue
        cost_a = np.array([first.cost(v) for v in values_a])
        cost_b = np.array([second.cost(v) for v in values_b])
        total = cost_a[:, None] + cost_b[None, :]
        index_a, index_b = np.nonzero(total <= bound())
        totals = total[index_a, index_b]
        order = np.argsort(totals, kind="stable")
        combos = np.column_stack([totals[order], index_a[order], index_b[order]])
        if len(combos):
            queues.append((first.feature.name, second.feature.name, values_a, values_b, combos))
    found: list[tuple[dict[str, Any], float]] = []
    start, size = 0, _FIRST_PAIR_BATCH
    while queues:
        variants: list[dict[str, Any]] = []
        owners: list[int] = []
        for index, (name_a, name_b, values_a, values_b, combos) in enumerate(queues):
            for _, a, b in combos[start : start + size]:
                variants.append({name_a: values_a[int(a)], name_b: values_b[int(b)]})
                owners.append(index)
        flips, scores = search.score(variants)
        done: set[int] = set()
        for owner, variant, flipped, score in zip(owners, variants, flips, scores, strict=True):
            if flipped and owner not in done:  # the first in cost order is the cheapest
                done.add(owner)
                found.append((variant, score))
                costs.append(sum(by_name[n].cost(v) for n, v in variant.items()))
        costs.sort()
        start += size
        size *= 4
        limit = bound()
        queues = [
            q
            for k, q in enumerate(queues)
            if k not in done and len(q[4]) > start and q[4][start][0] <= limit
        ]
    return found


def _pairs(
    coarse: Sequence[_Candidates],
    size: int,
    singles: Mapping[str, tuple[Any, float]],
    alone: Mapping[str, set[Any]],
    search: _Search,
) -> list[tuple[dict[str, Any], float]]:
    """Pairs of models other than trees, in three model calls for all pairs.

    The cheapest reversing pair of every two features on a thin grid, then each of its changes
    moved to the cheapest value short of it on the whole grid that still reverses.
    """
    thin = [_coarse(c, size) for c in coarse]
    by_name = {c.feature.name: c for c in coarse}
    variants: list[dict[str, Any]] = []
    for first, second in itertools.combinations(thin, 2):
        values_a = _pair_values(first, singles, alone)
        values_b = _pair_values(second, singles, alone)
        variants += [
            {first.feature.name: a, second.feature.name: b} for a in values_a for b in values_b
        ]
    flips, _ = search.score(variants)
    cheapest: dict[tuple[str, ...], tuple[float, dict[str, Any]]] = {}
    for variant, flipped in zip(variants, flips, strict=True):
        if not flipped:
            continue
        key = tuple(variant)
        cost = sum(by_name[n].cost(v) for n, v in variant.items())
        if key not in cheapest or cost < cheapest[key][0]:
            cheapest[key] = (cost, variant)
    pairs = [variant for _, variant in cheapest.values()]
    thin_by_name = {c.feature.name: c for c in thin}
    for position in (0, 1):  # shrink the first change of every pair, then the second
        pairs = _shrink_pairs(pairs, position, thin_by_name, search)
    _, scores = search.score(pairs)
    return list(zip(pairs, scores, strict=True))


def _shrink_pairs(
    pairs: list[dict[str, Any]],
    position: int,
    thin: Mapping[str, _Candidates],
    search: _Search,
) -> list[dict[str, Any]]:
    """Move one change of each pair to the cheapest grid value short of it that still reverses."""
    variants: list[dict[str, Any]] = []
    owners: list[int] = []
    for index, pair in enumerate(pairs):
        name = list(pair)[position]
        if thin[name].numeric:
            for value in _short_of(thin[name], pair[name]):
                variants.append({**pair, name: value})
                owners.append(index)
    flips, _ = search.score(variants)
    shrunk = list(pairs)
    for owner, variant, flipped in zip(owners, variants, flips, strict=True):
        name = list(variant)[position]
        cost = thin[name].cost
        if flipped and cost(variant[name]) < cost(shrunk[owner][name]):
            shrunk[owner] = variant
    return shrunk


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
