"""``ethica systems apply`` classifies as ``PUT /v1/systems/{id}`` does: one use case, one entry."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from service_testing import Service, credit_spec
from test_service_governance import CREDIT, RECOMMENDATION_FACTS
from typer.testing import CliRunner

from ethica.cli import app as cli
from ethica.service.app import state_of
from ethica.service.governance import service as governance

runner = CliRunner()


def _classifications(running: Service) -> list[dict[str, Any]]:
    with state_of(running.app).sessions() as session:
        return [e.public for e in governance.classification_history(session, system_id="credit")]


def _apply(database_url: str, tmp_path: Path, **changes: Any) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(json.dumps({"id": "credit", **credit_spec(**changes)}), encoding="utf-8")
    done = runner.invoke(cli, ["systems", "apply", str(spec), "--database", database_url])
    assert done.exit_code == 0, done.output


def test_the_cli_writes_the_classification_entry_the_api_writes(
    service: Callable[..., Service], database_url: str, tmp_path: Path
) -> None:
    running = service()
    _apply(database_url, tmp_path, **CREDIT)
    (first,) = _classifications(running)
    assert first["by"] == "cli"
    assert first["classification"]["tier"] == "high"
    assert "Annex III point 5(b)" in first["provisions"]
    assert first["change"]["previous_tier"] == "unclassified"

    # The same spec through the API is no change: both paths classify it alike.
    running.register("credit", **CREDIT)
    _apply(database_url, tmp_path, **CREDIT)
    assert len(_classifications(running)) == 1

    # A changed spec applied from the CLI re-classifies, after the API's own change.
    running.register("credit", ai_act=RECOMMENDATION_FACTS, risk_tier="minimal")
    _apply(database_url, tmp_path, **CREDIT)
    _, by_api, by_cli = _classifications(running)
    assert by_api["by"].startswith("user:") and by_api["classification"]["tier"] == "minimal"
    assert by_cli["by"] == "cli" and by_cli["change"]["previous_tier"] == "minimal"
    assert by_cli["classification"] == first["classification"]

    verified = runner.invoke(cli, ["ledger", "verify", "--database", database_url])
    assert verified.exit_code == 0, verified.output
