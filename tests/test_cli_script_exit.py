"""The ``ethica`` console script leaves without tearing Python down, yet loses nothing."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from ethica.cli import app

RUN = """
import atexit, sys
from ethica.cli import script
atexit.register(lambda: print("exit handler ran", file=sys.stderr))
sys.argv = ["ethica", *sys.argv[1:]]
script()
print("not reached", file=sys.stderr)
"""


def ethica(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the console script's function in a fresh interpreter."""
    return subprocess.run([sys.executable, "-c", RUN, *args], capture_output=True, text=True)


def test_an_audit_writes_all_of_its_json_and_runs_the_exit_handlers(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    rows = 3000
    pd.DataFrame(
        {
            "sex": rng.choice(["F", "M"], rows),
            "label": rng.integers(0, 2, rows),
            "prediction": rng.integers(0, 2, rows),
            "score": rng.random(rows),
        }
    ).to_parquet(tmp_path / "decisions.parquet")
    roles = "--sensitive sex --label label --prediction prediction --score score --json"
    done = ethica("audit", str(tmp_path / "decisions.parquet"), *roles.split())
    assert done.returncode == 0, done.stderr
    audit = json.loads(done.stdout)  # the whole document, flushed before the exit
    assert audit["rows"] == rows and audit["groupings"]["sex"]["groups"] == ["F", "M"]
    assert "exit handler ran" in done.stderr and "not reached" not in done.stderr


def test_a_wrong_argument_keeps_its_exit_code_and_message() -> None:
    done = ethica("audit", "x.parquet", "--kind", "x")
    assert done.returncode == 2
    assert "needs --sensitive and --prediction" in done.stderr
    assert "exit handler ran" in done.stderr


def test_a_missing_file_is_an_error_with_its_code() -> None:
    done = ethica("audit", "no-such.parquet", "--sensitive", "sex", "--prediction", "p")
    assert done.returncode == 2
    assert "no such file" in done.stderr


def test_the_audit_command_pauses_the_collector_only_while_it_runs(tmp_path: Path) -> None:
    pd.DataFrame({"sex": ["F", "M"] * 50, "prediction": [0, 1, 1, 0] * 25}).to_parquet(
        tmp_path / "d.parquet"
    )
    command = ["audit", str(tmp_path / "d.parquet"), "-s", "sex", "--prediction", "prediction"]
    try:
        assert gc.isenabled()
        done = CliRunner().invoke(app, [*command, "--json"])
        assert done.exit_code == 0, done.output
        assert json.loads(done.output)["rows"] == 100
        assert gc.isenabled()  # on again after the command
        gc.disable()
        assert CliRunner().invoke(app, command).exit_code == 0
        assert not gc.isenabled()  # a caller's own choice is left as it was
    finally:
        gc.enable()
