"""Exact counterfactual search for logistic regression, alone or after per-column transformers.

When every transformer output depends on one input column (scalers, one-hot and ordinal
encoders, imputers, ...), the model's margin is a sum of one term per feature: a change of
one feature moves the margin by the same amount whatever the others are. One model call gives
that amount for every grid value of every actionable feature; the margin of any pair of
changes is then a sum, so the cheapest single change and the cheapest pair are found on the
whole grid without further model calls. The options shown are confirmed by the model itself.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy.special import expit

from ethica.explain._counterfactual_grid import Candidates, pair_values
from ethica.explain._counterfactual_search import Block, VariantSearch
from ethica.explain._sklearn_models import final_step

#: Final estimators whose P(positive) is the logistic function of ``decision_function``.
_LOGISTIC = {"LogisticRegression", "LogisticRegressionCV"}
#: Transformers whose every output column depends on one input column.
_PER_COLUMN = {
    "StandardScaler",
    "MinMaxScaler",
    "MaxAbsScaler",
    "RobustScaler",
    "OneHotEncoder",
    "OrdinalEncoder",
    "SimpleImputer",
    "MissingIndicator",
    "KBinsDiscretizer",
    "QuantileTransformer",
    "PowerTransformer",
    "SplineTransformer",
    "Binarizer",
}

#: A found option: its changes and the model's score with them (None: not yet confirmed).
Option = tuple[dict[str, Any], float | None]


def is_additive_logistic(model: Any) -> bool:
    """Whether ``model`` is a binary logistic regression after per-column transformers only."""
    final = final_step(model)
    if type(final).__name__ not in _LOGISTIC:
        return False
    coef = np.asarray(getattr(final, "coef_", np.empty((0, 0))))
    if coef.ndim != 2 or coef.shape[0] != 1:
        return False
    steps = getattr(model, "steps", None)
    return all(_per_column(step) for _, step in (steps or [])[:-1])


def _per_column(transformer: Any) -> bool:
    if isinstance(transformer, str):
        return transformer in ("passthrough", "drop")
    if transformer is None:
        return True
    kind = type(transformer).__name__
    if kind == "Pipeline":
        return all(_per_column(step) for _, step in transformer.steps)
    if kind == "ColumnTransformer":
        inner = [t for _, t, _ in transformer.transformers_]
        return all(_per_column(t) for t in inner)
    if kind == "PolynomialFeatures":
        return False
    return kind in _PER_COLUMN


def linear_options(candidates: Sequence[Candidates], search: VariantSearch) -> list[Option] | None:
    """Return the cheapest reversing change of each feature and the cheapest pair of each two.

    Options carry no score: their margins are sums, and the caller confirms with the model
    (and scores) the options it shows. None when the decision is not adverse after all (the
    current row is scored in the same model call).
    """
    blocks: list[Block] = [{}] + [{c.name: c.array()} for c in candidates]
    stacked, total = search.columns(blocks)
    frame = search.scorer.variants_frame(search.current, stacked, total)
    margins = np.asarray(search.scorer.model.decision_function(frame), dtype=np.float64).ravel()
    base = float(margins[0])
    if search.reverses(expit(margins[:1]))[0]:
        return None
    moves: dict[str, np.ndarray[Any, Any]] = {}
    singles: dict[str, Any] = {}
    alone: dict[str, set[Any]] = {}
    start = 1
    for candidate in candidates:
        rows = slice(start, start + len(candidate.values))
        start += len(candidate.values)
        moves[candidate.name] = margins[rows] - base
        flips = search.reverses(expit(margins[rows]))
        alone[candidate.name] = {v for v, f in zip(candidate.values, flips, strict=True) if f}
        if flips.any():  # values come cheapest first
            singles[candidate.name] = candidate.values[int(np.argmax(flips))]
    options: list[Option] = [({name: value}, None) for name, value in singles.items()]
    for first, second in itertools.combinations(candidates, 2):
        pair = _cheapest_pair(first, second, singles, alone, moves, base, search)
        if pair is not None:
            options.append((pair, None))
    return options


def _cheapest_pair(
    first: Candidates,
    second: Candidates,
    singles: Mapping[str, Any],
    alone: Mapping[str, set[Any]],
    moves: Mapping[str, np.ndarray[Any, Any]],
    base: float,
    search: VariantSearch,
) -> dict[str, Any] | None:
    kept_a, cost_a = pair_values(first, singles.get(first.name), alone[first.name])
    kept_b, cost_b = pair_values(second, singles.get(second.name), alone[second.name])
    if not kept_a or not kept_b:
        return None
    margin = base + moves[first.name][kept_a][:, None] + moves[second.name][kept_b][None, :]
    flips = search.reverses(expit(margin)).ravel()
    if not flips.any():
        return None
    order = np.argsort((cost_a[:, None] + cost_b[None, :]).ravel(), kind="stable")
    k = int(order[np.argmax(flips[order])])
    a, b = divmod(k, len(kept_b))
    return {first.name: first.values[kept_a[a]], second.name: second.values[kept_b[b]]}
