"""One SQL rendering of an aggregation, with the few differences of DuckDB, PostgreSQL and Spark.

Literals are written as casts from their exact decimal representation so that every engine does
the same double-precision arithmetic (Spark would otherwise read ``0.1`` as a DECIMAL).
"""

from __future__ import annotations

from dataclasses import dataclass

from ethica.engines._aggregation import (
    FRACTION_BITS,
    Aggregation,
    Apply,
    Col,
    ColumnProfile,
    Expr,
)


@dataclass(frozen=True)
class Dialect:
    """How one SQL engine spells identifiers, doubles and logarithms."""

    name: str
    quote: str
    double: str
    #: An exact integer type whose SUM cannot wrap around (Spark's BIGINT sum would).
    integer: str
    #: Whether cells are grouped apart from their ordering (see :func:`hashes_cells`).
    orders_cells_apart: bool = False

    def identifier(self, name: str) -> str:
        """Quote an identifier, doubling any quote character inside it."""
        q = self.quote
        return f"{q}{name.replace(q, q + q)}{q}"

    def literal(self, value: float) -> str:
        """Write a double-precision literal that every dialect parses to the same bits."""
        return f"CAST('{float(value)!r}' AS {self.double})"

    def as_double(self, sql: str) -> str:
        """Cast an expression to double precision."""
        return f"CAST({sql} AS {self.double})"


DUCKDB = Dialect("duckdb", '"', "DOUBLE", "BIGINT")
POSTGRESQL = Dialect("postgresql", '"', "DOUBLE PRECISION", "BIGINT", orders_cells_apart=True)
SPARK = Dialect("spark", "`", "DOUBLE", "DECIMAL(38,0)")

_IDEAL_RANK = "__ethica_ideal_rank"
_CELL_MEAN = "__ethica_cell_mean"
_BIN = "__ethica_bin"


def aggregation_sql(aggregation: Aggregation, source: str, dialect: Dialect) -> str:
    """Render the one ``SELECT ... GROUP BY`` that computes ``aggregation`` over ``source``."""
    windows: dict[Apply, str] = {}
    bins: dict[str, str] = {}
    renderer = _Renderer(dialect, windows, bins)
    keys = [
        f"{renderer.key(expr)} AS {dialect.identifier(name)}" for name, expr in aggregation.keys
    ]
    sums = [
        f"SUM({renderer.value(expr)}) AS {dialect.identifier(name)}"
        for name, expr in aggregation.sums
    ]
    exact_sums = [
        f"{_exact_sum(renderer.value(expr), dialect, unit=name in aggregation.unit_sums)} "
        f"AS {dialect.identifier(name)}"
        for name, expr in aggregation.exact_sums
    ]
    ranges = [
        f"{extreme}({renderer.value(expr)}) AS {dialect.identifier(f'{name}_{extreme.lower()}')}"
        for name, expr in aggregation.ranges
        for extreme in ("MIN", "MAX")
    ]
    means = {name: f"{_CELL_MEAN}_{i}" for i, (name, _) in enumerate(aggregation.deviations)}
    deviations = [
        f"SUM(({renderer.value(expr)} - {dialect.identifier(means[name])}) * "
        f"({renderer.value(expr)} - {dialect.identifier(means[name])})) "
        f"AS {dialect.identifier(name)}"
        for name, expr in aggregation.deviations
    ]
    select = ", ".join(
        [*keys, f"COUNT(*) AS {dialect.identifier('n')}", *sums, *exact_sums, *ranges, *deviations]
    )
    if bins:
        # Each bin's index once per row, in a subquery: clipped by a CASE, it is read three
        # times, and DuckDB would compute it three times (a tenth of a scored audit's query).
        extra = ", ".join(f"{sql} AS {dialect.identifier(alias)}" for sql, alias in bins.items())
        source = f"(SELECT b.*, {extra} FROM {source} AS b)"
    if windows:
        extra = ", ".join(
            f"{sql} AS {dialect.identifier(alias)}" for alias, sql in _window_sql(windows, dialect)
        )
        source = f"(SELECT s.*, {extra} FROM {source} AS s)"
    if aggregation.deviations:
        # The cell's mean first, as a window over the cells' keys; the outer sum then squares
        # small deviations (two passes, as numpy.var), not large values.
        partition = ", ".join(renderer.key(expr) for _, expr in aggregation.keys)
        over = f"OVER (PARTITION BY {partition})" if partition else "OVER ()"
        extra = ", ".join(
            f"AVG({renderer.value(expr)}) {over} AS {dialect.identifier(means[name])}"
            for name, expr in aggregation.deviations
        )
        source = f"(SELECT m.*, {extra} FROM {source} AS m)"
    group_by = ", ".join(str(i + 1) for i in range(len(keys)))
    statement = f"SELECT {select} FROM {source} AS t"
    if not keys:
        return statement
    # Cells in a fixed order: a parallel group-by returns them in the order its threads
    # finish, and sums over cells in another order may differ in their last bit.
    if hashes_cells(aggregation, dialect):
        grouped = f"{statement} GROUP BY {group_by}"
        return f"WITH cells AS MATERIALIZED ({grouped}) SELECT * FROM cells ORDER BY {group_by}"
    return f"{statement} GROUP BY {group_by} ORDER BY {group_by}"


