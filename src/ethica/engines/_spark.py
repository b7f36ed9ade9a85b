"""The Apache Spark engine: the same aggregation as a Spark SQL job, for data beyond one machine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from ethica.engines._aggregation import Aggregation, ColumnProfile
from ethica.engines._sql import SPARK, aggregation_sql, profile_sql
from ethica.errors import EngineError, InputError

_VIEW = "ethica_source"


class SparkEngine:
    """Aggregate a Spark DataFrame, or a Parquet/CSV path read by Spark.

    Parameters
    ----------
    session
        An existing ``SparkSession``; a local one (``local[*]``) is started when omitted.
    """

    name = "spark"

    def __init__(self, session: Any | None = None) -> None:
        try:
            from pyspark.sql import SparkSession
        except ImportError as error:  # pragma: no cover - exercised without the extra
            raise EngineError("the Spark engine needs pyspark: pip install 'ethica[spark]'") from error
        self.session = session or (
            SparkSession.builder.master("local[*]")
            .appName("ethica-audit")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", "8")
            .config("spark.sql.ansi.enabled", "false")
            .getOrCreate()
        )

    def columns(self, source: Any) -> list[str]:
        """Column names of ``source``."""
        return list(self._frame(source).columns)

    def profile(self, source: Any, column: str) -> ColumnProfile:
        """Rows, non-null values, range and number of distinct values of ``column``."""
        self._frame(source).createOrReplaceTempView(_VIEW)
        row = self.session.sql(profile_sql(column, _VIEW, SPARK)).collect()[0]
        return ColumnProfile(int(row[0]), int(row[1]), row[2], row[3], int(row[4]))

    def aggregate(self, source: Any, aggregation: Aggregation) -> pd.DataFrame:
        """Run ``aggregation`` over ``source`` as one Spark SQL query."""
        self._frame(source).createOrReplaceTempView(_VIEW)
        result = self.session.sql(aggregation_sql(aggregation, _VIEW, SPARK))
        rows = result.collect()
        frame = pd.DataFrame([tuple(r) for r in rows], columns=result.columns)
        frame["n"] = frame["n"].astype("int64")
        for name, _ in aggregation.sums:
            frame[name] = frame[name].astype("float64")
        return frame

    def _frame(self, source: Any) -> Any:
        if isinstance(source, (str, Path)):
            path = str(source)
            if not Path(path).exists():
                raise InputError(f"no such file: {path}")
            reader = self.session.read
            if path.endswith((".csv", ".csv.gz", ".tsv")):
                sep = "\t" if path.endswith(".tsv") else ","
                return reader.csv(path, header=True, inferSchema=True, sep=sep)
            return reader.parquet(path)
        if isinstance(source, pd.DataFrame):
            return self.session.createDataFrame(source)
        if hasattr(source, "createOrReplaceTempView"):
            return source
        raise InputError(
            f"the Spark engine cannot read a {type(source).__name__}; pass a Spark DataFrame, a "
            "pandas DataFrame, or a Parquet/CSV path"
        )
