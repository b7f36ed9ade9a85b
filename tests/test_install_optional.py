"""The core library imports and audits without any optional extra, and keeps its layering."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "ethica"
OPTIONAL = ["pyspark", "psycopg", "polars", "sklearn", "lightgbm", "numba", "fairlearn", "aif360"]
LIBRARY = [
    "fairness",
    "engines",
    "explain",
    "privacy",
    "ledger",
    "governance",
    "monitoring",
    "mitigation",
    "federated",
]


def test_core_imports_and_audits_without_optional_extras() -> None:
    script = f"""
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {OPTIONAL!r}:
            raise ImportError("blocked optional dependency " + name)
        return None
sys.meta_path.insert(0, Block())
import pandas as pd
import ethica, ethica.fairness, ethica.engines, ethica.cli, ethica.mitigation._thresholds
result = ethica.fairness.audit(
    pd.DataFrame({{"g": ["a", "b"] * 50, "y": [0, 1, 1, 0] * 25, "p": [1, 1, 0, 0] * 25}}),
    label="y", prediction="p", sensitive_features=["g"], engine="duckdb",
)
blocked = [m for m in sys.modules if m.split(".")[0] in {OPTIONAL!r}]
assert not blocked, blocked
print(result.table.rows)
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "100"


def test_library_never_imports_the_service_or_web_frameworks() -> None:
    forbidden = ("fastapi", "sqlalchemy", "starlette", "ethica.service")
    offenders = []
    for package in LIBRARY:
        for path in (SRC / package).rglob("*.py") if (SRC / package).exists() else []:
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                names = []
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module:
                    names = [node.module]
                offenders += [f"{path.name}: {n}" for n in names if n.startswith(forbidden)]
    assert (SRC / "fairness").exists()
    assert offenders == []
