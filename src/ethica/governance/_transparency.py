"""The public transparency report: counts released with differential privacy through OpenDP.

Per system and period, each measure (decisions by outcome, reviews, appeals, concerns) is a
histogram over categories fixed in advance (from the spec, never from the data), overall and
by each protected attribute. Each histogram is one OpenDP measurement: ``make_count_by_categories``
then ``then_laplace`` (discrete Laplace noise on integer counts), over the rows of which each
customer contributes at most ``contributions``; OpenDP's privacy map gives the ε each spends.
Every number is published with its accuracy at the stated confidence
(``discrete_laplacian_scale_to_accuracy``); negative noisy counts show as 0 (post-processing,
which costs no privacy and keeps the accuracy statement true).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd

from ethica.errors import InputError
from ethica.governance._budget import PrivacyBudget, Spend
from ethica.governance._documents import DOCUMENT_TYPES, Document, Item, Section, Table
from ethica.governance._spec import (
    BinaryDecision,
    MulticlassDecision,
    RankingDecision,
    SystemSpec,
)

__all__ = [
    "MEASURES",
    "Measure",
    "ReleasedCount",
    "TransparencyRelease",
    "release_transparency",
    "transparency_document",
]

NOT_GIVEN = "not given"


@dataclass(frozen=True)
class Measure:
    """What a report counts, and the categories it counts in."""

    key: str
    label: str
    categories: Callable[[SystemSpec], tuple[str, ...]]


def _outcomes(spec: SystemSpec) -> tuple[str, ...]:
    d = spec.decision
    if isinstance(d, BinaryDecision):
        return (d.positive, d.negative)
    if isinstance(d, MulticlassDecision):
        return tuple(d.classes)
    if isinstance(d, RankingDecision) and d.items:
        return tuple(d.items)  # the top recommendation
    return ("made",)


MEASURES = {
    m.key: m
    for m in (
        Measure("decisions", "Decisions by outcome", _outcomes),
        Measure("reviews", "Reviews by a person", lambda s: ("confirmed", "overridden", "decided")),
        Measure("appeals", "Appeals and their results", lambda s: ("upheld", "changed", "pending")),
        Measure("concerns", "Concerns raised", lambda s: ("answered", "open")),
    )
}
"""What a transparency report counts, by key."""


@dataclass(frozen=True)
class ReleasedCount:
    """One published number: a noisy count and its accuracy interval."""

    system: str
    measure: str
    category: str
    attribute: str | None
    group: str | None
    count: int
    accuracy: int
    confidence: float
    epsilon: float

    @property
    def interval(self) -> tuple[int, int]:
        """The interval that holds the true count with probability at least ``confidence``."""
        return (max(self.count - self.accuracy, 0), self.count + self.accuracy)


@dataclass(frozen=True)
class TransparencyRelease:
    """A period's released numbers and the privacy loss each system spent on them."""

    period: str
    released_at: datetime
    counts: tuple[ReleasedCount, ...]
    spends: tuple[Spend, ...]
    contributions: int

    def table(self, system: str, measure: str, attribute: str | None = None) -> list[ReleasedCount]:
        """Return one released table (overall when ``attribute`` is ``None``)."""
        return [
            c
            for c in self.counts
            if (c.system, c.measure, c.attribute) == (system, measure, attribute)
        ]


