"""``ethica audit`` reads its options without pydantic, and a wrong one is still a clear error."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

RUN = """
import sys
from ethica.cli import main
sys.argv = ["ethica", *sys.argv[1:]]
try:
    main()
except SystemExit as done:
    code = done.code
else:
    code = 0
print("loaded:", "pydantic" in sys.modules, "pandas" in sys.modules, code, file=sys.stderr)
"""


def ethica(*args: str) -> tuple[str, str]:
    """Run the command line in a fresh interpreter: its output and its last stderr line."""
    done = subprocess.run(
        [sys.executable, "-c", RUN, *args], capture_output=True, text=True, check=True
    )
    return done.stdout, done.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["audit", "x.parquet", "--kind", "x"], "needs --sensitive and --prediction"),
        (
            ["audit", "x.parquet", "-s", "a", "--prediction", "p", "--kind", "x"],
            "--kind must be one of binary",
        ),
        (
            ["audit", "x.parquet", "-s", "a", "--prediction", "p", "--min-group-size", "ten"],
            "'ten' is not a valid integer",
        ),
        (
            ["audit", "x.parquet", "-s", "a", "--prediction", "p", "--confidence", "high"],
            "'high' is not a valid number",
        ),
    ],
)
def test_a_wrong_argument_is_refused_before_pydantic_or_pandas_load(
    args: list[str], message: str
) -> None:
    _, errors = ethica(*args)
    assert message in errors
    assert errors.strip().splitlines()[-1] == "loaded: False False 2"


def test_an_audit_with_every_kind_of_option_reads_them_as_typer_would(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "sex": rng.choice(["F", "M"], 400),
            "label": rng.integers(0, 2, 400),
            "prediction": rng.integers(0, 2, 400),
        }
    )
    frame.to_parquet(tmp_path / "decisions.parquet")
    report = tmp_path / "report.html"
    out, errors = ethica(
        "audit",
        str(tmp_path / "decisions.parquet"),
        "--sensitive",
        "sex",
        "--label",
        "label",
        "--prediction",
        "prediction",
        "--min-group-size",
        "40",
        "--confidence",
        "0.9",
        "--no-outcomes",
        "--report",
        str(report),
        "--json",
    )
    assert errors.strip().splitlines()[-1] == "loaded: False True 0"
    settings = json.loads(out)["settings"]
    assert settings["min_group_size"] == 40 and settings["confidence"] == 0.9
    assert report.read_text(encoding="utf-8").startswith("<!")


def test_help_lists_the_audit_options() -> None:
    out, errors = ethica("audit", "--help")
    assert "--min-group-size" in out and "--report" in out
    assert errors.strip().splitlines()[-1] == "loaded: False False 0"
