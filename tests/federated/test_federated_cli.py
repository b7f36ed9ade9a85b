"""``ethica audit --federated`` and ``ethica federated site`` refuse bad input, saying the fix."""

from __future__ import annotations

from pathlib import Path

import pytest
from federated_cases import site_logs, write_sites
from typer.testing import CliRunner

from ethica.cli import app


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, " ".join(result.output.split())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["audit", "--federated", "missing.toml"], "no plan at missing.toml"),
        (["audit", "x.parquet", "--federated", "p.toml"], "--federated takes the sites"),
        (
            ["audit", "x.parquet", "-s", "a", "--prediction", "p", "--transcript", "t.jsonl"],
            "--transcript goes with --federated",
        ),
        (["federated", "site", "--data", "missing.parquet"], "no decision log at"),
        (
            ["federated", "train", "p.toml", "--out", "m.skops", "--system", "credit"],
            "--system and --version go together",
        ),
        (["federated", "train", "missing.toml", "--out", "m.skops"], "no plan at missing.toml"),
    ],
)
def test_a_wrong_call_is_refused_with_the_fix(args: list[str], message: str) -> None:
    code, output = _run(*args)
    assert code == 2
    assert message in output


def test_a_plan_with_two_sites_is_refused_before_anything_starts(tmp_path: Path) -> None:
    plan = write_sites(tmp_path, site_logs(rows=50), port=9092)
    plan.write_text(plan.read_text().replace("sites = 3", "sites = 2"))
    code, output = _run("audit", "--federated", str(plan))
    assert code == 2
    assert "at least 3" in output and "learn the other's counts" in output


def test_a_site_refuses_a_superlink_off_this_machine(tmp_path: Path) -> None:
    data = tmp_path / "site.parquet"
    site_logs(rows=50)[0].to_parquet(data)
    code, output = _run("federated", "site", "--data", str(data), "--superlink", "10.1.2.3:9092")
    assert code == 2
    assert "not on this machine" in output and "TLS" in output


def test_training_needs_the_features_named(tmp_path: Path) -> None:
    plan = write_sites(tmp_path, site_logs(rows=50), port=9092)
    code, output = _run("federated", "train", str(plan), "--out", str(tmp_path / "m.skops"))
    assert code == 2
    assert "no [training] features" in output
    assert not (tmp_path / "m.skops").exists()
