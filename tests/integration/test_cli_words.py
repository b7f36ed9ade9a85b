"""What the command line says: its own option names in errors, and which database it uses."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from ethica.cli import app as cli
from ethica.cli import as_options

runner = CliRunner()


def test_an_audit_error_names_the_command_line_option(tmp_path: Path) -> None:
    data = tmp_path / "decisions.csv"
    data.write_text("group,decision\na,red\nb,blue\na,blue\nb,red\n")
    done = runner.invoke(
        cli, ["audit", str(data), "--sensitive", "group", "--prediction", "decision"]
    )
    assert done.exit_code != 0
    words = " ".join(done.output.split())
    assert "--pos-label" in words and "pos_label=" not in words
    assert as_options("say it with pos_label= (e.g. pos_label='>50K')") == (
        "say it with --pos-label (e.g. --pos-label '>50K')"
    )


def test_after_the_demo_the_commands_use_its_database_and_say_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ETHICA__DATABASE__URL", raising=False)
    (tmp_path / "out" / "demo").mkdir(parents=True)
    (tmp_path / "out" / "demo" / "ethica.db").touch()
    done = runner.invoke(cli, ["ledger", "verify"])
    assert done.exit_code == 0, done.output
    assert "Database: sqlite:///out/demo/ethica.db" in done.output
    assert not (tmp_path / "ethica.db").exists()  # no empty database created on the side


def test_without_the_demo_the_default_database_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ETHICA__DATABASE__URL", raising=False)
    done = runner.invoke(cli, ["ledger", "verify"])
    assert done.exit_code == 0, done.output
    assert "Database: sqlite:///ethica.db" in done.output
