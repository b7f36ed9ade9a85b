"""Flower apps of federated training: a logistic regression averaged with FedAvg across sites.

As in Flower's scikit-learn quickstart: each round, every site starts scikit-learn's
``LogisticRegression`` from the global coefficients (``warm_start``), fits a few iterations on
its own rows, and sends the coefficients; Flower's ``FedAvg`` averages them weighted by rows.
After the last round each site reports its accuracy under the final model.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

# Set before Flower is imported: Flower reads it when it loads.
os.environ.setdefault("FLWR_TELEMETRY_ENABLED", "0")

import numpy as np
from flwr.app import Context
from flwr.client import Client, ClientApp, NumPyClient
from flwr.common import (
    Metrics,
    NDArrays,
    Scalar,
    ndarrays_to_parameters,
    parameters_to_ndarrays,
)
from flwr.compat.common.recorddict_compat import arrayrecord_to_parameters
from flwr.server import Grid, LegacyContext, ServerApp, ServerConfig
from flwr.server.strategy import FedAvg
from flwr.server.workflow import DefaultWorkflow
from flwr.server.workflow.constant import MAIN_PARAMS_RECORD

from ethica.federated._plan import Plan

server_app = ServerApp()


@server_app.main()  # type: ignore[untyped-decorator]
def _coordinate(grid: Grid, context: Context) -> None:
    plan = Plan.from_json(str(context.run_config["plan"]))
    accuracy: list[float] = []
    contributed: list[int] = []

    def count_sites(metrics: list[tuple[int, Metrics]]) -> Metrics:
        contributed.append(len(metrics))
        return {}

    def weighted_accuracy(metrics: list[tuple[int, Metrics]]) -> Metrics:
        rows = sum(n for n, _ in metrics)
        accuracy.append(sum(n * float(m["accuracy"]) for n, m in metrics) / rows)
        return {"accuracy": accuracy[-1]}

    start = [np.zeros(len(plan.features)), np.zeros(1)]
    strategy = FedAvg(
        fraction_fit=1.0,
        fraction_evaluate=1.0,
        min_fit_clients=plan.sites,
        min_evaluate_clients=plan.sites,
        min_available_clients=plan.sites,
        initial_parameters=ndarrays_to_parameters(start),
        fit_metrics_aggregation_fn=count_sites,
        evaluate_metrics_aggregation_fn=weighted_accuracy,
    )
    legacy = LegacyContext(
        context=context, config=ServerConfig(num_rounds=plan.rounds), strategy=strategy
    )
    DefaultWorkflow()(grid, legacy)
    coefficients, intercept = parameters_to_ndarrays(
        arrayrecord_to_parameters(legacy.state.array_records[MAIN_PARAMS_RECORD], keep_input=True)
    )
    result = {
        "coefficients": coefficients.tolist(),
        "intercept": float(intercept[0]),
        "accuracy": accuracy[-1] if accuracy else None,
        "sites": min(contributed) if contributed else 0,
        "rounds": len(contributed),
    }
    Path(str(context.run_config["result"])).write_text(json.dumps(result), encoding="utf-8")


class _Learner(NumPyClient):  # type: ignore[misc]  # Flower is in its own venv (untyped here)
    def __init__(self, plan: Plan, data: str) -> None:
        from ethica.federated._site_counts import read_log

        frame = read_log(data)
        self.plan = plan
        self.inputs = frame[list(plan.features)].to_numpy(dtype=np.float64)
        assert plan.label is not None
        self.labels = (frame[plan.label].astype(str) == str(plan.pos_label)).to_numpy(dtype=int)

    def fit(
        self, parameters: NDArrays, config: dict[str, Scalar]
    ) -> tuple[NDArrays, int, dict[str, Scalar]]:
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.linear_model import LogisticRegression

        model = LogisticRegression(max_iter=self.plan.local_epochs, warm_start=True)
        model.classes_ = np.array([0, 1])
        model.coef_ = parameters[0].reshape(1, -1)
        model.intercept_ = parameters[1]
        with warnings.catch_warnings():
            # A few iterations per round is the point of FedAvg, not a failure to converge.
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(self.inputs, self.labels)
        return [model.coef_.ravel(), model.intercept_], len(self.labels), {}

    def evaluate(
        self, parameters: NDArrays, config: dict[str, Scalar]
    ) -> tuple[float, int, dict[str, Scalar]]:
        logits = self.inputs @ parameters[0] + parameters[1][0]
        probability = 1.0 / (1.0 + np.exp(-logits))
        eps = 1e-12
        loss = -np.mean(
            self.labels * np.log(probability + eps)
            + (1 - self.labels) * np.log(1 - probability + eps)
        )
        accuracy = float(np.mean((logits > 0).astype(int) == self.labels))
        return float(loss), len(self.labels), {"accuracy": accuracy}


def _learner(context: Context) -> Client:
    plan = Plan.from_json(str(context.run_config["plan"]))
    return _Learner(plan, str(context.node_config["data"])).to_client()


client_app = ClientApp(client_fn=_learner)