def release_transparency(
    events: pd.DataFrame | Iterable[Mapping[str, Any]],
    *,
    specs: Sequence[SystemSpec],
    budgets: Mapping[str, PrivacyBudget],
    period: str,
    epsilon: float,
    released_at: datetime,
    confidence: float = 0.95,
    contributions: int = 1,
    measures: Sequence[str] = tuple(MEASURES),
) -> TransparencyRelease:
    """Release a period's counts of every system with differential privacy, through OpenDP.

    Parameters
    ----------
    events : DataFrame or iterable of mappings
        One row per event, with columns ``system``, ``subject`` (who it is about),
        ``measure`` (a key of :data:`MEASURES`), ``category`` and one column per protected
        attribute (missing: "not given").
    specs : sequence of SystemSpec
        The systems to report on: their outcomes and protected attributes fix the categories.
    budgets : mapping
        Each system's :class:`PrivacyBudget`; each is charged before anything is measured.
    period : str
        The period the events cover (``"2026-Q1"``), naming the release.
    epsilon : float
        The ε each system spends on this release, split evenly over its tables.
    released_at : datetime
        When the release is made (each spend's time).
    confidence : float
        The probability that a true count lies within its published interval.
    contributions : int
        The most rows one customer adds to one table; further rows are dropped.

    Raises
    ------
    PrivacyBudgetExceeded
        When any system's budget cannot pay; then nothing is released and nothing is spent.
    InputError
        When a column is missing or a category is not one the spec allows.
    """
    import opendp.prelude as dp

    dp.enable_features("contrib")
    frame = events if isinstance(events, pd.DataFrame) else pd.DataFrame(list(events))
    missing = {"system", "subject", "measure", "category"} - set(frame.columns)
    if missing and len(frame):
        raise InputError(f"the events lack the columns {sorted(missing)}")
    if not 0 < confidence < 1:
        raise InputError(f"confidence is a probability between 0 and 1, got {confidence}")
    if contributions < 1:
        raise InputError(f"contributions is at least 1 row per customer, got {contributions}")
    alpha = 1 - confidence
    # Everything is checked (columns, categories, budgets) before any noise is drawn.
    plans = []
    for spec in specs:
        if spec.id not in budgets:
            raise InputError(f"no privacy budget for {spec.id}: give one in budgets")
        rows = frame[frame["system"] == spec.id] if len(frame) else frame
        tables = _tables(spec, measures)
        scale = _scale(epsilon / len(tables), contributions)
        cells = [_cells(rows, spec, m, a, c, contributions) for m, a, c in tables]
        measurements = [_measurement(c, scale, dp) for *_, c in tables]
        needed = float(sum(m.map(d_in=contributions) for m in measurements))
        budgets[spec.id].check(needed, release=period)
        plans.append((spec, tables, scale, cells, measurements, needed))
    counts: list[ReleasedCount] = []
    spends: list[Spend] = []
    for spec, tables, scale, cells, measurements, needed in plans:
        accuracy = _accuracy(dp.discrete_laplacian_scale_to_accuracy(float(scale), alpha))
        for (measure, attribute, categories), values, measurement in zip(
            tables, cells, measurements, strict=True
        ):
            noisy = measurement(values)
            for cell, value in zip(categories, noisy, strict=True):
                category, group = cell.split("\x1f") if attribute else (cell, None)
                counts.append(ReleasedCount(
                    spec.id, measure, category, attribute, group, max(int(value), 0), accuracy,
                    confidence, needed / len(tables),
                ))  # fmt: skip
        what = f"transparency report {period}: {len(tables)} tables, Laplace scale {scale:.4g}"
        spends.append(budgets[spec.id].charge(needed, release=period, at=released_at, what=what))
    return TransparencyRelease(period, released_at, tuple(counts), tuple(spends), contributions)


def _tables(
    spec: SystemSpec, measures: Sequence[str]
) -> list[tuple[str, str | None, tuple[str, ...]]]:
    tables: list[tuple[str, str | None, tuple[str, ...]]] = []
    for key in measures:
        if key not in MEASURES:
            raise InputError(f"unknown measure {key!r}; known: {', '.join(MEASURES)}")
        categories = MEASURES[key].categories(spec)
        tables.append((key, None, categories))
        for attribute in spec.protected_attributes:
            groups = (*(attribute.categories or ()), NOT_GIVEN)
            cells = tuple(f"{c}\x1f{g}" for c in categories for g in groups)
            tables.append((key, attribute.name, cells))
    return tables


