"""Data, aggregations and a table comparison shared by the engine parity tests."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ethica.engines import Aggregation, Apply, Col, binned

ROWS = 600
LIST_SIZE = 8


def decisions(seed: int = 0, rows: int = ROWS) -> pd.DataFrame:
    """Decisions with text, boolean and integer keys (some missing) and scores on bin edges."""
    rng = np.random.default_rng(seed)
    score = rng.random(rows)
    score[:4] = [0.0, 1.0, 0.5, 0.1]  # exact bin edges
    with_missing = score.copy()
    with_missing[rng.random(rows) < 0.15] = np.nan
    flag: list[Any] = [bool(v) for v in rng.integers(0, 2, rows)]
    age = rng.integers(1, 4, rows).astype(np.float64)
    sex: list[Any] = list(rng.choice(["female", "male", "non-binary"], rows))
    for i in rng.choice(rows, 40, replace=False):
        sex[i] = None
    for i in rng.choice(rows, 30, replace=False):
        flag[i] = None
    age[rng.choice(rows, 25, replace=False)] = np.nan
    index = np.arange(rows)
    return pd.DataFrame(
        {
            "sex": pd.Series(sex, dtype=object),
            "region": rng.choice(["north", "south"], rows),
            "approved": rng.integers(0, 2, rows).astype(bool),
            "flag": pd.Series(flag, dtype=object),
            "age band": age,  # a space in a name exercises identifier quoting
            "k": rng.integers(-1, 3, rows),
            "score": score,
            "score_missing": with_missing,
            "label": rng.integers(0, 2, rows),
            "relevance": rng.integers(0, 4, rows),
            "position": index % LIST_SIZE + 1,
            "list_id": index // LIST_SIZE,
        }
    )


def _ideal(relevance: str) -> Apply:
    return Apply("ideal_rank", (Col("list_id"), Col(relevance), Col("position")))


def _discount(expr: Apply | Col) -> Apply:
    return Apply("discount", (expr,))


ERROR = Apply("sub", (Col("score"), Col("label")))
GAIN = Apply("gain", (Col("relevance"),))

AGGREGATIONS: dict[str, Aggregation] = {
    "keys": Aggregation(
        keys=(
            ("sex", Col("sex")),
            ("region", Col("region")),
            ("approved", Col("approved")),
            ("flag", Col("flag")),
            ("age band", Col("age band")),
            ("k", Col("k")),
        ),
        sums=(("score", Col("score")),),
    ),
    "binned": Aggregation(
        keys=(
            ("sex", Col("sex")),
            ("label", Col("label")),
            ("bin", binned("score", 0.0, 1.0, 10)),
            ("bin_missing", binned("score_missing", 0.1, 0.9, 7)),
        ),
        sums=(
            ("score", Col("score")),
            ("score_missing", Col("score_missing")),
            ("capped", Apply("cap", (Col("score_missing"),), (0.5,))),
        ),
    ),
    "functions": Aggregation(
        keys=(("approved", Col("approved")), ("label", Col("label"))),
        sums=(
            ("error", ERROR),
            ("absolute_error", Apply("abs", (ERROR,))),
            ("squared_error", Apply("square", (ERROR,))),
            ("product", Apply("mul", (Col("score"), Col("label")))),
            ("discount", _discount(Col("position"))),
            ("gain", GAIN),
            ("dcg", Apply("mul", (GAIN, _discount(Col("position"))))),
            ("idcg", Apply("mul", (GAIN, _discount(_ideal("relevance"))))),
            ("ideal_missing", _discount(_ideal("score_missing"))),
            ("cap", Apply("cap", (Col("position"),), (5.0,))),
        ),
    ),
    "exact sums": Aggregation(
        keys=(("sex", Col("sex")), ("bin", binned("score", 0.0, 1.0, 10))),
        exact_sums=(
            ("score", Col("score")),
            ("missing", Col("score_missing")),
            ("negative", Apply("shift", (Col("score"),), (7.25,))),
            ("error", ERROR),
        ),
    ),
    "no keys": Aggregation(keys=(), sums=(("score", Col("score")), ("label", Col("label")))),
    "deviations": Aggregation(
        keys=(("sex", Col("sex")), ("flag", Col("flag")), ("bin", binned("score", 0.0, 1.0, 4))),
        sums=(("shifted", Apply("shift", (Col("score"),), (0.25,))),),
        deviations=(
            ("score_m2", Col("score")),
            ("missing_m2", Col("score_missing")),
            ("error_m2", ERROR),
        ),
    ),
    "deviations without keys": Aggregation(keys=(), deviations=(("score_m2", Col("score")),)),
}


def key_value(value: Any) -> Any:
    """A key as plain Python: every missing value as None, numbers as float, booleans kept."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | float | np.integer | np.floating):
        return None if math.isnan(float(value)) else float(value)
    return str(value)


