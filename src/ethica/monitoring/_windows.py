"""Count tables per time window, built once per window and merged for any longer span.

A window is the count tables of the decisions made in it: one over every decision (what was
decided, per group and score bin), one over the decisions whose outcome is known (the label too),
and one distribution per monitored feature in bins fixed in advance (from the model version's
training summary). A window's counts depend on its own rows only, so building windows one at a
time equals building them all at once, bit for bit; an outcome that arrives late changes only
the window of its decision.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import duckdb
import numpy as np
import pandas as pd

from ethica.engines import Engine, SqlQuery, get_engine
from ethica.errors import InputError
from ethica.fairness import CountTable, ScoreBins, count_table
from ethica.monitoring._distribution import Distribution
from ethica.monitoring._feature_counts import WINDOW, FeatureBins, feature_counts

#: Seconds in each window length.
EVERY: dict[str, int] = {"hour": 3600, "day": 86_400}
Every = Literal["hour", "day"]


@dataclass(frozen=True)
class WindowCounts:
    """Everything monitoring keeps of one window: counts, never rows."""

    start: datetime
    decisions: CountTable | None
    outcomes: CountTable | None
    features: dict[str, Distribution] = field(default_factory=dict)
    #: The scored decisions by score bin (the service keeps it to estimate performance).
    scores: CountTable | None = None

    @property
    def rows(self) -> int:
        """Decisions made in the window."""
        return 0 if self.decisions is None else self.decisions.rows


@dataclass(frozen=True)
class WindowPlan:
    """What to count per window: the roles of the columns and the fixed bins."""

    time: str
    sensitive_features: tuple[str, ...]
    prediction: str
    label: str | None = None
    score: str | None = None
    score_bins: ScoreBins | None = None
    pos_label: Any = None
    features: Mapping[str, FeatureBins] = field(default_factory=dict)
    every: Every = "day"


def window_start(moment: datetime, every: Every = "day") -> datetime:
    """Return the start of the window that holds ``moment`` (UTC)."""
    seconds = EVERY[every]
    epoch = int(moment.astimezone(UTC).timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, tz=UTC)


def build_windows(
    data: Any,
    plan: WindowPlan,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    engine: str | Engine = "auto",
) -> dict[datetime, WindowCounts]:
    """Count each window of ``data`` between ``since`` and ``until`` (UTC, whole windows).

    ``data`` is a pandas/polars/pyarrow table, or a Parquet/CSV path aggregated in DuckDB;
    ``plan.time`` holds timestamps or epoch seconds.
    """
    source, chosen = _windowed_source(data, plan, since=since, until=until, engine=engine)
    keys = (WINDOW, *plan.sensitive_features)
    with ThreadPoolExecutor(1) as beside:
        # PostgreSQL counts the features in a server process of its own (a connection) while
        # another groups the decisions; the other engines use every core on each in turn.
        on_the_side = (
            beside.submit(feature_counts, source, plan.features, chosen)
            if chosen.name == "postgresql"
            else None
        )
        every_decision = _split(
            _table(source, plan, keys, label=None, engine=chosen), plan.sensitive_features
        )
        with_outcomes: dict[int, CountTable] = {}
        if plan.label is not None:
            known = _only_known(source, plan.label)
            table = _table(known, plan, keys, label=plan.label, engine=chosen)
            with_outcomes = _split(table, plan.sensitive_features)
        features = (
            on_the_side.result()
            if on_the_side is not None
            else feature_counts(source, plan.features, chosen)
        )
    seconds = EVERY[plan.every]
    windows = {}
    for index in sorted(every_decision):
        start = datetime.fromtimestamp(index * seconds, tz=UTC)
        windows[start] = WindowCounts(
            start=start,
            decisions=every_decision[index],
            outcomes=with_outcomes.get(index),
            features={name: counts[index] for name, counts in features.items() if index in counts},
        )
    return windows


def merge_windows(windows: Sequence[WindowCounts]) -> WindowCounts:
    """Add up windows into one span (7, 30, 90 days): counts add, nothing is recomputed."""
    if not windows:
        raise InputError("there are no windows to merge")
    decisions = _merge([w.decisions for w in windows])
    outcomes = _merge([w.outcomes for w in windows])
    features: dict[str, Distribution] = {}
    for window in windows:
        for name, distribution in window.features.items():
            features[name] = (
                features[name].merge(distribution) if name in features else distribution
            )
    return WindowCounts(windows[0].start, decisions, outcomes, features)


def _merge(tables: Sequence[CountTable | None]) -> CountTable | None:
    present = [t for t in tables if t is not None]
    if not present:
        return None
    merged = present[0]
    for table in present[1:]:
        merged = merged.merge(table)
    return merged


def _windowed_source(
    data: Any,
    plan: WindowPlan,
    *,
    since: datetime | None,
    until: datetime | None,
    engine: str | Engine,
) -> tuple[Any, Engine]:
    """Select the rows from ``since`` to ``until`` with their window, where the engine reads.

    Each engine numbers the windows itself (DuckDB and PostgreSQL in SQL, Spark in its plan),
    so no row leaves the engine: only the counts per window do.
    """
    seconds = EVERY[plan.every]
    low = -math.inf if since is None else window_start(since, plan.every).timestamp()
    high = math.inf if until is None else window_start(until, plan.every).timestamp()
    chosen = get_engine(engine, data)
    if chosen.name == "spark":
        return _spark_windowed(chosen, data, plan.time, seconds, (low, high)), chosen
    if chosen.name in ("duckdb", "postgresql"):
        return _sql_windowed(
            chosen, _relation(chosen, data), plan.time, seconds, (low, high)
        ), chosen
    frame = data if isinstance(data, pd.DataFrame) else pd.DataFrame(data)
    epoch_seconds = _epoch_seconds(frame[plan.time])
    inside = (epoch_seconds >= low) & (epoch_seconds < high)
    frame = frame.loc[inside].assign(**{WINDOW: np.floor_divide(epoch_seconds[inside], seconds)})
    return frame, chosen


def _relation(engine: Engine, data: Any) -> str:
    """Name the decision log as a SQL relation: a file (DuckDB), a query, or a table."""
    if isinstance(data, SqlQuery):
        return f"({data.sql})"
    if engine.name == "duckdb" and isinstance(data, (str, Path)):
        reader = "read_csv_auto" if str(data).endswith((".csv", ".tsv")) else "read_parquet"
        path = str(data).replace("'", "''")
        return f"{reader}('{path}')"
    if isinstance(data, str) and data:
        return ".".join('"' + part.replace('"', '""') + '"' for part in data.split("."))
    raise InputError(
        f"the {engine.name} engine counts windows of a table, a query or (DuckDB) a file; "
        f"got a {type(data).__name__}"
    )


def _sql_windowed(
    engine: Engine, relation: str, time_column: str, seconds: int, bounds: tuple[float, float]
) -> SqlQuery:
    time = '"' + time_column.replace('"', '""') + '"'
    stamps = _holds_timestamps(engine, f"SELECT {time} FROM {relation} AS log LIMIT 0")
    epoch = time
    if stamps:
        # Seconds as a double in both (PostgreSQL's EXTRACT gives a NUMERIC, several times
        # slower to divide than the double of date_part).
        epoch = f"epoch({time})" if engine.name == "duckdb" else f"date_part('epoch', {time})"
    conditions = []
    for op, value, slack in zip((">=", "<"), bounds, (-86_400, 86_400), strict=True):
        if not math.isfinite(value):
            continue
        if stamps:
            # The column itself, a day wider (whatever its time zone): Parquet's row-group
            # ranges and PostgreSQL's indexes skip what lies outside; the epoch decides.
            conditions.append(f"{time} {op} to_timestamp({value + slack!r})")
        conditions.append(f"{epoch} {op} {value!r}")
    inside = " AND ".join(conditions)
    return SqlQuery(
        f"SELECT *, CAST(FLOOR({epoch} / {seconds}) AS BIGINT) AS {WINDOW} "
        f"FROM {relation} AS log" + (f" WHERE {inside}" if inside else "")
    )


#: PostgreSQL's type identifiers of date, timestamp and timestamp with time zone.
_POSTGRESQL_TIMES = {1082, 1114, 1184}


def _holds_timestamps(engine: Engine, query: str) -> bool:
    """Whether the one column of ``query`` holds dates or times (else epoch seconds)."""
    if engine.name == "duckdb":
        described = duckdb.connect().execute(f"DESCRIBE {query}").fetchall()
        return str(described[0][1]).upper().startswith(("TIMESTAMP", "DATE"))
    import psycopg  # the PostgreSQL extra; its engine was found, so it is there

    with psycopg.connect(getattr(engine, "url")) as connection:  # noqa: B009
        cursor = connection.execute(query)
        assert cursor.description is not None
        return cursor.description[0].type_code in _POSTGRESQL_TIMES


def _spark_windowed(
    engine: Engine, data: Any, time_column: str, seconds: int, bounds: tuple[float, float]
) -> Any:
    from pyspark.sql import functions  # the Spark extra; its engine was found, so it is there

    session = getattr(engine, "session")  # noqa: B009 - SparkEngine's, not in the Protocol
    frame = session.read.parquet(str(data)) if isinstance(data, (str, Path)) else data
    column = functions.col(time_column)
    kind = dict(frame.dtypes)[time_column]
    epoch = functions.unix_timestamp(column) if kind.startswith(("timestamp", "date")) else column
    low, high = bounds
    if math.isfinite(low):
        frame = frame.where(epoch >= low)
    if math.isfinite(high):
        frame = frame.where(epoch < high)
    return frame.withColumn(WINDOW, functions.floor(epoch / seconds).cast("bigint"))


def _epoch_seconds(column: pd.Series[Any]) -> np.ndarray[Any, np.dtype[np.int64]]:
    if pd.api.types.is_datetime64_any_dtype(column):
        stamps = pd.to_datetime(column, utc=True)
        since_epoch = (stamps - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1)
        return np.asarray(since_epoch.to_numpy(dtype=np.int64), dtype=np.int64)
    return np.asarray(np.floor(column.to_numpy(dtype=np.float64)), dtype=np.int64)


def _only_known(source: Any, label: str) -> Any:
    if isinstance(source, SqlQuery):
        quoted = '"' + label.replace('"', '""') + '"'
        return SqlQuery(f"SELECT * FROM ({source.sql}) AS w WHERE {quoted} IS NOT NULL")
    if isinstance(source, pd.DataFrame):
        return source.loc[source[label].notna()]
    return source.where(source[label].isNotNull())  # a Spark DataFrame


def _table(
    source: Any, plan: WindowPlan, keys: Sequence[str], *, label: str | None, engine: Engine
) -> CountTable:
    return count_table(
        source,
        sensitive_features=list(keys),
        label=label,
        prediction=plan.prediction,
        score=plan.score,
        pos_label=plan.pos_label,
        score_bins=plan.score_bins or 1000,
        engine=engine,
        options={"window": True},  # a window may see one outcome only
    )


def _split(table: CountTable, sensitive: Sequence[str]) -> dict[int, CountTable]:
    """One count table per window out of the table keyed by window and group."""
    windows: dict[int, CountTable] = {}
    for key, cells in table.cells.groupby(WINDOW, sort=True):
        # Cells in one canonical order, so that a window's table does not depend on the order
        # in which its rows were read.
        own = cells.drop(columns=WINDOW).sort_values([*sensitive, *table.keys], kind="stable")
        own = own.reset_index(drop=True)
        windows[int(str(key))] = replace(table, sensitive_features=tuple(sensitive), cells=own)
    return windows


def table_from_dict(stored: Mapping[str, Any]) -> CountTable:
    """Rebuild a count table from :meth:`CountTable.to_dict` (a stored window)."""
    bins = stored.get("bins")
    cells = pd.DataFrame.from_records(stored["cells"])
    features = tuple(stored["sensitive_features"])
    for name in features:
        cells[name] = cells[name].astype(str)
    return CountTable(
        kind=stored["kind"],
        sensitive_features=features,
        cells=cells,
        keys=tuple(stored["keys"]),
        classes=tuple(stored.get("classes", ())),
        bins=None if bins is None else ScoreBins(**bins),
        options=dict(stored.get("options", {})),
    )
