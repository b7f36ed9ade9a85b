"""Counterfactual search for models that are neither trees nor additive logistic regressions.

Singles are scored on a coarse grid, then on the whole grid just short of the first value that
reverses; pairs on a thinner grid, then each change moved to the cheapest value short of it
that still reverses. Each step is one model call for all features and pairs.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ethica.explain._counterfactual_grid import Candidates, pair_values, with_values
from ethica.explain._counterfactual_search import VariantSearch, score_singles

#: A found option: its changes and the model's score with them.
Option = tuple[dict[str, Any], float]


def coarse_options(
    candidates: Sequence[Candidates], search: VariantSearch, grid_size: int, pair_grid_size: int
) -> list[Option]:
    """Return the single and pair options of a coarse-to-fine search."""
    coarse = [_coarse(c, grid_size) for c in candidates]
    singles, alone = score_singles(coarse, search)
    singles = _refine_singles(coarse, singles, search)
    pairs = _pairs(coarse, pair_grid_size, singles, alone, search)
    return [({name: value}, score) for name, (value, score) in singles.items()] + pairs


def _coarse(candidates: Candidates, size: int) -> Candidates:
    """Keep ``size`` values per side of a numeric feature, evenly spread, the furthest kept."""
    if not candidates.numeric:
        return candidates
    kept = [side[k] for side in candidates.sides for k in _spread(len(side), size)]
    return with_values(candidates, kept)


def _spread(length: int, size: int) -> list[int]:
    if length <= size:
        return list(range(length))
    return sorted({round(k) for k in np.linspace(length / size - 1, length - 1, size)})


def _refine_singles(
    coarse: Sequence[Candidates], singles: dict[str, tuple[Any, float]], search: VariantSearch
) -> dict[str, tuple[Any, float]]:
    """Look for a cheaper reversing value on the whole grid short of each coarse one."""
    variants: list[dict[str, Any]] = []
    for candidates in coarse:
        name = candidates.name
        if candidates.numeric and name in singles:
            variants += [{name: v} for v in _short_of(candidates, singles[name][0])]
    flips, scores = search.score_variants(variants)
    refined = dict(singles)
    by_name = {c.name: c for c in coarse}
    for variant, flipped, score in zip(variants, flips, scores, strict=True):
        ((name, value),) = variant.items()
        cost = by_name[name].cost
        if flipped and cost(value) < cost(refined[name][0]):
            refined[name] = (value, score)
    return refined


def _short_of(candidates: Candidates, value: Any) -> list[Any]:
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


def _usable(
    candidates: Candidates,
    singles: Mapping[str, tuple[Any, float]],
    alone: Mapping[str, set[Any]],
) -> list[Any]:
    single = singles.get(candidates.name)
    kept, _ = pair_values(
        candidates, None if single is None else single[0], alone.get(candidates.name, set())
    )
    return [candidates.values[k] for k in kept]


def _pairs(
    coarse: Sequence[Candidates],
    size: int,
    singles: Mapping[str, tuple[Any, float]],
    alone: Mapping[str, set[Any]],
    search: VariantSearch,
) -> list[Option]:
    """Pairs in three model calls for all pairs.

    The cheapest reversing pair of every two features on a thin grid, then each of its changes
    moved to the cheapest value short of it on the whole grid that still reverses.
    """
    thin = [_coarse(c, size) for c in coarse]
    by_name = {c.name: c for c in coarse}
    variants: list[dict[str, Any]] = []
    for first, second in itertools.combinations(thin, 2):
        values_a = _usable(first, singles, alone)
        values_b = _usable(second, singles, alone)
        variants += [{first.name: a, second.name: b} for a in values_a for b in values_b]
    flips, _ = search.score_variants(variants)
    cheapest: dict[tuple[str, ...], tuple[float, dict[str, Any]]] = {}
    for variant, flipped in zip(variants, flips, strict=True):
        if not flipped:
            continue
        key = tuple(variant)
        cost = sum(by_name[n].cost(v) for n, v in variant.items())
        if key not in cheapest or cost < cheapest[key][0]:
            cheapest[key] = (cost, variant)
    pairs = [variant for _, variant in cheapest.values()]
    thin_by_name = {c.name: c for c in thin}
    for position in (0, 1):  # shrink the first change of every pair, then the second
        pairs = _shrink_pairs(pairs, position, thin_by_name, search)
    _, scores = search.score_variants(pairs)
    return list(zip(pairs, scores, strict=True))


def _shrink_pairs(
    pairs: list[dict[str, Any]],
    position: int,
    thin: Mapping[str, Candidates],
    search: VariantSearch,
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
    flips, _ = search.score_variants(variants)
    shrunk = list(pairs)
    for owner, variant, flipped in zip(owners, variants, flips, strict=True):
        name = list(variant)[position]
        cost = thin[name].cost
        if flipped and cost(variant[name]) < cost(shrunk[owner][name]):
            shrunk[owner] = variant
    return shrunk
