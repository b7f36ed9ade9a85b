"""Decisions among several classes (support tiers, offers): a confusion matrix per group.

One aggregation counts the rows per group, true class (``label``, optional) and decided class
(``prediction``). Each class ``c`` is then assessed one-vs-rest: how often a group is given
``c``, and, with labels, how often those truly in ``c`` are given it and how often those not in
``c`` are.
"""

from __future__ import annotations

import math
from numbers import Number
from typing import Any

import numpy as np
import pandas as pd

from ethica.engines import Aggregation, Col, Engine, Expr
from ethica.errors import InputError
from ethica.fairness._count_table import CountTable, ScoreBins, normalize_groups
from ethica.fairness._group_metrics import FloatArray, GroupMetrics, ratio
from ethica.fairness._opening import check_options, check_roles, require_rows
from ethica.fairness._roles import Roles
from ethica.fairness._rollup import Rollup


def multiclass_table(
    engine: Engine,
    source: Any,
    roles: Roles,
    *,
    pos_label: Any = None,
    score_bins: int | ScoreBins = 1000,
    options: dict[str, Any] | None = None,
) -> CountTable:
    """Aggregate multiclass decisions: counts per group, true class and decided class.

    Parameters
    ----------
    engine, source, roles
        Where the rows are and which column plays which part; ``label`` is optional.
    score_bins
        Not used by this kind.
    options
        ``classes``: every class in the order to report them (fixes the classes across shards
        and catches unexpected values); by default the classes seen, sorted.
    """
    check_roles(
        "multiclass",
        roles,
        pos_label=pos_label,
        prediction="the decisions",
        unused=("score", "list_id"),
        instead="leave them out",
    )
    check_options("multiclass", options, ("classes",))
    keys: list[tuple[str, Expr]] = [(f, Col(f)) for f in roles.sensitive]
    decision_keys = ("label", "prediction") if roles.label is not None else ("prediction",)
    keys += [(key, Col(str(getattr(roles, key)))) for key in decision_keys]
    cells = engine.aggregate(source, Aggregation(keys=tuple(keys)))
    require_rows(cells)
    seen: dict[str, list[Any]] = {}
    for key in decision_keys:
        column = getattr(roles, key)
        missing = cells[key].isna()
        if missing.any():
            rows = int(cells.loc[missing, "n"].sum())
            raise InputError(
                f"{key} column {column!r} is missing on {rows} rows; drop those rows (or, for a "
                "decision log whose outcomes have not arrived, audit without a label)"
            )
        cells[key] = pd.Series(
            [class_value(v) for v in cells[key]], index=cells.index, dtype=object
        )
        seen[key] = list(dict.fromkeys(cells[key]))
    classes = _classes(seen, roles, (options or {}).get("classes"))
    cells = normalize_groups(cells, roles.sensitive)
    return CountTable(
        kind="multiclass",
        sensitive_features=roles.sensitive,
        cells=cells,
        keys=decision_keys,
        classes=classes,
    )


def multiclass_metrics(table: CountTable, grouping: tuple[str, ...]) -> GroupMetrics:
    """One-vs-rest metrics of every class for each group of ``grouping`` (empty: everyone).

    For each class ``c`` (``[c]`` ends the metric's name):

    - ``selection_rate[c]``: share of the group decided ``c``;
    - with labels, ``base_rate[c]``: share truly in ``c``; ``true_positive_rate[c]`` (recall):
      share of those truly in ``c`` decided ``c``; ``false_positive_rate[c]``: share of those
      not in ``c`` decided ``c``; ``precision[c]``: share of those decided ``c`` truly in ``c``;
    - with labels, ``accuracy``: share decided their true class.

    Every metric is a proportion, with its numerator and denominator in ``rates``.
    """
    groups, matrix = confusion_matrices(table.rollup(grouping), table.classes)
    n = groups["n"].to_numpy(dtype=np.float64)
    decided = matrix.sum(axis=1)  # (G, K): rows decided each class
    rates: dict[str, tuple[FloatArray, FloatArray]] = {}
    names = [class_name(c) for c in table.classes]
    for k, name in enumerate(names):
        rates[f"selection_rate[{name}]"] = (decided[:, k], n)
    if "label" in table.keys:
        truly = matrix.sum(axis=2)  # (G, K): rows truly in each class
        hits = np.diagonal(matrix, axis1=1, axis2=2)  # (G, K)
        for k, name in enumerate(names):
            rates[f"base_rate[{name}]"] = (truly[:, k], n)
        for k, name in enumerate(names):
            rates[f"true_positive_rate[{name}]"] = (hits[:, k], truly[:, k])
        for k, name in enumerate(names):
            rates[f"false_positive_rate[{name}]"] = (decided[:, k] - hits[:, k], n - truly[:, k])
        for k, name in enumerate(names):
            rates[f"precision[{name}]"] = (hits[:, k], decided[:, k])
        rates["accuracy"] = (hits.sum(axis=1), n)
    values = {metric: ratio(num, den) for metric, (num, den) in rates.items()}
    return GroupMetrics(grouping=grouping, groups=groups, values=values, rates=rates)


