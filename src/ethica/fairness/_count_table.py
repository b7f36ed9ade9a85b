"""The count table: one aggregation pass over the rows, from which every figure is computed.

A count table holds, per group (the full intersection of the sensitive features) and per cell of
the decision (label x prediction, score bin, position, ...), the number of rows and the sums the
metrics need. Coarser groupings (one feature, a pair of features) are sums over it, and tables
from shards or time windows merge by adding them up.
"""

from __future__ import annotations

import itertools
import re
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import MISSING as NO_DEFAULT
from dataclasses import dataclass, field, fields, replace
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from ethica.errors import InputError
from ethica.fairness._plan import ScoreBins as ScoreBins
from ethica.fairness._rollup import Factorized, Rollup, factorize_sorted, roll_up, sum_cells

Kind = Literal["binary", "multiclass", "regression", "ranking"]
MISSING = "missing"
GROUP_SEPARATOR = " × "


class MissingGroupWarning(UserWarning):
    """A sensitive feature has missing values; they are audited as a group named "missing"."""

    def __init__(self, feature: str, rows: int) -> None:
        super().__init__(
            f"sensitive feature {feature!r} is missing on {rows} rows; they are audited as "
            f"their own group {MISSING!r}"
        )
        self.feature = feature
        self.rows = rows

    @classmethod
    def notes(cls, caught: Sequence[warnings.WarningMessage]) -> list[str]:
        """Say each missing group among the ``caught`` warnings as a page does."""
        return [w.message.in_words() for w in caught if isinstance(w.message, cls)]

    def in_words(self) -> str:
        """Say the warning as a page does: ``Origin was not given for 99 decisions: …``."""
        name = self.feature.replace("_", " ")
        return (
            f"{name[:1].upper()}{name[1:]} was not given for {self.rows:,} "
            f"decision{'s' if self.rows != 1 else ''}: they are audited as their own group, "
            f"“{MISSING}”."
        )


