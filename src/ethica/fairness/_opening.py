"""The checks every decision kind opens with: its roles, its options, its numeric columns."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import pandas as pd

from ethica.engines import ColumnProfile, Engine
from ethica.errors import EngineError, InputError
from ethica.fairness._roles import Roles


def check_roles(
    kind: str,
    roles: Roles,
    *,
    prediction: str,
    unused: tuple[str, ...],
    instead: str,
    pos_label: Any = None,
) -> str:
    """Return the prediction column; refuse a missing one, or a role the kind does not use."""
    if pos_label is not None:
        raise InputError(f"a {kind} audit has no favourable outcome; leave out pos_label")
    if roles.prediction is None:
        raise InputError(f"a {kind} audit needs {prediction}: pass prediction=")
    if any(getattr(roles, role) is not None for role in unused):
        named = " or ".join(f"{role}=" for role in unused)
        raise InputError(f"a {kind} audit uses no {named}; {instead}")
    return roles.prediction


def check_options(kind: str, options: dict[str, Any] | None, takes: Iterable[str]) -> None:
    """Refuse options the kind does not take, naming those it does."""
    known = tuple(takes)
    unknown = set(options or {}) - set(known)
    if unknown:
        offered = " and ".join(known) if known else "none"
        raise InputError(f"unknown {kind} option(s) {sorted(unknown)}; it takes {offered}")


def require_rows(cells: pd.DataFrame) -> None:
    """Refuse an empty input: there is nothing to audit."""
    if cells.empty:
        raise InputError("the input has no rows; there is nothing to audit")


def numeric_profile(
    engine: Engine,
    source: Any,
    column: str,
    role: str,
    *,
    minimum: float | None = None,
    distinct_limit: int | None = None,
) -> ColumnProfile:
    """Profile a column the kind computes with: numeric, never missing, finite, >= ``minimum``.

    Its distinct values are counted (up to ``distinct_limit + 1``) only when a limit is given.
    """
    try:
        profile = engine.profile(
            source, column, distinct=distinct_limit is not None, distinct_limit=distinct_limit
        )
    except EngineError as error:
        raise InputError(
            f"{role} column {column!r} could not be read as numbers: {error}"
        ) from error
    missing = profile.rows - profile.non_null
    if missing:
        raise InputError(
            f"{role} column {column!r} is missing (NaN/NULL) on {missing} rows; drop or fill them"
        )
    low, high = profile.minimum, profile.maximum
    if profile.rows and any(v is None or not math.isfinite(v) for v in (low, high)):
        raise InputError(
            f"{role} column {column!r} has NaN or infinite values; drop or fill those rows"
        )
    if minimum is not None and low is not None and low < minimum:
        raise InputError(f"{role} column {column!r} must be at least {minimum:g}; found {low:g}")
    return profile
