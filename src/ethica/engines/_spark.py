"""The Apache Spark engine: the same aggregation as a Spark SQL job, for data beyond one machine."""

from __future__ import annotations

import importlib
import os
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from ethica.engines._aggregation import Aggregation, ColumnProfile
from ethica.engines._sql import SPARK, aggregation_sql, profile_row, profile_sql
from ethica.errors import EngineError, InputError

#: Settings of the local session ethica starts when it is given none.
LOCAL_CONF: dict[str, str] = {
    # Bind to the loopback interface: no network is needed (nor, on some hosts, available).
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "4",
    # Timestamps (e.g. a decision log's) are read the same on every machine.
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
}


def local_session(master: str = "local[*]", *, app_name: str = "ethica-audit") -> Any:
    """Start (or reuse) a local ``SparkSession`` that needs no network.

    Parameters
    ----------
    master
        The Spark master, e.g. ``"local[2]"``.
    app_name
        The application name shown in Spark's logs.

    Returns
    -------
    pyspark.sql.SparkSession
        The session, configured with :data:`LOCAL_CONF`.
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError as error:  # pragma: no cover - exercised without the extra
        raise EngineError("the Spark engine needs pyspark: pip install 'ethica[spark]'") from error
    # The workers must run this interpreter, and Spark must not look up the host's name.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    builder = SparkSession.builder.master(master).appName(app_name)
    for key, value in LOCAL_CONF.items():
        builder = builder.config(key, value)
    try:
        return builder.getOrCreate()
    except Exception as error:  # Py4J and Java start-up errors share no type
        raise EngineError(
            f"could not start a local Spark session (is Java 17+ installed?): {error}"
        ) from error


class SparkEngine:
    """Aggregate a Spark DataFrame, or a Parquet/CSV path read by Spark.

    Parameters
    ----------
    session
        An existing ``SparkSession``; the active one, or else a local one
        (:func:`local_session`), when omitted.
    """

    name = "spark"

    def __init__(self, session: Any | None = None) -> None:
        if session is None:
            try:
                from pyspark.sql import SparkSession
            except ImportError as error:  # pragma: no cover - exercised without the extra
                raise EngineError(
                    "the Spark engine needs pyspark: pip install 'ethica[spark]'"
                ) from error
            session = SparkSession.getActiveSession() or local_session()
        self.session = session

    def columns(self, source: Any) -> list[str]:
        """Column names of ``source``."""
        return list(self._frame(source).columns)

    def profile(
        self, source: Any, column: str, *, distinct: bool = True, distinct_limit: int | None = None
    ) -> ColumnProfile:
        """Rows, non-null values, range and (when asked) distinct values of ``column``."""
        with self._view(source) as view:
            sql = profile_sql(column, view, SPARK, distinct=distinct, distinct_limit=distinct_limit)
            row = self._collect(sql)[1][0]
        return profile_row(tuple(row))

    def aggregate(self, source: Any, aggregation: Aggregation) -> pd.DataFrame:
        """Run ``aggregation`` over ``source`` as one Spark SQL query."""
        with self._view(source) as view:
            names, rows = self._collect(aggregation_sql(aggregation, view, SPARK))
        # Rows of Python objects keep booleans, integers and NULLs as they are; the table is small.
        frame = pd.DataFrame([tuple(r) for r in rows], columns=names)
        frame["n"] = frame["n"].astype("int64")
        for name in aggregation.value_columns():
            frame[name] = frame[name].astype("float64")
        return frame

    def _collect(self, sql: str) -> tuple[list[str], list[Any]]:
        from pyspark.errors import AnalysisException

        try:
            result = self.session.sql(sql)
            return list(result.columns), result.collect()
        except AnalysisException as error:  # an unknown column, or one of the wrong type
            raise InputError(f"Spark cannot run the audit query on this input: {error}") from error
        except Exception as error:  # Py4J and Java errors share no type
            raise EngineError(f"Spark could not run the audit query: {error}") from error

    @contextmanager
    def _view(self, source: Any) -> Iterator[str]:
        # A view per query, so engines sharing one session never read each other's source.
        view = f"ethica_source_{uuid.uuid4().hex}"
        self._frame(source).createOrReplaceTempView(view)
        try:
            yield SPARK.identifier(view)
        finally:
            self.session.catalog.dropTempView(view)

    def _frame(self, source: Any) -> Any:
        if isinstance(source, (str, Path)):
            return self._read(str(source))
        if hasattr(source, "createOrReplaceTempView"):
            return source
        table = _as_arrow(source)
        if table is None:
            raise InputError(
                f"the Spark engine cannot read a {type(source).__name__}; pass a Spark DataFrame, "
                "a pandas, polars or pyarrow table, or a Parquet/CSV path"
            )
        # From Arrow rather than pandas: NULLs stay NULL (never NaN) and no pandas round trip.
        return self.session.createDataFrame(table)

    def _read(self, path: str) -> Any:
        if not Path(path).exists():
            raise InputError(f"no such file: {path}")
        reader = self.session.read
        lowered = path.lower()
        if lowered.endswith((".csv", ".csv.gz", ".tsv")):
            sep = "\t" if lowered.endswith(".tsv") else ","
            return reader.csv(path, header=True, inferSchema=True, sep=sep)
        if lowered.endswith((".json", ".jsonl", ".ndjson")):
            return reader.json(path)
        if lowered.endswith((".parquet", ".pq")) or Path(path).is_dir():
            return reader.parquet(path)
        raise InputError(f"cannot tell the format of {path}: name it .parquet, .csv, .tsv or .json")


def _as_arrow(source: Any) -> Any:
    """Convert an in-memory table to a ``pyarrow.Table``; None for anything else."""
    # Imported by name: pyarrow ships no type information for mypy to check against.
    pa: Any = importlib.import_module("pyarrow")
    if isinstance(source, pa.Table):
        return source
    if isinstance(source, pd.DataFrame):
        return pa.Table.from_pandas(source, preserve_index=False)
    to_arrow = getattr(source, "to_arrow", None)  # polars.DataFrame
    if callable(to_arrow):
        table = to_arrow()
        return table if isinstance(table, pa.Table) else None
    return None
