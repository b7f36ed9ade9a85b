"""Bad sources, names and columns fail with an error that says what to fix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from ethica.engines import Aggregation, Col, DuckDBEngine, MemoryEngine, get_engine
from ethica.errors import InputError
from ethica.fairness import audit

FRAME = pd.DataFrame({"sex": ["f", "m"], "text": ["x", "y"], "score": [0.1, 0.9]})
BY_SEX = Aggregation(keys=(("sex", Col("sex")),), sums=(("score", Col("score")),))


@pytest.mark.parametrize("name", ["mysql", "Memory", "", "sqlite:///x.db"])
def test_an_unknown_engine_name_lists_the_known_ones(name: str) -> None:
    with pytest.raises(InputError, match="unknown engine .*'memory', 'duckdb', 'spark'"):
        get_engine(name)


def test_audit_refuses_an_unknown_engine() -> None:
    with pytest.raises(InputError, match="unknown engine 'postgres'"):
        audit(FRAME, sensitive_features=["sex"], prediction="score", engine="postgres")


@pytest.mark.parametrize("engine", [MemoryEngine(), DuckDBEngine()], ids=["memory", "duckdb"])
@pytest.mark.parametrize("source", [object(), 42, b"bytes"], ids=["object", "int", "bytes"])
def test_an_unreadable_source_type_is_named(engine: Any, source: Any) -> None:
    with pytest.raises(InputError, match=f"cannot read a {type(source).__name__}"):
        engine.aggregate(source, BY_SEX)


def test_the_memory_engine_does_not_read_paths(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="memory engine cannot read a PosixPath"):
        MemoryEngine().columns(tmp_path / "decisions.parquet")


@pytest.mark.parametrize("name", ["absent.parquet", "absent.csv", "absent.json"])
def test_a_missing_file_is_named(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    with pytest.raises(InputError, match=f"no such file: .*{name}"):
        DuckDBEngine().aggregate(path, BY_SEX)
    with pytest.raises(InputError, match="no such file"):
        audit(path, sensitive_features=["sex"], prediction="score")


def test_a_file_of_unknown_format_asks_for_a_suffix(tmp_path: Path) -> None:
    path = tmp_path / "decisions.txt"
    path.write_text("sex,score\nf,0.1\n")
    with pytest.raises(InputError, match=r"cannot tell the format .*\.parquet, \.csv"):
        DuckDBEngine().columns(path)


def test_an_unknown_duckdb_table_is_an_input_error() -> None:
    engine = DuckDBEngine()
    with pytest.raises(InputError, match="no such table"):
        engine.columns("decisions")
    with pytest.raises(InputError, match="no such table"):
        engine.aggregate("decisions", BY_SEX)


@pytest.mark.parametrize("engine", [MemoryEngine(), DuckDBEngine()], ids=["memory", "duckdb"])
def test_a_missing_column_is_named(engine: Any) -> None:
    aggregation = Aggregation(keys=(("race", Col("race")),))
    with pytest.raises(InputError, match="'race'.* not found; the input has .*'sex'"):
        engine.aggregate(FRAME, aggregation)


@pytest.mark.parametrize("engine", [MemoryEngine(), DuckDBEngine()], ids=["memory", "duckdb"])
def test_summing_text_is_an_input_error(engine: Any) -> None:
    aggregation = Aggregation(keys=(), sums=(("text", Col("text")),))
    with pytest.raises(InputError, match="numeric"):
        engine.aggregate(FRAME, aggregation)


def test_the_largest_unsigned_integers_group_as_themselves() -> None:
    # uint64 keys past the signed 64-bit range are grouped (factorized), not offset into int64.
    frame = pd.DataFrame(
        {
            "group": pd.array([2**63 + 1, 2**63 + 5, 2**63 + 1], dtype="uint64"),
            "label": [1, 0, 1],
            "prediction": [1, 1, 0],
        }
    )
    report = audit(
        frame,
        label="label",
        prediction="prediction",
        sensitive_features=["group"],
        min_group_size=1,
    )
    counts = report.by_group()["count"]
    assert {str(group): int(n) for group, n in counts.items()} == {
        str(2**63 + 1): 2,
        str(2**63 + 5): 1,
    }