def hashes_cells(aggregation: Aggregation, dialect: Dialect) -> bool:
    """Whether the cells are grouped first, then ordered, as PostgreSQL should but will not.

    PostgreSQL knows nothing of how many distinct values a key computed from a column takes
    (a window from a timestamp, a score bin) and expects a cell per row: sorting every row
    into the ordered cells then looks cheaper than hashing them, and it sorts 10^7 rows on
    disk for 10^4 cells (26 s of server CPU, against 4-5 s hashed). Grouped in a
    ``MATERIALIZED`` CTE, which is planned apart from the ``ORDER BY`` after it, and with
    sorting discouraged (``enable_sort``, which the engine turns off for the statement), the
    rows are hashed and only the cells are sorted; their order and sums are the same. Window
    functions and the cells' means (deviations) sort by their partitions anyway, and keep the
    plain form.
    """
    return bool(
        dialect.orders_cells_apart
        and aggregation.keys
        and not aggregation.deviations
        and not any(_ranks(expr) for _, expr in aggregation.expressions())
    )


def _ranks(expr: Expr) -> bool:
    """Whether ``expr`` holds a window function (an ideal rank)."""
    if isinstance(expr, Col):
        return False
    return expr.function == "ideal_rank" or any(_ranks(a) for a in expr.args)


def profile_sql(
    column: str,
    source: str,
    dialect: Dialect,
    *,
    distinct: bool = True,
    distinct_limit: int | None = None,
) -> str:
    """Rows, non-null values, range and (when asked) distinct values of one column.

    With ``distinct_limit`` the distinct values are counted up to ``distinct_limit + 1`` only:
    the engine stops reading as soon as it has seen that many (on continuous scores, within
    the first rows), where a full count reads the whole column.
    """
    c = dialect.as_double(dialect.identifier(column))
    counted = f"COUNT(DISTINCT {c})" if distinct else "CAST(NULL AS BIGINT)"
    if distinct and distinct_limit is not None:
        first = (
            f"SELECT DISTINCT {c} AS v FROM {source} AS u WHERE {c} IS NOT NULL "
            f"LIMIT {int(distinct_limit) + 1}"
        )
        counted = f"(SELECT COUNT(*) FROM ({first}) AS d)"
    return f"SELECT COUNT(*), COUNT({c}), MIN({c}), MAX({c}), {counted} FROM {source} AS t"


def profile_row(row: tuple[object, ...] | list[object]) -> ColumnProfile:
    """Read the one row :func:`profile_sql` returns as a :class:`ColumnProfile`."""
    rows, non_null, low, high, distinct = row
    return ColumnProfile(
        int(rows),  # type: ignore[call-overload]
        int(non_null),  # type: ignore[call-overload]
        low,  # type: ignore[arg-type]
        high,  # type: ignore[arg-type]
        None if distinct is None else int(distinct),  # type: ignore[call-overload]
    )


