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
