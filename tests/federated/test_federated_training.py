"""Federated logistic regression (Flower's FedAvg) over three site processes, then audited.

Sites are split by region (each serves its own customers; one keeps its log in PostgreSQL);
the updates travel masked by SecAgg+; the model must reach within one point of a centrally
trained one, load from the model store's format without pickle, and its decisions' federated
audit must equal the audit of the pooled rows decided by the same model.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from federated_cases import assert_same_audit, write_table
from test_federated_deployment import running_sites

from ethica.fairness import audit
from ethica.federated import federated_train
from ethica.federated._deployment import free_port
from ethica.scoring import load_model

pytestmark = [pytest.mark.slow, pytest.mark.postgresql]

PLAN = """\
sites = 3
superlink = "127.0.0.1:{port}"
timeout = 900

[audit]
label = "repaid"
prediction = "approved"
sensitive = ["sex"]

[groups]
sex = ["Female", "Male"]

[training]
features = ["income", "debt", "tenure"]
rounds = 3
local_epochs = 5
"""


def region_logs(seed: int = 3) -> list[pd.DataFrame]:
    """One population split by region: each region's customers differ in income and tenure."""
    rng = np.random.default_rng(seed)
    logs = []
    for region in range(3):
        n = 3000
        income = rng.normal(0.4 * (region - 1), 1.0, n)
        debt = rng.normal(0.0, 1.0, n)
        tenure = rng.normal(-0.3 * (region - 1), 1.0, n)
        sex = rng.choice(["Female", "Male"], n)
        logit = 1.2 * income - 0.9 * debt + 0.5 * tenure + 0.2
        repaid = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
        logs.append(
            pd.DataFrame(
                {"sex": sex, "income": income, "debt": debt, "tenure": tenure, "repaid": repaid}
            )
        )
    return logs


def test_fedavg_reaches_central_accuracy_and_its_decisions_audit_as_pooled(
    tmp_path: Path, flower: Path, postgresql_url: str
) -> None:
    from sklearn.linear_model import LogisticRegression

    logs = region_logs()
    for index, log in enumerate(logs):
        log.to_parquet(tmp_path / f"site{index}.parquet", index=False)
    write_table(postgresql_url, "region_log", logs[0])  # site 0 reads it where it lives
    plan = tmp_path / "sites.toml"
    plan.write_text(PLAN.format(port=free_port()), encoding="utf-8")
    transcript = tmp_path / "training.jsonl"
    features = ["income", "debt", "tenure"]
    pooled = pd.concat(logs, ignore_index=True)
    central = LogisticRegression().fit(pooled[features], pooled["repaid"])
    central_accuracy = central.score(pooled[features], pooled["repaid"])

    in_postgresql = {0: ["--data", postgresql_url, "--table", "region_log"]}
    with running_sites(tmp_path, plan, 3, in_postgresql):
        model = federated_train(plan, logs=tmp_path / "coordinator", transcript=transcript)

    assert model.sites == 3 and model.rounds == 3
    masked = 0
    for line in transcript.read_text().splitlines():
        message = json.loads(line)
        assert "error" not in message
        # No update in the clear: secaggplus_mod sends only masked vectors (and evaluations
        # carry metrics, no arrays).
        assert all(not arrays for arrays in message["arrays"].values())
        configs = message["configs"].get("secaggplus_configs", {})
        masked += len(configs.get("masked_params", []))
    assert masked == 3 * 3 * 3  # rounds x sites x (weight, coefficients, intercept)
    print(f"FedAvg under SecAgg+ accuracy {model.accuracy:.4f} vs central {central_accuracy:.4f}")
    assert abs(model.accuracy - central_accuracy) <= 0.01
    stored = load_model(model.to_skops(), "skops")  # the model store's safe loader
    decided = stored.predict(pooled[features].to_numpy())
    assert np.mean(decided == pooled["repaid"]) == pytest.approx(model.accuracy, abs=1e-9)

    assert model.audit is not None
    pooled["approved"] = decided
    expected = audit(pooled, sensitive_features=["sex"], label="repaid", prediction="approved")
    assert_same_audit(model.audit.audit, expected)


REGION_SPEC = """\
id: region-credit
name: Regional credit
purpose: finance
legal_basis: contract
risk_tier: high
owner: credit-risk@bank.example
decision: {kind: binary, threshold: 0.5, positive: approved, negative: declined}
features:
  - {name: income, type: number, data_category: user.financial}
  - {name: debt, type: number, data_category: user.financial}
  - {name: tenure, type: number, data_category: user.financial}
protected_attributes:
  - {name: sex}
"""


def test_xgboost_bagging_is_registered_and_near_central_accuracy(
    tmp_path: Path, flower: Path
) -> None:
    import xgboost
    from typer.testing import CliRunner

    from ethica.cli import app as cli
    from ethica.federated._plan import XGBOOST_PARAMETERS as PARAMETERS

    logs = region_logs()
    for index, log in enumerate(logs):
        log.to_parquet(tmp_path / f"site{index}.parquet", index=False)
    plan = tmp_path / "sites.toml"
    rounds = 10
    trees = PLAN.replace("rounds = 3", f"rounds = {rounds}")
    trees = trees.replace("local_epochs = 5", 'local_epochs = 1\nlearner = "xgboost"')
    plan.write_text(trees.format(port=free_port()), encoding="utf-8")
    features = ["income", "debt", "tenure"]
    pooled = pd.concat(logs, ignore_index=True)
    # Central: the same settings and as many trees as the bagged model (one a site a round).
    central = xgboost.train(
        PARAMETERS, xgboost.DMatrix(pooled[features], label=pooled["repaid"]), 3 * rounds
    )
    labels = pooled["repaid"].to_numpy()
    central_accuracy = float(
        np.mean((central.predict(xgboost.DMatrix(pooled[features])) > 0.5) == labels)
    )
    spec = tmp_path / "spec.yaml"
    spec.write_text(REGION_SPEC, encoding="utf-8")
    database = f"sqlite:///{tmp_path / 'ethica.db'}"
    runner = CliRunner()
    applied = runner.invoke(cli, ["systems", "apply", str(spec), "--database", database])
    assert applied.exit_code == 0, applied.output
    out = tmp_path / "model.json"
    args = ["federated", "train", str(plan), "--out", str(out), "--system", "region-credit"]
    with running_sites(tmp_path, plan, 3):
        trained = runner.invoke(cli, [*args, "--version", "trees-1", "--database", database])
    assert trained.exit_code == 0, trained.output
    assert "Registered as model version trees-1 of system region-credit" in trained.output
    reported = float(trained.output.split("accuracy ")[1].split()[0])

    import sqlite3

    with sqlite3.connect(tmp_path / "ethica.db") as connection:
        ((format, content),) = connection.execute(
            "SELECT format, content FROM model_versions WHERE system_id = 'region-credit'"
        ).fetchall()
    assert format == "xgboost" and content == out.read_bytes()
    stored = load_model(content, "xgboost")  # the model store's loader: JSON, no pickle
    # Bagging: each round appends one tree from each of the 3 sites.
    assert stored.num_boosted_rounds() == 3 * rounds
    decided = stored.predict(xgboost.DMatrix(pooled[features])) > 0.5
    accuracy = float(np.mean(decided == labels))
    assert accuracy == pytest.approx(reported, abs=1e-4)
    print(f"xgboost bagging accuracy {accuracy:.4f} vs central {central_accuracy:.4f}")
    assert abs(accuracy - central_accuracy) <= 0.02