def _accuracy(bound: float) -> int:
    # OpenDP's bound holds after flooring (the noise is an integer); a vanishing scale yields
    # -inf: no error at all.
    return int(math.floor(bound)) if math.isfinite(bound) and bound > 0 else 0


def _scale(epsilon: float, contributions: int) -> float:
    # A customer changes at most `contributions` cells by one each: L1 sensitivity.
    return contributions / epsilon


def _measurement(categories: tuple[str, ...], scale: float, dp: Any) -> Any:
    space = dp.vector_domain(dp.atom_domain(T=str)), dp.symmetric_distance()
    counting = dp.t.make_count_by_categories(
        *space, categories=list(categories), null_category=False
    )
    return counting >> dp.m.then_laplace(scale=scale)


def _cells(
    rows: pd.DataFrame,
    spec: SystemSpec,
    measure: str,
    attribute: str | None,
    categories: tuple[str, ...],
    contributions: int,
) -> list[str]:
    if not len(rows):
        return []
    chosen = rows[rows["measure"] == measure]
    chosen = chosen.groupby("subject", sort=False).head(contributions)
    values = chosen["category"].astype(str)
    if attribute is not None:
        groups = (
            chosen[attribute].where(chosen[attribute].notna(), NOT_GIVEN).astype(str)
            if attribute in chosen
            else pd.Series(NOT_GIVEN, index=chosen.index)
        )
        values = values + "\x1f" + groups
    unknown = sorted(set(values) - set(categories))
    if unknown:
        shown = ", ".join(repr(u.replace("\x1f", " / ")) for u in unknown[:5])
        raise InputError(
            f"{spec.id} {measure}: values {shown} are not among the categories its spec declares"
        )
    return values.tolist()


def transparency_document(
    release: TransparencyRelease, *, specs: Sequence[SystemSpec], generated_at: datetime
) -> Document:
    """Render a release as the public transparency report (one section per system)."""
    confidence = f"{100 * release.counts[0].confidence:.0f}%" if release.counts else "95%"
    method = Section("method", "How these numbers were made", "", (
        Item("Method", "Every number is a count released with differential privacy through "
             "OpenDP: discrete Laplace noise is added to each count, so that no single "
             "customer's presence can be inferred.", "ethica.governance"),
        Item("Accuracy", f"Each number is shown with the interval that holds the true count "
             f"with {confidence} probability; noisy counts below zero are shown as 0.",
             "OpenDP accuracy"),
        Item("Privacy unit", f"one customer, counted at most {release.contributions} "
             f"{'time' if release.contributions == 1 else 'times'} per table", "release"),
        Item("Privacy loss", "; ".join(f"{s.system}: ε = {s.epsilon:.3g}" for s in
             release.spends), "privacy budget"),
    ))  # fmt: skip
    sections = [method]
    for spec in specs:
        tables: list[Table] = []
        for key, measure in MEASURES.items():
            overall = release.table(spec.id, key)
            if not overall:
                continue
            tables.append(Table(measure.label, ("Category", "Count", f"{confidence} interval"),
                                tuple(_row(c.category, c) for c in overall)))  # fmt: skip
            for attribute in spec.protected_attributes:
                cells = release.table(spec.id, key, attribute.name)
                tables.append(Table(
                    f"{measure.label}, by {attribute.name}",
                    ("Category and group", "Count", f"{confidence} interval"),
                    tuple(_row(f"{c.category}, {c.group}", c) for c in cells),
                ))  # fmt: skip
        sections.append(Section(spec.id, spec.name, "", (), tuple(tables)))
    return Document(
        type=DOCUMENT_TYPES["transparency-report"],
        system="all" if len(specs) != 1 else specs[0].id,
        title=f"Transparency report {release.period}",
        generated_at=generated_at,
        sections=tuple(sections),
        sources=tuple(s.ref for s in release.spends if s.ref is not None),
    )


def _row(label: str, count: ReleasedCount) -> tuple[str, str, str]:
    low, high = count.interval
    return (label, str(count.count), f"{low} to {high}")
