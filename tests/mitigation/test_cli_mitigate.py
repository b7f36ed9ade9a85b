"""``ethica mitigate``: the proposal equals the library's, guard rails speak, bad input fails."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_thresholds_vs_fairlearn import generated
from typer.testing import CliRunner

from ethica.cli import app
from ethica.fairness import count_table
from ethica.mitigation import group_thresholds, reweighing

runner = CliRunner()
ROLES = ["--label", "y", "--prediction", "pred", "--sensitive", "group"]


@pytest.fixture(scope="module")
def decisions(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("mitigate") / "decisions.parquet"
    generated().to_parquet(path)
    return path


def test_thresholds_json_equals_the_library(decisions: Path, tmp_path: Path) -> None:
    report = tmp_path / "proposal.json"
    done = runner.invoke(
        app,
        [
            "mitigate",
            str(decisions),
            *ROLES,
            "--score",
            "score",
            "--criterion",
            "equalized_odds",
            "--json",
            "--report",
            str(report),
        ],
    )
    assert done.exit_code == 0, done.output
    proposal = json.loads(done.stdout)
    assert json.loads(report.read_text()) == proposal
    table = count_table(
        str(decisions), sensitive_features="group", label="y", prediction="pred", score="score"
    )
    policy = group_thresholds(table, criterion="equalized_odds")
    assert proposal["policy"]["rate"] == policy.rate
    assert proposal["policy"]["rules"] == [rule.__dict__ for rule in policy.rules.values()]
    assert proposal["guard_rail"] is None


def test_us_credit_flags_group_thresholds_and_offers_blind_methods(decisions: Path) -> None:
    done = runner.invoke(
        app,
        [
            "mitigate",
            str(decisions),
            *ROLES,
            "--score",
            "score",
            "--sweep",
            "--jurisdiction",
            "us-credit",
        ],
    )
    assert done.exit_code == 0, done.output
    text = " ".join(done.stdout.split())
    assert "Not lawful here" in text and "Equal Credit Opportunity Act" in text
    assert "Group-blind alternatives: reweigh, reductions" in text
    assert "never applied without an officer's approval" in text
    for criterion in ("as decided", "demographic_parity", "equal_opportunity", "equalized_odds"):
        assert criterion in text
    assert "Recommended: thresholds: equal_opportunity" in text


def test_reweigh_is_group_blind_and_not_flagged(decisions: Path) -> None:
    done = runner.invoke(
        app,
        [
            "mitigate",
            str(decisions),
            *ROLES,
            "--method",
            "reweigh",
            "--jurisdiction",
            "us-credit",
            "--json",
        ],
    )
    assert done.exit_code == 0, done.output
    proposal = json.loads(done.stdout)
    assert proposal["guard_rail"] is None
    table = count_table(str(decisions), sensitive_features="group", label="y", prediction="pred")
    expected = reweighing(table).weights["weight"].tolist()
    assert [row["weight"] for row in proposal["weights"]] == expected


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--criterion", "parity"], "--criterion must be one of"),
        (["--method", "magic"], "--method must be one of"),
        (["--method", "reductions"], "use ethica.mitigation.reductions in Python"),
        ([], "need the model's --score column"),
        (["--score", "nope"], "not found"),
    ],
)
def test_bad_input_exits_2_with_a_clear_message(
    decisions: Path, extra: list[str], message: str
) -> None:
    done = runner.invoke(app, ["mitigate", str(decisions), *ROLES, *extra])
    assert done.exit_code == 2
    assert message in " ".join(done.stderr.split())


def test_sweep_with_costs_writes_the_chart_and_the_spec_sets_the_guard_rail(
    decisions: Path, tmp_path: Path
) -> None:
    spec = tmp_path / "credit.yaml"
    spec.write_text(
        "id: credit\nname: Credit\npurpose: finance\nowner: risk@bank.example\n"
        "decision: {kind: binary}\nfeatures: [{name: income, type: number, "
        "data_category: user.financial}]\nai_act: {intended_purpose: Evaluate creditworthiness "
        "of customers., domain: creditworthiness, affected: [customers], roles: [deployer], "
        "jurisdictions: [us]}\n",
        encoding="utf-8",
    )
    chart = tmp_path / "trade-off.html"
    args = ["mitigate", str(decisions), *ROLES, "--score", "score", "--sweep"]
    done = runner.invoke(
        app, [*args, "--costs", "tp=120,fp=-600", "--chart", str(chart), "--spec", str(spec)]
    )
    assert done.exit_code == 0, done.output
    text = " ".join(done.stdout.split())
    assert "Not lawful here" in text and "Equal Credit Opportunity Act" in text
    assert "Trade-off: profit and gaps" in text and "most profitable" in text
    page = chart.read_text(encoding="utf-8")
    assert "<svg role='img'" in page and "Expected profit per decision against" in page
    assert "<html lang='en'>" in page
    as_json = runner.invoke(app, [*args, "--costs", "tp=120,fp=-600", "--json"])
    sweep = json.loads(as_json.stdout)["sweep"]
    assert sweep["objective"] == "profit" and sweep["costs"]["fp"] == -600.0
    assert all(p["profit_low"] <= p["profit"] <= p["profit_high"] for p in sweep["points"])
    eu = spec.read_text(encoding="utf-8").replace("jurisdictions: [us]", "jurisdictions: [eu]")
    spec.write_text(eu, encoding="utf-8")
    allowed = runner.invoke(app, [*args, "--spec", str(spec), "--json"])
    assert json.loads(allowed.stdout)["guard_rail"] is None


def test_costs_without_a_sweep_exit_2(decisions: Path) -> None:
    done = runner.invoke(
        app, ["mitigate", str(decisions), *ROLES, "--score", "score", "--costs", "tp=1,fp=-1"]
    )
    assert done.exit_code == 2 and "add --sweep" in " ".join(done.stderr.split())
