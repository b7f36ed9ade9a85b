"""The command line runs DuckDB's aggregation while pandas loads, and the audit takes its result.

What it writes must be what the library writes for the same file (which runs its own query),
byte for byte, on every run; a wrong argument must be reported as before.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from engine_cases import SCORED_ROWS

from ethica.engines import Aggregation, Col, DuckDBEngine
from ethica.fairness import Audit, audit
from ethica.fairness._plan import SCORE_BINS, binary_aggregation, choose_score_bins, named_roles

ROLES = ("--sensitive", "sex,band", "--label", "label", "--prediction", "prediction")


def ethica(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the ``ethica`` console script next to this Python, as users do."""
    command = [str(Path(sys.executable).parent / "ethica"), *args]
    return subprocess.run(command, capture_output=True, text=True)


def library_audit(path: Path, features: str) -> Audit:
    """The same scored audit through the library, which runs its own query."""
    return audit(
        str(path),
        sensitive_features=features,
        label="label",
        prediction="prediction",
        score="score",
        engine="duckdb",
    )


def test_two_runs_of_a_scored_audit_write_the_same_json_as_the_library(
    scored_file: Path,
) -> None:
    runs = [ethica("audit", str(scored_file), *ROLES, "--score", "score", "--json") for _ in "ab"]
    for done in runs:
        assert done.returncode == 0, done.stderr
    assert runs[0].stdout == runs[1].stdout
    assert runs[0].stdout == library_audit(scored_file, "sex,band").to_json() + "\n"
    written = json.loads(runs[0].stdout)
    assert written["rows"] == SCORED_ROWS and "roc_auc" in written["overall"]


def test_a_wrong_column_is_reported_as_the_audit_says_it(scored_file: Path) -> None:
    done = ethica("audit", str(scored_file), *ROLES, "--score", "no_such_score", "--json")
    assert done.returncode == 2
    assert "no_such_score" in done.stderr and "not found" in done.stderr
    assert done.stdout == ""


def test_the_prefetched_result_is_taken_once_and_only_for_its_own_query(
    scored_file: Path,
) -> None:
    roles = named_roles(sensitive_features="sex", label="label", prediction="prediction")
    asked = binary_aggregation(roles, None)
    engine = DuckDBEngine()
    engine.prefetch(str(scored_file), asked)
    # Another question on the engine meanwhile does not disturb the waiting result.
    assert "score" in engine.columns(str(scored_file))
    taken = engine.aggregate(str(scored_file), asked)
    fresh = DuckDBEngine().aggregate(str(scored_file), asked)
    assert taken.equals(fresh) and int(taken["n"].sum()) == SCORED_ROWS
    # Once taken it is gone: the same query runs again, and gives the same table.
    assert engine.aggregate(str(scored_file), asked).equals(fresh)
    other = Aggregation(keys=(("band", Col("band")),))
    engine.prefetch(str(scored_file), asked)
    by_band = engine.aggregate(str(scored_file), other)
    assert by_band["band"].tolist() == ["25-44", "45+", "<25"]


def test_the_bins_are_chosen_as_the_audit_chooses_them(scored_file: Path) -> None:
    bins = choose_score_bins(DuckDBEngine(), str(scored_file), "score", SCORE_BINS)
    assert bins is not None and bins.method == "equal_width" and bins.bins == SCORE_BINS
    assert library_audit(scored_file, "sex").table.bins == bins


def test_the_query_starts_without_pandas() -> None:
    code = (
        "import sys\n"
        "import ethica.engines, ethica.fairness._plan\n"
        "from ethica.engines import DuckDBEngine\n"
        "print(sorted(m for m in ('pandas', 'numpy', 'pyarrow') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
