"""Binary decisions (approve / decline): confusion counts per group and metrics built on them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ethica.engines import Engine
from ethica.errors import InputError
from ethica.fairness._count_table import CountTable, ScoreBins, named_cells
from ethica.fairness._group_metrics import FloatArray, GroupMetrics, ratio
from ethica.fairness._opening import check_options, require_rows
from ethica.fairness._plan import SCORE_BINS, Roles, binary_aggregation, plan_scores
from ethica.fairness._rollup import Rollup

# Cell order of the last axis of a confusion array: index = 2 * label + prediction.
TN, FP, FN, TP = 0, 1, 2, 3

#: Proportions: metric -> (cells in the numerator, cells in the denominator).
RATES: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = {
    "selection_rate": ((FP, TP), (TN, FP, FN, TP)),
    "base_rate": ((FN, TP), (TN, FP, FN, TP)),
    "true_positive_rate": ((TP,), (FN, TP)),
    "false_negative_rate": ((FN,), (FN, TP)),
    "true_negative_rate": ((TN,), (TN, FP)),
    "false_positive_rate": ((FP,), (TN, FP)),
    "precision": ((TP,), (FP, TP)),
    "negative_predictive_value": ((TN,), (TN, FN)),
    "false_discovery_rate": ((FP,), (FP, TP)),
    "false_omission_rate": ((FN,), (TN, FN)),
    "accuracy": ((TN, TP), (TN, FP, FN, TP)),
}
#: Rates that need no label: all a decision log without outcomes supports.
LABEL_FREE = ("selection_rate",)


def binary_table(
    engine: Engine,
    source: Any,
    roles: Roles,
    *,
    pos_label: Any = None,
    score_bins: int | ScoreBins = SCORE_BINS,
    options: dict[str, Any] | None = None,
) -> CountTable:
    """Aggregate a binary decision table and check that its labels and predictions are binary.

    ``score_bins``: at most this many distinct scores are kept exactly, more are binned in this
    many equal-width bins; a :class:`ScoreBins` fixes the bins (shards of one audit). The one
    option, ``{"window": True}``, counts one window of a longer log (monitoring): there, every
    0/1 label or prediction may be the same (a day whose outcomes are all favourable).
    """
    check_options("binary", options, ("window",))
    window = bool((options or {}).get("window"))
    scores = plan_scores(engine, source, roles.score, score_bins)
    bins = scores.bins
    cells = engine.aggregate(source, binary_aggregation(roles, bins, unit=scores.unit))
    require_rows(cells)
    keys = ["label", "prediction"] if roles.label is not None else ["prediction"]
    values = {key: _present_values(cells, key, roles) for key in keys}
    for key in keys:
        _check_at_most_two(values[key], key, getattr(roles, key))
    positive = _positive_label(values, pos_label)
    for key in keys:
        if not (window and positive == 1 and set(values[key]) <= {0, 1}):
            _check_binary(values[key], key, positive, getattr(roles, key))
        cells[key] = (_as_comparable(cells[key]) == positive).astype(np.int8)
    if "score_bin" in cells:
        if cells["score_bin"].isna().any():
            rows = int(cells.loc[cells["score_bin"].isna(), "n"].sum())
            raise InputError(
                f"score column {roles.score!r} is missing on {rows} rows; fill or drop them"
            )
        cells["score_bin"] = cells["score_bin"].astype(np.float64)
        keys.append("score_bin")
    cells, codes = named_cells(cells, roles.sensitive)
    negatives = [v for v in values[keys[0]] if v != positive]
    negative = negatives[0] if negatives else (0 if positive == 1 else None)
    table = CountTable(
        kind="binary",
        sensitive_features=roles.sensitive,
        cells=cells,
        keys=tuple(keys),
        classes=(negative, positive),
        bins=bins,
    )
    for feature, factorized in codes.items():
        table.keep_codes(feature, factorized)
    return table


def confusion(rollup: Rollup) -> tuple[pd.DataFrame, FloatArray]:
    """Return the groups of a rolled-up count table and their (G, 4) counts (TN, FP, FN, TP)."""
    grouped = rollup.cells
    label = grouped["label"] if "label" in grouped else pd.Series(0, index=grouped.index)
    cell = 2 * label.to_numpy().astype(np.int64) + grouped["prediction"].to_numpy().astype(np.int64)
    counts = np.zeros((len(rollup.groups), 4))
    np.add.at(counts, (rollup.codes, cell), grouped["n"].to_numpy(dtype=np.float64))
    groups = rollup.groups.copy()
    groups["n"] = counts.sum(axis=1).astype(np.int64)
    return groups, counts


def rate_values(
    counts: FloatArray, names: tuple[str, ...]
) -> dict[str, tuple[FloatArray, FloatArray]]:
    """Numerator and denominator of each named rate; ``counts`` has cells on its last axis."""
    out = {}
    for name in names:
        num_cells, den_cells = RATES[name]
        out[name] = (
            counts[..., list(num_cells)].sum(axis=-1),
            counts[..., list(den_cells)].sum(axis=-1),
        )
    return out


def derived_values(counts: FloatArray, *, has_label: bool) -> dict[str, FloatArray]:
    """Every binary metric computable from confusion counts (any leading axes)."""
    names = tuple(RATES) if has_label else LABEL_FREE
    rates = rate_values(counts, names)
    values = {name: ratio(num, den) for name, (num, den) in rates.items()}
    if has_label:
        tpr, tnr = values["true_positive_rate"], values["true_negative_rate"]
        values["balanced_accuracy"] = (tpr + tnr) / 2.0
        tp, fp, fn = counts[..., TP], counts[..., FP], counts[..., FN]
        values["f1"] = ratio(2.0 * tp, 2.0 * tp + fp + fn)
    return values


def binary_metrics(table: CountTable, grouping: tuple[str, ...]) -> GroupMetrics:
    """Every binary metric for each group of ``grouping`` (the empty grouping: everyone)."""
    rollup = table.rollup(grouping)
    groups, counts = confusion(rollup)
    has_label = "label" in table.keys
    names = tuple(RATES) if has_label else LABEL_FREE
    values = derived_values(counts, has_label=has_label)
    curves: Mapping[str, pd.DataFrame] = {}
    if "score_bin" in table.keys:
        from ethica.fairness._scores import score_metrics

        score_values, curves = score_metrics(table, rollup)
        values.update(score_values)
    supports: dict[str, FloatArray] = {}
    if has_label:
        # Each needs both outcomes (ROC AUC, balanced accuracy) or counts TP + FP + FN (F1).
        both = np.minimum(counts[:, [FN, TP]].sum(axis=1), counts[:, [TN, FP]].sum(axis=1))
        supports = {"balanced_accuracy": both, "f1": counts[:, [FP, FN, TP]].sum(axis=1)}
        if "roc_auc" in values:
            supports["roc_auc"] = both
    return GroupMetrics(
        grouping=grouping,
        groups=groups,
        values=values,
        rates=rate_values(counts, names),
        curves=curves,
        supports=supports,
    )


def _as_comparable(values: pd.Series) -> pd.Series:
    """Booleans and integral floats compare equal to 0/1 labels."""
    if values.dtype == bool:
        return values.astype(np.int64)
    return values


def _present_values(cells: pd.DataFrame, key: str, roles: Roles) -> list[Any]:
    column = getattr(roles, key)
    missing = cells[key].isna()
    if missing.any():
        rows = int(cells.loc[missing, "n"].sum())
        raise InputError(
            f"{key} column {column!r} is missing on {rows} rows; drop those rows (or, for a "
            "decision log whose outcomes have not arrived, audit without a label)"
        )
    values = _as_comparable(cells[key]).unique().tolist()
    return sorted(values, key=lambda v: (str(type(v)), v))


def _positive_label(values: dict[str, list[Any]], pos_label: Any) -> Any:
    if pos_label is not None:
        seen_values = [v for vs in values.values() for v in vs]
        if pos_label in seen_values:
            return pos_label
        # A label given as text (from the command line) matches a value with the same spelling.
        spelled = [v for v in seen_values if str(v) == str(pos_label)]
        return spelled[0] if spelled else pos_label
    seen = set().union(*(set(v) for v in values.values()))
    if seen <= {0, 1}:
        return 1
    raise InputError(
        f"cannot tell which value is the favourable outcome among {sorted(map(str, seen))}; "
        "say it with pos_label= (e.g. pos_label='>50K')"
    )


def _check_at_most_two(values: list[Any], key: str, column: str | None) -> None:
    if len(values) > 2:
        raise InputError(
            f"{key} column {column!r} has {len(values)} values {values[:6]}; a binary audit needs "
            "two. Use kind='multiclass' for several classes or kind='regression' for amounts"
        )


def _check_binary(values: list[Any], key: str, positive: Any, column: str | None) -> None:
    if len(values) < 2:
        raise InputError(
            f"{key} column {column!r} has only one value ({values[0]!r}): every row is the same, "
            "so "
            "no rate can be compared between groups"
        )
    if positive not in values:
        raise InputError(
            f"pos_label {positive!r} is not a value of {key} column {column!r}: {values}"
        )
