"""Scoring many variants of one adverse decision in one model call.

A search step sends blocks of variants; in a block every variant changes the same features,
given as one array of values per feature. All blocks of a step go to the model together as one
matrix (boosters) or one frame (scikit-learn): per call, a model's fixed cost is most of the
cost of a few hundred rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ethica.explain._counterfactual_grid import Candidates
from ethica.governance import BinaryDecision
from ethica.scoring import Scorer

#: Per changed feature, its values in the block's variants (all arrays of one length).
Block = Mapping[str, np.ndarray[Any, Any]]
_FloatArray = np.ndarray[Any, np.dtype[np.float64]]
_BoolArray = np.ndarray[Any, np.dtype[np.bool_]]


class VariantSearch:
    """Scores variants of one adverse decision, many per model call."""

    def __init__(self, scorer: Scorer, current: Mapping[str, Any], decision: BinaryDecision):
        self.scorer = scorer
        self.current = current
        self.decision = decision
        self._numeric = {f.name: f.type in ("number", "integer") for f in scorer.spec.features}

    def reverses(self, scores: _FloatArray) -> _BoolArray:
        """Whether each score gives the favourable outcome."""
        positive = scores >= self.decision.threshold
        favourable = self.decision.adverse_outcome == self.decision.negative
        return np.asarray(positive == favourable, dtype=np.bool_)

    def columns(self, blocks: Sequence[Block]) -> tuple[dict[str, np.ndarray[Any, Any]], int]:
        """Stack ``blocks`` into one column per changed feature (the current value elsewhere)."""
        counts = [_length(block) for block in blocks]
        total = sum(counts)
        names = sorted({name for block in blocks for name in block})
        stacked: dict[str, np.ndarray[Any, Any]] = {}
        for name in names:
            value = self.current.get(name)
            if self._numeric.get(name, False):
                column: np.ndarray[Any, Any] = np.full(
                    total, np.nan if value is None else float(value), dtype=np.float64
                )
            else:
                column = np.empty(total, dtype=object)
                column[:] = [value] * total
            stacked[name] = column
        start = 0
        for block, count in zip(blocks, counts, strict=True):
            for name, values in block.items():
                stacked[name][start : start + count] = values
            start += count
        return stacked, total

    def score(self, blocks: Sequence[Block]) -> tuple[list[_BoolArray], list[_FloatArray]]:
        """Return, per block, whether each variant reverses the decision and its score."""
        if not blocks:
            return [], []
        stacked, total = self.columns(blocks)
        if total == 0:
            return [np.zeros(0, dtype=np.bool_) for _ in blocks], [np.zeros(0) for _ in blocks]
        scores = np.asarray(self.scorer.raw_variants(self.current, stacked)[:, 0], np.float64)
        return by_block(blocks, self.reverses(scores)), by_block(blocks, scores)

    def score_variants(
        self, variants: Sequence[Mapping[str, Any]]
    ) -> tuple[list[bool], list[float]]:
        """Return, per variant (changes to the current features), whether it reverses, its score.

        For searches that build few variants one by one; the variants are grouped into blocks
        by the features they change, and scored in one model call.
        """
        groups: dict[tuple[str, ...], list[int]] = {}
        for index, changes in enumerate(variants):
            groups.setdefault(tuple(sorted(changes)), []).append(index)
        blocks: list[Block] = []
        for names, members in groups.items():
            block: dict[str, np.ndarray[Any, Any]] = {}
            for name in names:
                values = [variants[k][name] for k in members]
                if self._numeric.get(name, False):
                    block[name] = np.asarray(values, dtype=np.float64)
                else:
                    block[name] = np.empty(len(values), dtype=object)
                    block[name][:] = values
            blocks.append(block)
        flips, scores = self.score(blocks)
        reversed_ = [False] * len(variants)
        scored = [0.0] * len(variants)
        for members, block_flips, block_scores in zip(groups.values(), flips, scores, strict=True):
            for k, flipped, score in zip(members, block_flips, block_scores, strict=True):
                reversed_[k], scored[k] = bool(flipped), float(score)
        return reversed_, scored


def score_singles(
    candidates: Sequence[Candidates], search: VariantSearch
) -> tuple[dict[str, tuple[Any, float]], dict[str, set[Any]]]:
    """Score every candidate value alone, in one model call.

    Returns the cheapest reversing value of each feature (with its score), and per feature
    every value that reverses alone.
    """
    flips, scores = search.score([{c.name: c.array()} for c in candidates])
    return singles_of(candidates, flips, scores)


def singles_of(
    candidates: Sequence[Candidates], flips: Sequence[_BoolArray], scores: Sequence[_FloatArray]
) -> tuple[dict[str, tuple[Any, float]], dict[str, set[Any]]]:
    """Read :func:`score_singles`'s answer from scored blocks, one per candidate, in order."""
    singles: dict[str, tuple[Any, float]] = {}
    alone: dict[str, set[Any]] = {}
    for candidate, block_flips, block_scores in zip(candidates, flips, scores, strict=True):
        values = candidate.values
        alone[candidate.name] = {
            v for v, flipped in zip(values, block_flips, strict=True) if flipped
        }
        if block_flips.any():  # values come cheapest first
            k = int(np.argmax(block_flips))
            singles[candidate.name] = (values[k], float(block_scores[k]))
    return singles, alone


def by_block(blocks: Sequence[Block], stacked: np.ndarray[Any, Any]) -> list[np.ndarray[Any, Any]]:
    """Cut one answer for the stacked ``blocks`` (in order) into one piece per block."""
    bounds = np.cumsum([0, *(_length(block) for block in blocks)])
    return [stacked[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def _length(block: Block) -> int:
    return len(next(iter(block.values()))) if block else 1
