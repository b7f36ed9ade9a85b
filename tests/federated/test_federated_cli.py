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


def test_a_trained_model_is_registered_as_the_systems_model_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Training itself runs over site processes (test_federated_training, slow); here the
    # command's registration path, on a real database and the model store's safe loader.
    pytest.importorskip("skops", reason="the models extra is not installed")
    import numpy as np

    import ethica.federated
    from ethica.federated import FederatedModel

    spec = Path(__file__).resolve().parents[2] / "examples" / "credit-limit" / "spec.yaml"
    database = f"sqlite:///{tmp_path / 'ethica.db'}"
    code, output = _run("systems", "apply", str(spec), "--database", database)
    assert code == 0, output
    trained = FederatedModel(
        features=("income", "debt_to_income"),
        coefficients=np.array([0.5, -1.0]),
        intercept=0.1,
        accuracy=0.75,
        rounds=3,
        sites=3,
    )
    monkeypatch.setattr(ethica.federated, "federated_train", lambda plan: trained)
    out = tmp_path / "model.skops"
    code, output = _run(
        "federated",
        "train",
        "sites.toml",
        "--out",
        str(out),
        "--system",
        "credit-limit",
        "--version",
        "federated-1",
        "--database",
        database,
    )
    assert code == 0, output
    assert "Registered as model version federated-1 of system credit-limit" in output
    from ethica.scoring import load_model

    assert load_model(out.read_bytes(), "skops").coef_.tolist() == [[0.5, -1.0]]
    import sqlite3

    with sqlite3.connect(tmp_path / "ethica.db") as connection:
        stored = connection.execute(
            "SELECT format, content FROM model_versions "
            "WHERE system_id = 'credit-limit' AND version = 'federated-1'"
        ).fetchall()
    assert len(stored) == 1 and stored[0][0] == "skops"
    assert load_model(stored[0][1], "skops").intercept_.tolist() == [0.1]
