"""Differentially private synthetic decision logs, released by OpenDP's MST or AIM synthesizers.

The noise, the budget accounting and the graphical model are OpenDP's (``opendp[mbi]``); this
module only prepares the columns (numbers binned), enforces a budget ceiling and converts frames.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from ethica.errors import InputError

__all__ = [
    "DEFAULT_MAX_EPSILON",
    "EpsilonCeilingError",
    "Method",
    "Synthesis",
    "bin_edges",
    "check_budget",
    "synthesize",
]

Method = Literal["mst", "aim"]

#: The largest epsilon a release may spend unless the caller configures another ceiling.
DEFAULT_MAX_EPSILON = 10.0


class EpsilonCeilingError(InputError):
    """The requested privacy budget is above the configured ceiling."""


@dataclass(frozen=True)
class Synthesis:
    """A synthetic table and what its release spent and assumed."""

    data: pd.DataFrame
    epsilon: float
    delta: float
    method: Method
    cuts: dict[str, list[float]]
    public_assumptions: list[str] = field(default_factory=list)


def bin_edges(values: pd.Series, bins: int) -> list[float]:
    """Interior edges of ``bins`` quantile bins of a numeric column (distinct, increasing)."""
    if bins < 2:
        raise InputError(f"bins must be at least 2; got {bins}")
    numbers = pd.to_numeric(values, errors="coerce").dropna()
    if numbers.empty:
        raise InputError(f"column {values.name!r} has no numbers to bin")
    quantiles = np.quantile(numbers.to_numpy(dtype=float), np.linspace(0, 1, bins + 1)[1:-1])
    return sorted({float(q) for q in quantiles})


def synthesize(
    frame: pd.DataFrame,
    *,
    epsilon: float,
    delta: float = 0.0,
    method: Method = "mst",
    cuts: dict[str, list[float]] | None = None,
    bins: int = 5,
    categorical: list[str] | None = None,
    categories: dict[str, list[str]] | None = None,
    rows: int | None = None,
    max_epsilon: float = DEFAULT_MAX_EPSILON,
) -> Synthesis:
    """Release a synthetic copy of ``frame`` under (epsilon, delta)-differential privacy.

    Parameters
    ----------
    frame
        One row per person (the privacy unit: each person contributes one row).
    epsilon, delta
        The privacy budget. With ``delta == 0`` the category sets of text columns are treated as
        public (read from ``frame``, as a spec declares them); with ``delta > 0`` OpenDP discovers
        them privately and folds rare categories into a null category.
    method
        ``"mst"`` or ``"aim"``, OpenDP's ``dp.mbi.MST`` / ``dp.mbi.AIM``.
    cuts
        Interior bin edges of numeric columns. Columns without edges get ``bins`` quantile bins
        computed from ``frame``: those edges are not private and are listed in
        ``public_assumptions``; pass edges from the spec or training summary to avoid that.
    categorical
        Columns kept as categories although they hold numbers (0/1 decisions, labels, codes).
    categories
        Public category sets of text columns (as a spec declares them): these are not read
        from the data, with any ``delta``; a value outside its set is released as null.
    rows
        Rows of the synthetic table (default: about as many as ``frame``).
    max_epsilon
        The configured ceiling; a larger ``epsilon`` is refused before any data is touched.
    """
    check_budget(epsilon, delta, max_epsilon)
    if method not in ("mst", "aim"):
        raise InputError(f"method must be 'mst' or 'aim'; got {method!r}")
    if frame.empty:
        raise InputError("the decision log is empty; there is nothing to synthesize")
    import opendp.prelude as dp
    import polars as pl

    dp.enable_features("contrib")
    missing = sorted(set(categorical or ()) - set(frame.columns))
    if missing:
        raise InputError(f"no column named {', '.join(map(repr, missing))} in the decision log")
    declared = {c: sorted(map(str, v)) for c, v in (categories or {}).items()}
    unknown = sorted(set(declared) - set(frame.columns))
    if unknown:
        raise InputError(f"categories name no column of the decision log: {unknown}")
    frame = frame.astype(dict.fromkeys([*(categorical or ()), *declared], "string"))
    numeric = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])]
    assumptions: list[str] = []
    all_cuts = dict(cuts or {})
    for column in numeric:
        if column not in all_cuts:
            all_cuts[column] = bin_edges(frame[column], bins)
            assumptions.append(f"bin edges of {column!r} were computed from the data")
    prepared = pl.from_pandas(
        frame.astype(dict.fromkeys(numeric, "float64")).astype(
            {c: "string" for c in frame.columns if c not in numeric}
        )
    )
    keys: dict[str, list[Any]] | None = declared or None
    if delta == 0:
        read = {
            c: sorted(prepared[c].drop_nulls().unique().to_list())
            for c in frame.columns
            if c not in numeric and c not in declared
        }
        keys = {**declared, **read}
        if read:
            assumptions.append("category sets of text columns were read from the data as public")
    loss = dp.loss_of(epsilon=epsilon, delta=delta) if delta > 0 else dp.loss_of(epsilon=epsilon)
    # Adult-sized logs fit well below this; it bounds the row count, a public fact.
    margin = dp.polars.Margin(max_length=max(len(frame) * 2, 1000))  # type: ignore[attr-defined]
    context = dp.Context.compositor(
        data=prepared.lazy(),
        privacy_unit=dp.unit_of(contributions=1),
        privacy_loss=loss,
        split_evenly_over=1,
        margins=[margin],
    )
    algorithm = dp.mbi.MST() if method == "mst" else dp.mbi.AIM()  # type: ignore[attr-defined]
    table = (
        context.query().contingency_table(keys=keys, cuts=all_cuts, algorithm=algorithm).release()
    )
    synthetic = table.synthesize(rows).to_pandas()
    return Synthesis(
        data=synthetic[list(frame.columns)],
        epsilon=epsilon,
        delta=delta,
        method=method,
        cuts=all_cuts,
        public_assumptions=assumptions,
    )


def check_budget(epsilon: float, delta: float, max_epsilon: float) -> None:
    """Refuse a budget that is not positive, or whose epsilon is above the ceiling."""
    if not epsilon > 0:
        raise InputError(f"epsilon must be positive; got {epsilon}")
    if epsilon > max_epsilon:
        raise EpsilonCeilingError(
            f"epsilon {epsilon:g} is above the configured ceiling of {max_epsilon:g}: a release "
            "with that budget protects people too little. Ask for a smaller epsilon, or raise "
            "the ceiling (ETHICA__PRIVACY__MAX_EPSILON) after a documented review."
        )
    if not 0 <= delta < 1:
        raise InputError(f"delta must be in [0, 1); got {delta}")
