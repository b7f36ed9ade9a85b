"""The audit: one aggregation pass into a count table, then every metric, gap, interval and test."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import pandas as pd

from ethica.engines import Engine, get_engine
from ethica.errors import InputError
from ethica.fairness._count_table import CountTable, Kind, ScoreBins
from ethica.fairness._disparities import (
    Settings,
    compare_groups,
    corrected_intervals,
    criteria,
    finish_comparisons,
    summarize,
)
from ethica.fairness._findings import findings, undefined_reasons
from ethica.fairness._kinds import decision_kind
from ethica.fairness._plan import SCORE_BINS
from ethica.fairness._result import Audit
from ethica.fairness._roles import ColumnOrArray, Roles, resolve_roles
from ethica.fairness._significance import Correction

Groupings = Literal["all", "marginal", "full"]


def count_table(
    data: Any = None,
    *,
    sensitive_features: Any,
    label: ColumnOrArray = None,
    prediction: ColumnOrArray = None,
    score: ColumnOrArray = None,
    list_id: ColumnOrArray = None,
    kind: Kind = "binary",
    pos_label: Any = None,
    score_bins: int | ScoreBins = SCORE_BINS,
    engine: str | Engine = "auto",
    options: Mapping[str, Any] | None = None,
) -> CountTable:
    """Aggregate decisions into a count table in one pass, on the engine where the data lives.

    Parameters
    ----------
    data
        A pandas, polars or pyarrow table, a Parquet/CSV path, a SQL table name (with a
        PostgreSQL engine) or a Spark DataFrame; ``None`` when the roles below are arrays.
    sensitive_features
        Column names (``["sex", "race"]`` or ``"sex,race"``), or arrays when ``data`` is None.
    label, prediction, score, list_id
        Columns (or arrays) with the true outcome, the decision, the model's score, and (for
        rankings) the list a row belongs to.
    kind
        ``"binary"``, ``"multiclass"``, ``"regression"`` or ``"ranking"``.
    pos_label
        The favourable outcome of a binary decision; 1 when labels are 0/1.
    score_bins
        At most this many distinct scores are kept exactly (exact ROC AUC); more are binned in
        this many equal-width bins. Pass a :class:`ScoreBins` to fix the bins across shards.
    engine
        ``"auto"`` (in-memory for tables in memory, DuckDB for files), ``"memory"``,
        ``"duckdb"``, ``"spark"``, or a ``postgresql://`` URL.
    options
        Kind-specific settings, e.g. ``{"top_k": (5, 10)}`` for rankings.
    """
    source, roles = resolve_roles(
        data,
        sensitive_features=sensitive_features,
        label=label,
        prediction=prediction,
        score=score,
        list_id=list_id,
    )
    decisions = decision_kind(kind)
    chosen = get_engine(engine, source)
    _check_columns(chosen, source, roles)
    return decisions.table(
        chosen,
        source,
        roles,
        pos_label=pos_label,
        score_bins=score_bins,
        options=dict(options or {}),
    )


def audit(
    data: Any = None,
    *,
    sensitive_features: Any,
    label: ColumnOrArray = None,
    prediction: ColumnOrArray = None,
    score: ColumnOrArray = None,
    list_id: ColumnOrArray = None,
    kind: Kind = "binary",
    pos_label: Any = None,
    engine: str | Engine = "auto",
    groupings: Groupings = "all",
    reference: Mapping[str, Any] | None = None,
    min_group_size: int = 30,
    confidence: float = 0.95,
    correction: Correction = "holm",
    materiality: float = 0.05,
    four_fifths: float = 0.8,
    bootstrap: int = 0,
    seed: int = 0,
    score_bins: int | ScoreBins = SCORE_BINS,
    options: Mapping[str, Any] | None = None,
) -> Audit:
    """Assess disparities between groups of customers in a set of decisions.

    One aggregation pass builds the :class:`CountTable`; every metric per group (and per
    intersection of groups), every gap, interval and test is computed from it.

    Parameters
    ----------
    data, sensitive_features, label, prediction, score, list_id, kind, pos_label, engine
        What to audit and where; see :func:`count_table`. ``data`` may also be a ready
        :class:`CountTable` (for example the merge of several shards).
    groupings
        ``"all"``: each sensitive feature alone and every intersection; ``"marginal"``: each
        feature alone; ``"full"``: only the intersection of all features.
    reference
        Compare each group with this group (one value per feature, e.g. ``{"sex": "Male"}``)
        instead of with the whole population.
    min_group_size
        Gaps resting on fewer rows are reported but not asserted: a group's rows, and for a
        rate its denominator (positives for the true positive rate, negatives for the false
        positive rate, favourable decisions for precision).
    confidence
        Level of every interval; ``1 - confidence`` is the significance level of the tests.
    correction
        Correction of the p-values of all group comparisons: ``"holm"``, ``"bh"`` or ``"none"``.
    materiality
        A gap is material when its absolute difference reaches this (0.05 = 5 points), or, for
        selection rates, when the ratio falls outside the four-fifths band.
    four_fifths
        The threshold ``t`` of the two-sided four-fifths rule: ratios outside ``[t, 1/t]`` fail.
    bootstrap
        Number of bootstrap replicates (resampling the count table); 0 for analytic intervals only.
    seed
        Seed of the bootstrap.
    score_bins, options
        See :func:`count_table`.
    """
    settings = Settings(
        confidence=confidence,
        min_group_size=min_group_size,
        reference=None if reference is None else dict(reference),
        correction=correction,
        materiality=materiality,
        four_fifths=four_fifths,
        bootstrap=bootstrap,
        seed=seed,
    )
    _check_settings(settings)
    if isinstance(data, CountTable):
        table = data
    else:
        table = count_table(
            data,
            sensitive_features=sensitive_features,
            label=label,
            prediction=prediction,
            score=score,
            list_id=list_id,
            kind=kind,
            pos_label=pos_label,
            score_bins=score_bins,
            engine=engine,
            options=options,
        )
    return assess(table, settings, groupings=groupings)


def assess(table: CountTable, settings: Settings, *, groupings: Groupings = "all") -> Audit:
    """Every metric, gap, interval and test of an audit, from its count table alone."""
    kind = decision_kind(table.kind)
    metrics_of = kind.metrics
    overall = metrics_of(table, ())
    by_grouping = {g: metrics_of(table, g) for g in table.groupings(groupings)}
    comparisons = pd.concat(
        [compare_groups(m, overall, settings) for m in by_grouping.values()], ignore_index=True
    )
    comparisons = finish_comparisons(comparisons, settings, relative=kind.relative)
    comparisons = corrected_intervals(comparisons, list(by_grouping.values()), overall, settings)
    comparisons["undefined"] = undefined_reasons(comparisons)
    summary = pd.concat(
        [summarize(m, overall, settings) for m in by_grouping.values()], ignore_index=True
    )
    if settings.bootstrap > 0 and kind.bootstrappable:
        from ethica.fairness._bootstrap import bootstrap_intervals, use_analytic_where_coarse

        per_group, per_metric = bootstrap_intervals(table, by_grouping, settings)
        comparisons = use_analytic_where_coarse(
            comparisons.merge(per_group, on=["grouping", "group", "metric"], how="left")
        )
        summary = summary.merge(per_metric, on=["grouping", "metric"], how="left")
    return Audit(
        table=table,
        settings=settings,
        overall=overall,
        metrics={" × ".join(g): m for g, m in by_grouping.items()},
        comparisons=comparisons,
        summary=summary,
        criteria=criteria(summary),
        findings=findings(comparisons, settings),
    )


def _check_columns(engine: Engine, source: Any, roles: Roles) -> None:
    available = engine.columns(source)
    missing = [c for c in roles.required() if c not in available]
    if missing:
        raise InputError(f"column(s) {missing} not found; the input has {sorted(available)[:30]}")


def _check_settings(settings: Settings) -> None:
    if not 0.5 <= settings.confidence < 1.0:
        raise InputError(f"confidence must be in [0.5, 1); got {settings.confidence}")
    if not 0.0 < settings.four_fifths <= 1.0:
        raise InputError(f"four_fifths must be in (0, 1]; got {settings.four_fifths}")
    if settings.correction not in ("holm", "bh", "none"):
        raise InputError(f"correction must be 'holm', 'bh' or 'none'; got {settings.correction!r}")
    if settings.min_group_size < 0 or settings.bootstrap < 0:
        raise InputError("min_group_size and bootstrap must not be negative")
