"""Where Flower is: in this venv, or in ``.venv-peers/flower`` (``make peer-venvs``).

Flower 1.42 pins FastAPI, Starlette and Typer below the versions ``.venv`` holds, so it lives
in a venv of its own; ethica starts its commands as processes. Tests that need Flower skip,
saying so, where neither has it.
"""

from __future__ import annotations

import os
import shutil
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from ethica.federated._deployment import FLOWER_BIN_VARIABLE

PEER_BIN = Path(__file__).resolve().parents[2] / ".venv-peers/flower/bin"


def flower_folder() -> Path | None:
    """The bin folder holding Flower's commands and a Python with flwr, or None."""
    for folder in (
        Path(os.environ.get(FLOWER_BIN_VARIABLE, "/nonexistent")),
        Path(sys.executable).parent,
        PEER_BIN,
    ):
        if (folder / "flower-superlink").exists():
            return folder
    found = shutil.which("flower-superlink")
    return Path(found).parent if found else None


@pytest.fixture
def flower(monkeypatch: pytest.MonkeyPatch) -> Path:
    """The folder of Flower's commands (set for ethica to find); skip where Flower is missing."""
    folder = flower_folder()
    if folder is None:
        pytest.skip("Flower is missing: run `make peer-venvs` (it makes .venv-peers/flower)")
    monkeypatch.setenv(FLOWER_BIN_VARIABLE, str(folder))
    return folder


@pytest.fixture
def postgresql_url() -> Iterator[str]:
    """A PostgreSQL database of this test's own (dropped after); skip where none is reachable."""
    psycopg = pytest.importorskip("psycopg", reason="psycopg is not installed")
    server = os.environ.get(
        "ETHICA_TEST_POSTGRESQL_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
    )
    name = f"privacy_test_{uuid.uuid4().hex[:12]}"
    try:
        with psycopg.connect(server, autocommit=True, connect_timeout=3) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as error:
        pytest.skip(f"PostgreSQL is unreachable at {server}: {error}")
    url = f"{server.rpartition('/')[0]}/{name}"
    try:
        yield url
    finally:
        with psycopg.connect(server, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
