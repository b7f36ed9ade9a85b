"""Where Flower is: in this venv, or in ``.venv-peers/flower`` (``make peer-venvs``).

Flower 1.42 pins FastAPI, Starlette and Typer below the versions ``.venv`` holds, so it lives
in a venv of its own; ethica starts its commands as processes. Tests that need Flower skip,
saying so, where neither has it.
"""

from __future__ import annotations

import os
import shutil
import sys
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
