"""How the audit writes numbers for people: percents, points, amounts, ratios, p-values, intervals.

One place, so the report, its tables and the findings write a number the same way; a missing
or undefined number is a dash.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

__all__ = ["amount", "interval", "missing", "number", "p_value", "percent", "points"]


def missing(value: Any) -> bool:
    """Tell whether ``value`` is no number (``None``, NaN or not numeric)."""
    try:
        return value is None or math.isnan(float(value))
    except (TypeError, ValueError):
        return True


def percent(value: Any) -> str:
    """Write a proportion as a percent: ``0.4321`` -> ``43.2%``."""
    return "–" if missing(value) else f"{float(value) * 100:.1f}%"


def points(value: Any, *, signed: bool = True) -> str:
    """Write a difference of proportions in percentage points: ``-0.052`` -> ``-5.2 pt``."""
    if missing(value):
        return "–"
    return f"{float(value) * 100:+.1f} pt" if signed else f"{float(value) * 100:.1f} pt"


def amount(value: Any) -> str:
    """Write a number in its own unit, with as many decimals as its size calls for."""
    if missing(value):
        return "–"
    figure = float(value)
    if math.isinf(figure):
        return "∞"
    if abs(figure) >= 1000:
        return f"{figure:,.0f}"
    if abs(figure) >= 10:
        return f"{figure:,.1f}"
    return f"{figure:.3f}"


def number(value: Any, digits: int) -> str:
    """Write a plain number (a ratio) with ``digits`` decimals."""
    if missing(value):
        return "–"
    figure = float(value)
    if math.isinf(figure):
        return "∞"
    return f"{figure:.{digits}f}"


def interval(low: Any, high: Any, form: Callable[[Any], str]) -> str:
    """Write ``low to high``, each end by ``form``; empty when either end is missing."""
    if missing(low) or missing(high):
        return ""
    return f"{form(low)} to {form(high)}"


def p_value(value: Any) -> str:
    """Write a p-value for a table cell: ``< 0.001`` below a thousandth."""
    if missing(value):
        return "–"
    p = float(value)
    return "< 0.001" if p < 0.001 else f"{p:.3f}"