@dataclass(frozen=True)
class CountTable:
    """Counts and sums per group and decision cell; everything an audit reports derives from it.

    Attributes
    ----------
    kind
        The kind of decision: ``"binary"``, ``"multiclass"``, ``"regression"`` or ``"ranking"``.
    sensitive_features
        Names of the sensitive features; the first columns of ``cells``.
    cells
        One row per non-empty cell: the sensitive features (as text, missing values as
        ``"missing"``), the decision keys of the kind, ``n`` and the sums.
    keys
        The decision key columns of ``cells`` (e.g. ``label``, ``prediction``, ``score_bin``).
    classes
        For binary decisions ``(negative, positive)``; for multiclass the class labels.
    bins
        How scores or predicted values were binned, when they were.
    options
        Kind-specific settings the metrics need (e.g. the top-k cut-offs of a ranking).
    """

    kind: Kind
    sensitive_features: tuple[str, ...]
    cells: pd.DataFrame
    keys: tuple[str, ...]
    classes: tuple[Any, ...] = ()
    bins: ScoreBins | None = None
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        """Number of rows (decisions) counted."""
        return int(self.cells["n"].sum())

    @property
    def sums(self) -> list[str]:
        """Names of the summed columns."""
        fixed = {*self.sensitive_features, *self.keys, "n"}
        return [c for c in self.cells.columns if c not in fixed]

    def groupings(self, which: Literal["all", "marginal", "full"] = "all") -> list[tuple[str, ...]]:
        """List the groupings to report: each feature, every intersection, or only the finest."""
        features = self.sensitive_features
        if which == "full" or len(features) == 1:
            return [features]
        if which == "marginal":
            return [(f,) for f in features]
        sizes = range(1, len(features) + 1)
        return [c for r in sizes for c in itertools.combinations(features, r)]

    def grouped(self, grouping: Sequence[str]) -> pd.DataFrame:
        """Cells summed over the features not in ``grouping`` (one row per group and cell)."""
        return self.rollup(grouping).cells

    def overall(self) -> pd.DataFrame:
        """Cells summed over every group: the whole population."""
        return self.rollup(()).cells

    def rollup(self, grouping: Sequence[str]) -> Rollup:
        """Cells summed to ``grouping`` (as :meth:`grouped`), with each summed cell's group."""
        return roll_up(self.cells, grouping, self.keys, self.sums, self.factorized)

    def factorized(self, column: str) -> Factorized | None:
        """Return the column as codes of its sorted distinct values (None if a value is missing).

        Each column is factorized once per table, however many groupings sum its cells.
        """
        known = self._codes
        if column not in known:
            known[column] = factorize_sorted(self.cells[column])
        return known[column]

    @classmethod
    def deferred(
        cls, cells: Callable[[], pd.DataFrame], arrays: Mapping[str, Any], **values: Any
    ) -> CountTable:
        """Build a table whose ``cells`` become a data frame when first read.

        For who counts arrays (``count_arrays``): ``cells`` builds the frame; ``arrays`` are
        some of its columns as numpy arrays, which :meth:`column` gives without building it
        (choosing thresholds reads no other). ``values``: the other fields.
        """
        table = cls.__new__(cls)
        for known in fields(cls):
            if known.name != "cells":
                value = values.get(known.name, known.default)
                if value is NO_DEFAULT:
                    value = known.default_factory()  # type: ignore[misc]
                object.__setattr__(table, known.name, value)
        object.__setattr__(table, "_deferred", (cells, dict(arrays)))
        return table

    if not TYPE_CHECKING:  # to the type checker ``cells`` is a field like any other

        def __getattr__(self, name: str) -> Any:
            # Only reached for an attribute not set: the cells of a deferred table, once.
            deferred = self.__dict__.get("_deferred")
            if name != "cells" or deferred is None:
                raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
            cells = deferred[0]()
            object.__setattr__(self, "cells", cells)
            # From now on the columns are read from the cells, whatever is done to them.
            object.__setattr__(self, "_deferred", None)
            return cells

    def __getstate__(self) -> dict[str, Any]:
        """Pickle and copy a deferred table with its cells built (a builder does not pickle)."""
        if self.__dict__.get("_deferred") is not None:
            self.cells  # noqa: B018 - reading them builds them
        return {k: v for k, v in self.__dict__.items() if k != "_deferred"}

    def column(self, name: str, dtype: Any = None) -> np.ndarray[Any, Any]:
        """Return a column of the cells as an array (a deferred table's without building them)."""
        deferred = self.__dict__.get("_deferred")
        if deferred is not None and name in deferred[1]:
            return np.asarray(deferred[1][name], dtype=dtype)
        return self.cells[name].to_numpy(dtype)

    def keep_codes(self, column: str, codes: Factorized) -> None:
        """Keep a column's codes (as :meth:`factorized` gives them) known to who built the cells."""
        self._codes[column] = codes

    @cached_property
    def _codes(self) -> dict[str, Factorized | None]:
        return {}

    def merge(self, other: CountTable) -> CountTable:
        """Add the counts of another table of the same kind, features and bins (shards, windows)."""
        same = (
            self.kind == other.kind
            and self.sensitive_features == other.sensitive_features
            and self.keys == other.keys
            and self.bins == other.bins
        )
        if not same:
            raise InputError(
                "only count tables of the same kind, sensitive features and score bins merge; "
                "pass the same score_bins to every shard"
            )
        classes = tuple(dict.fromkeys((*self.classes, *other.classes)))
        cells = pd.concat([self.cells, other.cells], ignore_index=True)
        merged = sum_cells(cells, [*self.sensitive_features, *self.keys], self.sums)
        return replace(self, cells=merged, classes=classes)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready form of the table."""
        return {
            "kind": self.kind,
            "sensitive_features": list(self.sensitive_features),
            "keys": list(self.keys),
            "classes": [_plain(c) for c in self.classes],
            "bins": None if self.bins is None else self.bins.__dict__,
            "cells": [
                {k: _plain(v) for k, v in row.items()}
                for row in self.cells.to_dict(orient="records")
            ],
        }


def group_labels(frame: pd.DataFrame | Mapping[str, Any], grouping: Sequence[str]) -> list[str]:
    """Name each group for display: its values joined by " × " (columns with ``tolist``)."""
    if not grouping:
        return [""] * len(frame)
    columns = [[str(v) for v in frame[feature].tolist()] for feature in grouping]
    return [GROUP_SEPARATOR.join(values) for values in zip(*columns, strict=True)]


def group_order(label: str) -> tuple[tuple[int, float, str], ...]:
    """Sort key of a group's name, so bands read in order: ``<25``, ``25-44``, ``45-64``, ``65+``.

    Each value of an intersection (``"F × <25"``) sorts by its first number (a band "below"
    a bound just under it), then by its text; values without a number come after, by text.
    """
    return tuple(_value_order(value) for value in label.split(GROUP_SEPARATOR))


def _value_order(value: str) -> tuple[int, float, str]:
    number = re.search(r"\d+(?:\.\d+)?", value)
    if number is None:
        return (1, 0.0, value)
    bound = float(number.group())
    below = value.lstrip().lower().startswith(("<", "≤", "under", "below"))
    return (0, bound - 0.5 if below else bound, value)


def normalize_groups(cells: pd.DataFrame, features: Sequence[str]) -> pd.DataFrame:
    """Sensitive values as text, with a missing value as the group "missing" (and a warning)."""
    return named_cells(cells, features, stacklevel=6)[0]


def named_cells(
    cells: pd.DataFrame, features: Sequence[str], *, stacklevel: int = 5
) -> tuple[pd.DataFrame, dict[str, Factorized]]:
    """:func:`normalize_groups`, with each feature's codes as ``CountTable.factorized`` gives them.

    A table handed these (``keep_codes``) does not factorize its cells' text again.
    """
    cells = cells.copy()
    counts = cells["n"].to_numpy()
    codes_of: dict[str, Factorized] = {}
    for feature in features:
        # Each distinct value is named once; the cells (up to millions) only take the names.
        codes, uniques = pd.factorize(cells[feature], use_na_sentinel=True)
        named = named_groups(codes, np.asarray(uniques), feature, counts, stacklevel=stacklevel)
        cells[feature] = named.column
        codes_of[feature] = named.sorted_codes()
    return cells, codes_of


def group_names(
    codes: np.ndarray[Any, Any],
    uniques: np.ndarray[Any, Any],
    feature: str,
    counts: np.ndarray[Any, Any],
    *,
    stacklevel: int,
) -> Any:
    """Name each cell's value (``uniques[code]``) as text; a missing one is the group "missing".

    A missing value (NaN, None, code -1) warns, saying how many rows (``counts``) it holds.
    """
    return named_groups(codes, uniques, feature, counts, stacklevel=stacklevel + 1).column


@dataclass(frozen=True)
class NamedGroups:
    """Each cell's group name, as its position among the distinct values' names."""

    names: np.ndarray[Any, Any]
    positions: np.ndarray[Any, Any]

    @property
    def column(self) -> Any:
        """The cells' names as a column of text."""
        # Taken from a column of the names (text as pandas keeps it, pyarrow in pandas 3), so
        # that the cells' text is not converted again, cell by cell.
        return pd.Series(self.names).array.take(self.positions)

    def sorted_codes(self) -> Factorized:
        """Return the codes ``CountTable.factorized`` gives the column, without reading its text."""
        present = np.bincount(self.positions, minlength=len(self.names)) > 0
        # Two values may share a name (1 and 1.0, None and NaN): ranked by name, they merge.
        distinct, inverse = np.unique(self.names[present], return_inverse=True)
        rank = np.zeros(len(self.names), dtype=np.int64)
        rank[present] = inverse.reshape(-1)
        return Factorized(rank[self.positions], len(distinct), distinct)


def named_groups(
    codes: np.ndarray[Any, Any],
    uniques: np.ndarray[Any, Any],
    feature: str,
    counts: np.ndarray[Any, Any],
    *,
    stacklevel: int,
) -> NamedGroups:
    """:func:`group_names`, with each cell's name as a position among the names."""
    absent = np.append(np.asarray(pd.isna(uniques), dtype=bool), True)  # code -1: missing
    missing = absent[codes]
    if missing.any():
        rows = int(counts[missing].sum())
        warnings.warn(MissingGroupWarning(str(feature), rows), stacklevel=stacklevel)
    names = [MISSING if gone else _text(v) for v, gone in zip(uniques, absent, strict=False)]
    return NamedGroups(
        np.array([*names, MISSING], dtype=object), np.where(codes < 0, len(uniques), codes)
    )


def _text(value: Any) -> str:
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, (bytes, bytearray)):
        return value.decode()
    return str(value)


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return value