def confusion_matrices(rollup: Rollup, classes: tuple[Any, ...]) -> tuple[pd.DataFrame, FloatArray]:
    """Count each group's rows by true class (axis 1) and decided class (axis 2): (G, K, K).

    Returns the groups (with ``n``) and the counts. Without labels every row counts as true
    class 0, so only the decided classes are meaningful.
    """
    grouped = rollup.cells
    index = {c: i for i, c in enumerate(classes)}
    decided = np.array([index[v] for v in grouped["prediction"]], dtype=np.int64)
    if "label" in grouped:
        truth = np.array([index[v] for v in grouped["label"]], dtype=np.int64)
    else:
        truth = np.zeros(len(grouped), dtype=np.int64)
    codes, groups = rollup.codes, rollup.groups.copy()
    matrix = np.zeros((len(groups), len(classes), len(classes)))
    np.add.at(matrix, (codes, truth, decided), grouped["n"].to_numpy(dtype=np.float64))
    groups["n"] = matrix.sum(axis=(1, 2)).astype(np.int64)
    return groups, matrix


def class_value(value: Any) -> Any:
    """Turn a class into a plain Python value: booleans and whole floats as ints, bytes as text."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, (bytes, bytearray)):
        return value.decode()
    return value


def class_name(value: Any) -> str:
    """How a class is written inside a metric's name."""
    return str(value)


def _classes(seen: dict[str, list[Any]], roles: Roles, declared: Any) -> tuple[Any, ...]:
    values = list(dict.fromkeys(v for key in seen for v in seen[key]))
    kinds = {key: {_value_kind(v) for v in seen[key]} for key in seen}
    if any(len(k) > 1 for k in kinds.values()) or len(set().union(*kinds.values())) > 1:
        described = {f"{key} column {getattr(roles, key)!r}": sorted(k) for key, k in kinds.items()}
        raise InputError(
            f"classes mix text and numbers ({described}); encode labels and predictions the same "
            "way (e.g. both as text)"
        )
    if "label" in seen and not set(seen["label"]) & set(seen["prediction"]):
        raise InputError(
            f"labels {_shown(seen['label'])} and predictions {_shown(seen['prediction'])} share "
            "no class; encode both with the same class names"
        )
    if declared is not None:
        classes = tuple(class_value(c) for c in declared)
        stray = [v for v in values if v not in classes]
        if stray:
            raise InputError(
                f"values {_shown(stray)} occur in the data but not in options['classes'] "
                f"{list(classes)}; add them or fix the data"
            )
    else:
        classes = tuple(sorted(values, key=_sort_key))
    if len(classes) < 2:
        raise InputError(
            f"only one class ({classes[0]!r}) occurs; a multiclass audit needs at least two "
            "(use kind='binary' for yes/no decisions)"
        )
    return classes


def _value_kind(value: Any) -> str:
    if isinstance(value, Number) and not isinstance(value, bool):
        return "number"
    return "text"


def _sort_key(value: Any) -> tuple[int, float, str]:
    if isinstance(value, Number) and not isinstance(value, bool):
        number = float(value)  # type: ignore[arg-type]
        return (0, number if not math.isnan(number) else math.inf, "")
    return (1, 0.0, str(value))


def _shown(values: list[Any]) -> list[Any]:
    return sorted(values, key=_sort_key)[:8]
