"""What an engine is asked to compute: a group-by with counts and sums over small expressions.

Every fairness figure is a function of a count table, so an engine only ever runs one kind of
query: group the rows by a few key expressions, count them, and sum a few value expressions.
The expressions form a tiny closed language so that each engine (numpy, DuckDB, PostgreSQL,
Spark) can evaluate exactly the same arithmetic and return identical tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, TypeAlias

FunctionName: TypeAlias = Literal[
    "sub",  # a - b
    "mul",  # a * b
    "abs",  # |a|
    "square",  # a * a
    "discount",  # 1 / log2(a + 1): the position discount of DCG
    "gain",  # 2 ** a - 1: the graded relevance gain of DCG
    "bin",  # floor((a - lo) / (hi - lo) * bins) clipped to [0, bins - 1]
    "cap",  # least(a, cap)
    "shift",  # a - c: values near c keep their digits in sums
    "ideal_rank",  # row_number() over (partition by a order by b desc, c asc)
]


@dataclass(frozen=True)
class Col:
    """A column of the source, by name."""

    name: str


@dataclass(frozen=True)
class Apply:
    """A function from the closed set above applied to expressions, with numeric parameters."""

    function: FunctionName
    args: tuple[Expr, ...]
    params: tuple[float, ...] = ()


Expr: TypeAlias = Col | Apply
#: Binary digits of each value's fraction that an exact sum keeps (a 64-bit integer holds them).
FRACTION_BITS = 62


@dataclass(frozen=True)
class Aggregation:
    """Group by ``keys``, count rows as ``n``, sum each of ``sums``, take the range of ``ranges``.

    Each of ``exact_sums`` is a sum that does not depend on the order the rows are added in:
    parallel engines (DuckDB, Spark) add partial sums in the order their threads finish, and a
    floating-point sum can then differ in its last bit from one run to the next. Each value's
    whole part and its fraction (to :data:`FRACTION_BITS` binary digits) are added as integers,
    exactly, and the two totals are combined into one double; the in-memory engine, which adds
    in row order, sums the values as they are.

    Keys keep missing values (NULL / NaN) as a group of their own; the caller decides what a
    missing key means. Each of ``ranges`` gives two columns, ``<name>_min`` and ``<name>_max``
    (missing values skipped), so that a score's bins can be checked in the same pass. Each of
    ``deviations`` gives the sum of squared deviations of its expression from the cell's own
    mean (M2, missing values skipped), taken after the mean (two passes, as ``numpy.var``): a
    variance from sums of squares loses its digits when the spread is small next to the mean.

    ``unit_sums`` names exact sums whose values all lie in ``[0, 1)`` (a profile of the column
    said so): their whole parts are all 0 and each fraction is the value itself, so a SQL
    engine adds the fractions alone, one integer sum instead of two. The totals are the same
    numbers, so two aggregations that differ only there are equal (a result run ahead answers
    either).
    """

    keys: tuple[tuple[str, Expr], ...]
    sums: tuple[tuple[str, Expr], ...] = field(default=())
    exact_sums: tuple[tuple[str, Expr], ...] = field(default=())
    ranges: tuple[tuple[str, Expr], ...] = field(default=())
    deviations: tuple[tuple[str, Expr], ...] = field(default=())
    unit_sums: frozenset[str] = field(default=frozenset(), compare=False)

    def columns(self) -> set[str]:
        """Names of the source columns the aggregation reads."""
        names: set[str] = set()
        for _, expr in self.expressions():
            names |= expression_columns(expr)
        return names

    def expressions(self) -> tuple[tuple[str, Expr], ...]:
        """Every named expression: the keys, sums, exact sums, ranges and deviations."""
        return (*self.keys, *self.sums, *self.exact_sums, *self.ranges, *self.deviations)

    def value_columns(self) -> list[str]:
        """Names of the double-precision output columns: the sums, ranges and deviations."""
        ranged = [f"{name}_{end}" for name, _ in self.ranges for end in ("min", "max")]
        deviations = [name for name, _ in self.deviations]
        summed = [name for name, _ in (*self.sums, *self.exact_sums)]
        return [*summed, *ranged, *deviations]


@dataclass(frozen=True)
class ColumnProfile:
    """Range and cardinality of one numeric column, for choosing score bins.

    ``distinct`` is None when it was not asked for (counting distinct values is a costly pass);
    asked for up to a limit, it is at most that limit + 1.
    """

    rows: int
    non_null: int
    minimum: float | None
    maximum: float | None
    distinct: int | None


@dataclass(frozen=True)
class SqlQuery:
    """A SELECT statement to audit as a table, for the SQL engines (e.g. a live decision log).

    The statement runs as a subquery; it must be built from trusted parts, never from user text.
    """

    sql: str


def expression_columns(expr: Expr) -> set[str]:
    """Names of the source columns an expression reads."""
    if isinstance(expr, Col):
        return {expr.name}
    names: set[str] = set()
    for arg in expr.args:
        names |= expression_columns(arg)
    return names


def binned(column: str, low: float, high: float, bins: int) -> Apply:
    """Equal-width bin index of ``column`` over ``[low, high]`` with ``bins`` bins."""
    return Apply("bin", (Col(column),), (float(low), float(high), float(bins)))
