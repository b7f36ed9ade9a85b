"""Exact counterfactual search for tree models over the grid of each actionable feature.

Between two consecutive split thresholds of a column every tree takes the same branches, so a
feature's candidates are the grid values next to the model's thresholds; the cheapest single
change and the cheapest pair of changes found among them are the cheapest on the whole grid.
A scikit-learn pipeline's trees see the transformer's outputs, so every feature's grid is
transformed as the model sees it first.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ethica.explain._attribution import feature_of_column
from ethica.explain._counterfactual_grid import Candidates, pair_values, with_values
from ethica.explain._counterfactual_search import Block, VariantSearch, by_block, singles_of
from ethica.explain._sklearn_models import final_step, is_tree, preprocess
from ethica.explain._split_points import split_thresholds

#: Pair combinations per pair in the first model call of a tree search; each next call takes 4x.
_FIRST_PAIR_BATCH = 256

#: One model column of a feature: its value for every grid value, its thresholds, its value now.
_Column = tuple[np.ndarray[Any, Any], np.ndarray[Any, Any], float]
#: A found option: its changes and the model's score with them.
Option = tuple[dict[str, Any], float]


def is_tree_model(model: Any) -> bool:
    """Return whether ``model`` is made of trees (a booster, a scikit-learn tree model)."""
    if type(model).__module__.startswith(("lightgbm", "xgboost")):
        return True
    return is_tree(final_step(model))


def tree_options(
    search: VariantSearch, candidates: Sequence[Candidates], max_options: int
) -> list[Option] | None:
    """Return the cheapest single change of each feature and the pairs that could be shown.

    None when the decision is not adverse after all: the current row is scored in the first
    model call, with the single changes.
    """
    scorer = search.scorer
    model = scorer.model
    names = [f.name for f in scorer.spec.features]
    numeric = [c for c in candidates if c.numeric]
    inputs: dict[str, list[_Column]] = {}
    scored: tuple[list[np.ndarray[Any, Any]], list[np.ndarray[Any, Any]]] | None = None
    if _booster(search):
        found = split_thresholds(model, names) or {}
        for candidate in numeric:
            thresholds = found.get(candidate.name, np.empty(0))
            inputs[candidate.name] = [(candidate.array(), thresholds, float(candidate.start))]
    else:
        # Every value of every feature, as the trees see it: one frame for thresholds and singles.
        blocks: list[Block] = [{}] + [{c.name: c.array()} for c in candidates]
        stacked, total = search.columns(blocks)
        values, columns = preprocess(model, scorer.variants_frame(search.current, stacked, total))
        scored = _final_scores(search, blocks, values)
        found = split_thresholds(model, columns) or {}
        start = 1
        for candidate in candidates:
            rows = slice(start, start + len(candidate.values))
            start += len(candidate.values)
            inputs[candidate.name] = [
                (values[rows, j], found[column], float(values[0, j]))
                for j, column in enumerate(columns)
                if column in found and feature_of_column(column, names) == candidate.name
            ]
    near = [
        c if not c.numeric else with_values(c, _cell_entries(c, inputs[c.name])) for c in candidates
    ]
    near = [c for c in near if c.values]
    scored_candidates = candidates
    if scored is None:
        scored_candidates = near
        scored = search.score([{}] + [{c.name: c.array()} for c in near])
    flips, scores = scored
    if flips[0][0]:
        return None
    singles, alone = singles_of(scored_candidates, flips[1:], scores[1:])
    options: list[Option] = [({name: value}, score) for name, (value, score) in singles.items()]
    return options + tree_pairs(near, singles, alone, search, max_options)


def _final_scores(
    search: VariantSearch, blocks: Sequence[Block], values: np.ndarray[Any, Any]
) -> tuple[list[np.ndarray[Any, Any]], list[np.ndarray[Any, Any]]]:
    """Score the transformed rows with the pipeline's last step (as the pipeline would).

    A last step fitted on named columns expects a frame: such models are scored as a whole.
    """
    model = search.scorer.model
    final = final_step(model)
    steps = getattr(model, "steps", None)
    if not steps or len(steps) < 2 or hasattr(final, "feature_names_in_"):
        return search.score(blocks)
    if not hasattr(final, "predict_proba"):
        return search.score(blocks)
    scores = np.asarray(final.predict_proba(values), dtype=np.float64)[:, 1]
    return by_block(blocks, search.reverses(scores)), by_block(blocks, scores)


def _cell_entries(candidate: Candidates, inputs: Sequence[_Column]) -> set[Any]:
    """Return the cheapest grid value of each cell the model's thresholds cut the grid into.

    Values in one cell take the same branches in every tree: only the cheapest can be the
    cheapest option, alone or in a pair; the start's own cell changes nothing. A cell is told
    by where a value falls among each model column's thresholds under every comparison the
    libraries make: ``<=`` and ``<``, in float64, in float32, and float32 inputs against
    float64 thresholds (scikit-learn).
    """
    keys: list[np.ndarray[Any, Any]] = []
    start_key: list[Any] = []
    for seen, thresholds, at in inputs:
        if not len(thresholds):
            continue
        single = thresholds.astype(np.float32)
        for values, cuts, point in (
            (seen, thresholds, at),
            (seen.astype(np.float32), single, np.float32(at)),
            (seen.astype(np.float32).astype(np.float64), thresholds, float(np.float32(at))),
        ):
            for side in ("left", "right"):
                keys.append(np.searchsorted(cuts, values, side=side))
                start_key.append(np.searchsorted(cuts, point, side=side))
    if not keys:
        return set()  # the model does not use the feature
    cells = np.column_stack(keys)
    moved = np.flatnonzero((cells != np.asarray(start_key)).any(axis=1))
    # Values come cheapest first, so each cell's first index is its cheapest value.
    _, first = np.unique(cells[moved], axis=0, return_index=True)
    return {candidate.values[k] for k in moved[first]}


def tree_pairs(
    candidates: Sequence[Candidates],
    singles: Mapping[str, tuple[Any, float]],
    alone: Mapping[str, set[Any]],
    search: VariantSearch,
    max_options: int,
) -> list[Option]:
    """Find the exact cheapest reversing pair of every two features that could be shown.

    The combinations of all pairs are scored in one order, cheapest first, a growing batch per
    model call; a pair leaves the queue at its first reversing combination, its cheapest. Once
    ``max_options`` options cost no more than the next combination, no later one would be
    shown (a pair never uses a value as far as a single change, so no option hides another):
    the search stops there.
    """
    by_name = {c.name: c for c in candidates}
    costs = sorted(by_name[n].cost(v) for n, (v, _) in singles.items() if n in by_name)

    def bound() -> float:
        return costs[max_options - 1] if len(costs) >= max_options else math.inf

    pairs: list[tuple[Candidates, Candidates, np.ndarray[Any, Any], np.ndarray[Any, Any]]] = []
    parts: list[np.ndarray[Any, Any]] = []  # per pair: rows of (cost, pair, index a, index b)
    for first, second in itertools.combinations(candidates, 2):
        kept_a, cost_a = pair_values(first, _single(singles, first), alone.get(first.name, set()))
        kept_b, cost_b = pair_values(
            second, _single(singles, second), alone.get(second.name, set())
        )
        if not kept_a or not kept_b:
            continue
        total = cost_a[:, None] + cost_b[None, :]
        index_a, index_b = np.nonzero(total <= bound())
        if not len(index_a):
            continue
        totals = total[index_a, index_b]
        order = np.argsort(totals, kind="stable")
        owner = np.full(len(order), len(pairs), dtype=np.float64)
        parts.append(np.column_stack([totals[order], owner, index_a[order], index_b[order]]))
        pairs.append((first, second, first.array()[kept_a], second.array()[kept_b]))
    if not pairs:
        return []
    combos = np.concatenate(parts)
    # One order for all pairs; stable, so each pair's own combinations keep their order.
    combos = combos[np.argsort(combos[:, 0], kind="stable")]
    active = np.ones(len(pairs), dtype=np.bool_)
    found: list[Option] = []
    size = _FIRST_PAIR_BATCH * len(pairs)
    growth = 2 if _booster(search) else 4  # a booster's call costs little beyond its rows
    while len(combos) and combos[0, 0] <= bound():
        batch = combos[:size]
        batch = batch[batch[:, 0] <= bound()]
        combos = combos[size:]
        owners = batch[:, 1].astype(np.intp)
        blocks: list[Block] = []
        members = [np.flatnonzero(owners == k) for k in range(len(pairs))]
        scanned = [k for k in range(len(pairs)) if len(members[k])]
        for k in scanned:
            first, second, values_a, values_b = pairs[k]
            rows = batch[members[k]]
            blocks.append(
                {
                    first.name: values_a[rows[:, 2].astype(np.intp)],
                    second.name: values_b[rows[:, 3].astype(np.intp)],
                }
            )
        flips, scores = search.score(blocks)
        for k, block, block_flips, block_scores in zip(scanned, blocks, flips, scores, strict=True):
            if not block_flips.any():
                continue
            at = int(np.argmax(block_flips))  # the first in cost order is the cheapest
            variant = {n: _plain_value(by_name[n], values[at]) for n, values in block.items()}
            found.append((variant, float(block_scores[at])))
            costs.append(sum(by_name[n].cost(v) for n, v in variant.items()))
            active[k] = False
        costs.sort()
        combos = combos[active[combos[:, 1].astype(np.intp)]]
        size *= growth
    return found


def _booster(search: VariantSearch) -> bool:
    return type(search.scorer.model).__module__.startswith(("lightgbm", "xgboost"))


def _single(singles: Mapping[str, tuple[Any, float]], candidates: Candidates) -> Any | None:
    single = singles.get(candidates.name)
    return None if single is None else single[0]


def _plain_value(candidates: Candidates, value: Any) -> Any:
    """Return the grid value itself (an int for integer features), not its float64 copy."""
    if candidates.numeric and candidates.feature.type == "integer":
        return round(float(value))
    if isinstance(value, np.generic):
        return value.item()
    return value
