"""Counterfactuals: the smallest changes the customer could make that would change the decision.

Only actionable features change; a feature with a declared direction moves only the way that
favours the customer; values stay within the spec's [minimum, maximum], else the training range,
on a grid of readable steps (:func:`readable_step`). Every option is confirmed by the system's
own model, many candidates per model call. Single- and two-feature options are the exact
cheapest on the grid for tree models (:mod:`._counterfactual_trees`) and for logistic
regressions after per-column transformers (:mod:`._counterfactual_linear`); other models are
searched on a coarse grid, refined where it reverses (:mod:`._counterfactual_coarse`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ethica.errors import InputError
from ethica.explain._counterfactual_coarse import coarse_options
from ethica.explain._counterfactual_grid import (
    Candidates,
    as_far,
    candidates_of,
    readable_step,
)
from ethica.explain._counterfactual_linear import is_additive_logistic, linear_options
from ethica.explain._counterfactual_search import VariantSearch
from ethica.explain._counterfactual_trees import is_tree_model, tree_options
from ethica.governance import BinaryDecision
from ethica.scoring import Scorer, outcome_of

__all__ = ["Counterfactual", "counterfactuals", "readable_step"]

#: A found option: its changes and the model's score with them (None: not yet scored).
_Option = tuple[dict[str, Any], float | None]


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
    exact over the grid. For a binary logistic regression, alone or after per-column
    transformers (scalers, encoders, imputers), the margin is a sum of one term per feature,
    so every value and every pair on the grid is weighed from one model call: exact too.
    Other models are searched on ``grid_size`` values per feature (pairs on
    ``pair_grid_size``), then on the whole grid just short of the first value that reverses.
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
    current = dict(features)
    search = VariantSearch(scorer, current, decision)
    candidates = [
        c
        for f in scorer.spec.features
        if (c := candidates_of(f, current.get(f.name), ranges or {})) is not None
    ]
    # The tree and linear searches score the current row in their first model call.
    options: list[_Option] | None
    if is_tree_model(scorer.model):
        trees = tree_options(search, candidates, max_options)
        options = None if trees is None else list(trees)
    elif is_additive_logistic(scorer.model):
        options = linear_options(candidates, search)
    elif scorer.score(current).outcome == decision.adverse_outcome:
        options = list(coarse_options(candidates, search, grid_size, pair_grid_size))
    else:
        options = None
    if options is None:  # the decision is not adverse
        return []
    return _choose(options, {c.name: c for c in candidates}, search, max_options)


def _choose(
    options: list[_Option],
    by_name: Mapping[str, Candidates],
    search: VariantSearch,
    max_options: int,
) -> list[Counterfactual]:
    """Return the cheapest ``max_options`` options no cheaper one makes unneeded, confirmed.

    An option is dropped when a cheaper one changes a subset of its features by no more. An
    option found without its score is scored by the model now; one that does not reverse the
    decision after all (a margin summed at the last digit) is dropped and the next one taken.
    """
    current = search.current

    def cost(changes: Mapping[str, Any]) -> float:
        return sum(by_name[name].cost(value) for name, value in changes.items())

    ordered = sorted(options, key=lambda option: (cost(option[0]), sorted(option[0])))
    while True:
        chosen: list[tuple[dict[str, Any], float | None]] = []
        for changes, score in ordered:
            if any(_dominates(kept, changes, current) for kept, _ in chosen):
                continue
            chosen.append((changes, score))
            if len(chosen) == max_options:
                break
        unscored = [changes for changes, score in chosen if score is None]
        flips, scores = search.score_variants(unscored)
        confirmed = {id(c): (f, s) for c, f, s in zip(unscored, flips, scores, strict=True)}
        refuted = [c for c in unscored if not confirmed[id(c)][0]]
        if not refuted:
            break
        ordered = [option for option in ordered if all(option[0] is not c for c in refuted)]
    found: list[Counterfactual] = []
    for changes, score in chosen:
        value = confirmed[id(changes)][1] if score is None else score
        scored = outcome_of(search.scorer.spec, np.array([value]))
        found.append(
            Counterfactual(
                changes={n: (current[n], v) for n, v in changes.items()},
                score=scored.score,
                outcome=scored.outcome,
                cost=cost(changes),
            )
        )
    return found


def _dominates(
    kept: Mapping[str, Any], changes: Mapping[str, Any], current: Mapping[str, Any]
) -> bool:
    """Whether ``kept`` changes a subset of the features of ``changes``, none of them further."""
    if not set(kept) <= set(changes):
        return False
    return all(as_far(value, changes[name], current[name]) for name, value in kept.items())


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value
