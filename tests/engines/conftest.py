"""Fixtures of the engine tests.

``scored_file``
    A Parquet file of scored decisions in many row groups (``engine_cases.SCORED_ROWS`` rows),
    written once per test session.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from engine_cases import write_scored_decisions


@pytest.fixture(scope="session")
def scored_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Scored decisions in many row groups, so that DuckDB's threads share the work."""
    return write_scored_decisions(tmp_path_factory.mktemp("scored") / "scored.parquet")
