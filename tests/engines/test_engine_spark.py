"""The Spark engine gives the same count tables and audits as the in-memory engine.

Spark is slow to start, so this module is one test (whatever way xdist distributes tests, one
worker starts Spark) that runs each check in turn on the shared ``spark`` session.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from engine_cases import (
    AGGREGATIONS,
    AUDIT_ARGUMENTS,
    assert_same_audit,
    assert_same_table,
    audit_frame,
    decisions,
)

from ethica.engines import MemoryEngine, get_engine
from ethica.engines._spark import SparkEngine
from ethica.errors import InputError
from ethica.fairness import MissingGroupWarning, audit

pytestmark = [pytest.mark.spark, pytest.mark.xdist_group("spark")]


def _expected(frame: pd.DataFrame) -> dict[str, pd.DataFrame]:
    return {name: MemoryEngine().aggregate(frame, agg) for name, agg in AGGREGATIONS.items()}


def test_spark_engine(spark: Any, tmp_path: Path) -> None:
    check_sources_match_memory(spark, tmp_path / "sources")
    check_audit_matches_memory(spark, tmp_path / "audit")
    check_errors_say_what_to_fix(spark, tmp_path / "errors")
    check_std_matches_numpy(spark, tmp_path / "std")


def check_sources_match_memory(spark: Any, tmp_path: Path) -> None:
    tmp_path.mkdir()
    frame = decisions()
    expected = _expected(frame)
    frame.to_parquet(tmp_path / "decisions.parquet", index=False)
    frame.to_csv(tmp_path / "decisions.csv", index=False)
    sources = {
        "spark frame": spark.createDataFrame(pa.Table.from_pandas(frame, preserve_index=False)),
        "pandas": frame,
        "parquet": tmp_path / "decisions.parquet",
        "csv": str(tmp_path / "decisions.csv"),
    }
    # Every case on a Spark frame; the other sources only change how columns are read, which
    # the keys (text, booleans, integers, all with missing values) and the bins show.
    cases = {"spark frame": list(AGGREGATIONS), "parquet": ["keys", "binned"]}
    cases |= {"pandas": ["keys"], "csv": ["keys"]}
    engine = SparkEngine(spark)
    for source_name, source in sources.items():
        for case in cases[source_name]:
            aggregation = AGGREGATIONS[case]
            try:
                assert_same_table(
                    engine.aggregate(source, aggregation), expected[case], aggregation
                )
            except AssertionError as error:
                raise AssertionError(f"{source_name}, {case}: {error}") from error
    assert engine.columns(sources["parquet"]) == list(frame.columns)
    assert engine.profile(sources["spark frame"], "score_missing") == MemoryEngine().profile(
        frame, "score_missing"
    )


def _audit(data: Any, engine: str) -> Any:
    with pytest.warns(MissingGroupWarning):
        return audit(data, engine=engine, score_bins=40, **AUDIT_ARGUMENTS)


def check_audit_matches_memory(spark: Any, tmp_path: Path) -> None:
    tmp_path.mkdir()
    frame = audit_frame()
    expected = _audit(frame, "memory")
    path = tmp_path / "decisions.parquet"
    frame.to_parquet(path, index=False)
    spark_frame = spark.read.parquet(str(path))
    assert isinstance(get_engine("auto", spark_frame), SparkEngine)
    assert_same_audit(_audit(spark_frame, "auto"), expected)
    assert_same_audit(_audit(path, "spark"), expected)


def check_errors_say_what_to_fix(spark: Any, tmp_path: Path) -> None:
    tmp_path.mkdir()
    engine = get_engine("spark")
    assert isinstance(engine, SparkEngine)
    assert engine.session is spark  # the active session is reused, not a second one started
    with pytest.raises(InputError, match="no such file"):
        engine.columns(tmp_path / "absent.parquet")
    with pytest.raises(InputError, match="cannot read a list"):
        engine.columns([1, 2, 3])
    (tmp_path / "decisions.txt").write_text("a,b\n1,2\n")
    with pytest.raises(InputError, match="cannot tell the format"):
        engine.columns(tmp_path / "decisions.txt")


def check_std_matches_numpy(spark: Any, tmp_path: Path) -> None:
    # Amounts around 1e6 with a spread of 1: the standard deviation keeps its digits in Spark.
    tmp_path.mkdir()
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"sex": rng.choice(["F", "M"], 5000)})
    frame["limit"] = 1e6 + rng.normal(0.0, 1.0, len(frame))
    path = tmp_path / "amounts.parquet"
    frame.to_parquet(path, index=False)
    result = audit(
        spark.read.parquet(str(path)),
        sensitive_features="sex",
        prediction="limit",
        kind="regression",
    )
    expected = frame.groupby("sex")["limit"].agg(lambda x: np.std(x.to_numpy()))
    std = result.metrics["sex"].values["std_prediction"]
    np.testing.assert_allclose(std, expected.to_numpy(), rtol=1e-12, atol=0)