def _exact_sum(value: str, dialect: Dialect, *, unit: bool = False) -> str:
    """Render a sum that is the same in any order: whole parts and fractions as integers.

    ``x - FLOOR(x)`` is exact in double precision, and scaling by a power of two is too, so
    every engine computes the same integers; integer sums are exact, and each of the two
    totals is rounded to a double once. With every value in ``[0, 1)`` (``unit``) the whole
    parts add up to 0 and each fraction is the value itself: the fractions' total alone is
    the same double (``0.0 + y`` is ``y``), for one integer sum fewer (a tenth of DuckDB's
    CPU on a scored audit of 10^7 rows).
    """
    scale = dialect.literal(2.0**FRACTION_BITS)
    if unit:
        fraction = f"FLOOR({value} * {scale})"
        return f"({dialect.as_double(f'SUM(CAST({fraction} AS {dialect.integer}))')} / {scale})"
    whole = f"FLOOR({value})"
    fraction = f"FLOOR(({value} - {whole}) * {scale})"
    return (
        f"({dialect.as_double(f'SUM(CAST({whole} AS {dialect.integer}))')} + "
        f"{dialect.as_double(f'SUM(CAST({fraction} AS {dialect.integer}))')} / {scale})"
    )


def _clip(sql: str, low: str | None, high: str) -> str:
    """Clip ``sql`` to ``[low, high]``, NULL staying NULL.

    ``LEAST`` and ``GREATEST`` skip NULL arguments in DuckDB, PostgreSQL and Spark, so a missing
    value would silently become the bound; numpy (and the caller) expect it to stay missing.
    """
    below = f"WHEN {sql} < {low} THEN {low} " if low is not None else ""
    return f"(CASE {below}WHEN {sql} > {high} THEN {high} ELSE {sql} END)"


def _window_sql(windows: dict[Apply, str], dialect: Dialect) -> list[tuple[str, str]]:
    out = []
    for expr, alias in windows.items():
        renderer = _Renderer(dialect, {})
        partition = renderer.key(expr.args[0])
        relevance, position = (renderer.value(a) for a in expr.args[1:])
        out.append(
            (
                alias,
                f"ROW_NUMBER() OVER (PARTITION BY {partition} "
                # Spelled out because NULLs sort first on DESC in PostgreSQL, last elsewhere.
                f"ORDER BY {relevance} DESC NULLS LAST, {position} ASC NULLS LAST)",
            )
        )
    return out


class _Renderer:
    def __init__(
        self, dialect: Dialect, windows: dict[Apply, str], bins: dict[str, str] | None = None
    ) -> None:
        self._d = dialect
        self._windows = windows
        #: A bin's unclipped index (SQL) -> the column of a subquery that computes it once.
        self._bins = bins

    def key(self, expr: Expr) -> str:
        if isinstance(expr, Col):
            return self._d.identifier(expr.name)
        return self.value(expr)

    def value(self, expr: Expr) -> str:
        d = self._d
        if isinstance(expr, Col):
            return d.as_double(d.identifier(expr.name))
        args = [self.value(a) for a in expr.args] if expr.function != "ideal_rank" else []
        lit = [d.literal(p) for p in expr.params]
        match expr.function:
            case "sub":
                return f"({args[0]} - {args[1]})"
            case "mul":
                return f"({args[0]} * {args[1]})"
            case "abs":
                return f"ABS({args[0]})"
            case "square":
                return f"({args[0]} * {args[0]})"
            case "discount":
                one = d.literal(1.0)
                return f"({one} / (LN({args[0]} + {one}) / LN({d.literal(2.0)})))"
            case "gain":
                return f"(POWER({d.literal(2.0)}, {args[0]}) - {d.literal(1.0)})"
            case "bin":
                low, high, bins = lit
                raw = d.as_double(f"FLOOR(({args[0]} - {low}) / ({high} - {low}) * {bins})")
                if self._bins is not None:
                    alias = self._bins.setdefault(raw, f"{_BIN}_{len(self._bins)}")
                    raw = d.identifier(alias)
                return _clip(raw, d.literal(0.0), d.literal(expr.params[2] - 1.0))
            case "cap":
                return _clip(args[0], None, lit[0])
            case "shift":
                return f"({args[0]} - {lit[0]})"
            case "ideal_rank":
                alias = self._windows.setdefault(expr, f"{_IDEAL_RANK}_{len(self._windows)}")
                return d.as_double(d.identifier(alias))
        raise AssertionError(expr.function)  # pragma: no cover - the Literal type is closed
