"""Federated logistic regression (Flower's FedAvg) over three site processes, then audited.

Sites are split by region (each serves its own customers); the model must reach within one
point of a centrally trained one, load from the model store's format without pickle, and its
decisions' federated audit must equal the audit of the pooled rows decided by the same model.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from federated_cases import assert_same_audit
from test_federated_deployment import running_sites

from ethica.fairness import audit
from ethica.federated import federated_train
from ethica.federated._deployment import free_port
from ethica.scoring import load_model

pytestmark = pytest.mark.slow

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
    tmp_path: Path, flower: Path
) -> None:
    from sklearn.linear_model import LogisticRegression

    logs = region_logs()
    for index, log in enumerate(logs):
        log.to_parquet(tmp_path / f"site{index}.parquet", index=False)
    plan = tmp_path / "sites.toml"
    plan.write_text(PLAN.format(port=free_port()), encoding="utf-8")
    features = ["income", "debt", "tenure"]
    pooled = pd.concat(logs, ignore_index=True)
    central = LogisticRegression().fit(pooled[features], pooled["repaid"])
    central_accuracy = central.score(pooled[features], pooled["repaid"])

    with running_sites(tmp_path, plan, 3):
        model = federated_train(plan, logs=tmp_path / "coordinator")

    assert model.sites == 3 and model.rounds == 3
    assert abs(model.accuracy - central_accuracy) <= 0.01
    stored = load_model(model.to_skops(), "skops")  # the model store's safe loader
    decided = stored.predict(pooled[features].to_numpy())
    assert np.mean(decided == pooled["repaid"]) == pytest.approx(model.accuracy, abs=1e-9)

    assert model.audit is not None
    pooled["approved"] = decided
    expected = audit(pooled, sensitive_features=["sex"], label="repaid", prediction="approved")
    assert_same_audit(model.audit.audit, expected)
