"""``ethica synthesize SYSTEM``: a DP synthetic log of a system's decisions, its ε a ledger spend
from the same per-system budget as the transparency report; a release past it is refused.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from service_testing import Service
from sqlalchemy import func, select
from test_service_governance import CREDIT
from typer.testing import CliRunner

from ethica.cli import app as cli
from ethica.service.app import state_of
from ethica.service.governance.transparency import SPEND, budget_of
from ethica.service.ledger.tables import LedgerEntry

pytest.importorskip("mbi", reason="the dp extra (opendp[mbi]) is not installed")

runner = CliRunner()
BUDGET = {"ETHICA__PRIVACY__TRANSPARENCY_BUDGET": "1.5"}


def _scene(running: Service) -> None:
    protected = [{"name": "sex", "categories": ["F", "M"]}]
    features = [
        {
            "name": "income",
            "type": "number",
            "data_category": "user.financial",
            "minimum": 0,
            "maximum": 100,
        },
        {
            "name": "housing",
            "type": "category",
            "categories": ["own", "rent"],
            "data_category": "user.demographic",
        },
    ]
    running.register("credit", **CREDIT, features=features, protected_attributes=protected)
    for n in range(40):
        sex = "FM"[n % 2]
        body = {
            "subject_id": f"{sex}-{n}",
            "features": {"income": float(n * 2.5), "housing": ["own", "rent"][n % 3 == 0]},
            "protected": {"sex": sex},
            "score": 0.9 if sex == "M" else 0.2,
        }
        assert running.decide("credit", body).status_code == 201
    # A second decision about a person: the release keeps one row per person.
    again = {"subject_id": "M-1", "features": {"income": 1.0, "housing": "own"}}
    assert running.decide("credit", {**again, "protected": {"sex": "M"}, "score": 0.9}).is_success


def _spends(running: Service) -> int:
    with state_of(running.app).sessions() as session:
        return int(session.scalar(select(func.count()).where(LedgerEntry.kind == SPEND)) or 0)


def _synthesize(database_url: str, out: Path, epsilon: str) -> object:
    args = ["synthesize", "credit", "--epsilon", epsilon, "--out", str(out)]
    return runner.invoke(cli, [*args, "--database", database_url], env=BUDGET)


@pytest.mark.slow
def test_a_synthetic_log_of_a_system_spends_its_budget_and_one_past_it_is_refused(
    service: Callable[..., Service], database_url: str, tmp_path: Path
) -> None:
    running = service()
    _scene(running)
    first = tmp_path / "first.parquet"
    done = _synthesize(database_url, first, "1")
    assert done.exit_code == 0, done.output  # type: ignore[attr-defined]
    summary = json.loads(done.output)  # type: ignore[attr-defined]
    assert summary["system"] == "credit" and summary["epsilon"] == 1.0
    assert summary["ledger"].startswith("credit#")
    assert summary["decisions_left_out"] == 1  # M-1's earlier decision
    # Bins and categories come from the spec; only the true outcomes' set (no spec declares
    # it) is read from the data, and the summary says so.
    read = "category sets of text columns were read from the data as public"
    assert summary["public_assumptions"] == [read]
    synthetic = pd.read_parquet(first)
    assert list(synthetic.columns) == ["income", "housing", "sex", "outcome", "true_outcome"]
    assert set(synthetic["sex"].dropna()) <= {"F", "M"}
    if summary["utility_report"] is None:
        # A noisy release can make every outcome one value: it stands, and says so.
        assert "utility could not be assessed" in summary["utility_not_assessed"]
        assert synthetic["outcome"].nunique() == 1
    else:
        report = json.loads(first.with_suffix(".utility.json").read_text())
        assert {row["group"] for row in report["fairness"]} == {"F", "M"}
    assert _spends(running) == 1
    with state_of(running.app).sessions() as session:
        account = budget_of(session, system_id="credit", epsilon=1.5)
    (spend,) = account.spends
    assert (spend.epsilon, spend.budget) == (1.0, 1.5)
    assert spend.what.startswith("a synthetic decision log (MST")
    assert spend.ref is not None and f"credit#{spend.ref.sequence}" == summary["ledger"]

    second = tmp_path / "second.parquet"
    refused = _synthesize(database_url, second, "1")
    assert refused.exit_code == 2  # type: ignore[attr-defined]
    output = " ".join(refused.output.split())  # type: ignore[attr-defined]
    assert "only ε = 0.5 of its budget of 1.5 is left" in output
    assert "nothing was released" in output
    assert not second.exists()
    assert _spends(running) == 1  # the refusal wrote nothing

    verified = runner.invoke(cli, ["ledger", "verify", "--database", database_url])
    assert verified.exit_code == 0, verified.output


def test_an_unknown_system_and_a_missing_file_are_named(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "x.parquet"
    missing = runner.invoke(cli, ["synthesize", "nope.csv", "--epsilon", "1", "--out", str(out)])
    assert missing.exit_code == 2 and "no file at nope.csv" in missing.output
    # Neither a file nor a database to find a system in: no empty ./ethica.db is created.
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ETHICA__DATABASE__URL", raising=False)
    typo = runner.invoke(cli, ["synthesize", "decisions", "--epsilon", "1", "--out", str(out)])
    assert typo.exit_code == 2
    assert "name the service database with --database" in " ".join(typo.output.split())
    assert not (tmp_path / "ethica.db").exists()
    args = ["synthesize", "nope", "--epsilon", "1", "--out", str(out), "--database", database_url]
    unknown = runner.invoke(cli, args)
    assert unknown.exit_code == 2
    assert "no AI system 'nope' is registered" in unknown.output
    assert not out.exists()