def _sort_key(row: tuple[Any, ...]) -> tuple[tuple[int, Any], ...]:
    order = {type(None): 0, bool: 1, float: 2, str: 3}
    return tuple((order[type(v)], "" if v is None else v) for v in row)


def rows(table: pd.DataFrame, aggregation: Aggregation) -> tuple[list[Any], np.ndarray[Any, Any]]:
    """Key tuples (with ``n``) in a canonical order, and the sums in the same order."""
    keys = [name for name, _ in aggregation.keys]
    sums = aggregation.value_columns()
    assert list(table.columns) == [*keys, "n", *sums]
    records = []
    for i, record in enumerate(table[keys].itertuples(index=False, name=None)):
        records.append((tuple(key_value(v) for v in record), int(table["n"].iloc[i]), i))
    records.sort(key=lambda r: _sort_key(r[0]))
    order = [r[2] for r in records]
    values = table[sums].to_numpy(dtype=np.float64)[order] if sums else np.zeros((len(order), 0))
    return [(r[0], r[1]) for r in records], values


def assert_same_table(
    actual: pd.DataFrame, expected: pd.DataFrame, aggregation: Aggregation
) -> None:
    """Same cells with the same counts, and sums equal to a relative 1e-12."""
    actual_keys, actual_sums = rows(actual, aggregation)
    expected_keys, expected_sums = rows(expected, aggregation)
    assert actual_keys == expected_keys
    np.testing.assert_allclose(actual_sums, expected_sums, rtol=1e-12, atol=0, equal_nan=True)


#: A binary audit with missing text and boolean groups, scored, without bootstrap.
AUDIT_ARGUMENTS: dict[str, Any] = {
    "sensitive_features": ["sex", "flag"],
    "label": "label",
    "prediction": "prediction",
    "score": "score",
    "bootstrap": 0,
}


def audit_frame() -> pd.DataFrame:
    """The decisions with a 0/1 decision column to audit."""
    frame = decisions()
    return frame.assign(prediction=frame["approved"].astype(np.int64))


def assert_same_audit(actual: Any, expected: Any) -> None:
    """Same comparisons and summary, row for row, numbers equal to a relative 1e-12."""
    for name in ("comparisons", "summary"):
        pd.testing.assert_frame_equal(
            getattr(actual, name),
            getattr(expected, name),
            check_exact=False,
            rtol=1e-12,
            atol=1e-12,
            obj=name,
        )


#: Rows of the scored file the exact-sum and command-line tests audit.
SCORED_ROWS = 400_000


def write_scored_decisions(path: Path) -> Path:
    """Scored decisions in many row groups (DuckDB's threads share the work) as Parquet.

    The scores span several magnitudes, so that a sum in another order rounds differently.
    """
    rng = np.random.default_rng(7)
    score = rng.random(SCORED_ROWS)
    table = pa.table(
        {
            "sex": rng.choice(["F", "M"], SCORED_ROWS),
            "band": rng.choice(["<25", "25-44", "45+"], SCORED_ROWS),
            "label": rng.integers(0, 2, SCORED_ROWS),
            "prediction": (score > 0.5).astype(np.int64),
            "score": score * 10.0 ** rng.integers(-6, 3, SCORED_ROWS),
        }
    )
    pq.write_table(table, path, row_group_size=8192)
    return path
