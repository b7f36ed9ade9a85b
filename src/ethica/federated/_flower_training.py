"""Flower apps of federated training: a logistic regression averaged with FedAvg across sites.

As in Flower's scikit-learn quickstart: each round, every site starts scikit-learn's
``LogisticRegression`` from the global coefficients (``warm_start``), fits a few iterations on
its own rows, and sends the coefficients; Flower's ``FedAvg`` averages them weighted by rows.
The updates travel through Flower's SecAgg+ (``secaggplus_mod`` at each site,
``SecAggPlusWorkflow`` at the coordinator), so the coordinator learns only the weighted average.
After the last round each site reports its accuracy under the final model.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import Any, cast

# Set before Flower is imported: Flower reads it when it loads.
os.environ.setdefault("FLWR_TELEMETRY_ENABLED", "0")

import numpy as np
from flwr.app import Context
from flwr.client import Client, ClientApp, NumPyClient
from flwr.client.mod import secaggplus_mod
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
from flwr.server.workflow import DefaultWorkflow, SecAggPlusWorkflow
from flwr.server.workflow.constant import MAIN_PARAMS_RECORD

from ethica.errors import InputError
from ethica.federated._flower_coordinator import Recorder
from ethica.federated._plan import Plan
from ethica.federated._secure_sum import MODULUS_RANGE, SecureSum

server_app = ServerApp()


class RoundMetrics:
    """What each round's replies say: how many sites trained, and the rows-weighted accuracy."""

    def __init__(self) -> None:
        self.accuracy: list[float] = []
        self.contributed: list[int] = []

    def count_sites(self, metrics: list[tuple[int, Metrics]]) -> Metrics:
        """Record how many sites sent an update this round (a fit's metrics aggregation)."""
        self.contributed.append(len(metrics))
        return {}

    def weighted_accuracy(self, metrics: list[tuple[int, Metrics]]) -> Metrics:
        """Record the sites' accuracy weighted by their rows (an evaluation's aggregation)."""
        rows = sum(n for n, _ in metrics)
        self.accuracy.append(sum(n * float(m["accuracy"]) for n, m in metrics) / rows)
        return {"accuracy": self.accuracy[-1]}

    def every_site(self, plan: Plan) -> dict[str, Any]:
        """Return the options of a strategy that trains and evaluates at all the plan's sites."""
        return {
            "fraction_fit": 1.0,
            "fraction_evaluate": 1.0,
            "min_fit_clients": plan.sites,
            "min_evaluate_clients": plan.sites,
            "min_available_clients": plan.sites,
            "fit_metrics_aggregation_fn": self.count_sites,
            "evaluate_metrics_aggregation_fn": self.weighted_accuracy,
        }

    def result(self) -> dict[str, Any]:
        """Return the final accuracy, the sites in every round, and the rounds run."""
        return {
            "accuracy": self.accuracy[-1] if self.accuracy else None,
            "sites": min(self.contributed) if self.contributed else 0,
            "rounds": len(self.contributed),
        }


@server_app.main()  # type: ignore[untyped-decorator]
def _coordinate(grid: Grid, context: Context) -> None:
    plan = Plan.from_json(str(context.run_config["plan"]))
    rounds = RoundMetrics()

    start = [np.zeros(len(plan.features)), np.zeros(1)]
    strategy = FedAvg(initial_parameters=ndarrays_to_parameters(start), **rounds.every_site(plan))
    legacy = LegacyContext(
        context=context, config=ServerConfig(num_rounds=plan.rounds), strategy=strategy
    )
    secure = SecureSum(plan.sites)
    transcript = str(context.run_config.get("transcript", ""))
    recorder = Recorder(grid)
    DefaultWorkflow(
        fit_workflow=SecAggPlusWorkflow(
            num_shares=secure.num_shares,
            reconstruction_threshold=secure.reconstruction_threshold,
            # Each site's update is weighed by rows / max_site_rows, then quantized over
            # [-clip, clip] in the finest steps under which the sum cannot wrap the modulus.
            max_weight=float(plan.max_site_rows),
            clipping_range=plan.clip,
            quantization_range=secure.quantization_range,
            modulus_range=MODULUS_RANGE,
            timeout=plan.timeout,
        )
    )(cast(Grid, recorder) if transcript else grid, legacy)
    if transcript:
        Path(transcript).write_text("\n".join(recorder.lines) + "\n", encoding="utf-8")
    coefficients, intercept = parameters_to_ndarrays(
        arrayrecord_to_parameters(legacy.state.array_records[MAIN_PARAMS_RECORD], keep_input=True)
    )
    result = {
        "coefficients": coefficients.tolist(),
        "intercept": float(intercept[0]),
        **rounds.result(),
    }
    Path(str(context.run_config["result"])).write_text(json.dumps(result), encoding="utf-8")


class _Learner(NumPyClient):  # type: ignore[misc]  # Flower is in its own venv (untyped here)
    def __init__(self, plan: Plan, data: str, table: str) -> None:
        from ethica.federated._site_counts import SiteLog, model_columns

        frame = SiteLog.of(data, table).frame(model_columns(plan))
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
        update = [model.coef_.ravel(), model.intercept_]
        self._check(update)
        return update, len(self.labels), {}

    def _check(self, update: NDArrays) -> None:
        """Refuse to send what SecAgg+ would clip or overflow, rather than skew the average."""
        rows, largest = len(self.labels), max(float(np.abs(u).max()) for u in update)
        if rows > self.plan.max_site_rows:
            raise InputError(
                f"this site has {rows:,} rows, more than the plan's [training] max_site_rows "
                f"({self.plan.max_site_rows:,}); raise it in the plan"
            )
        if largest > self.plan.clip:
            raise InputError(
                f"a coefficient of this site's update is {largest:.4g}, beyond the plan's "
                f"[training] clip ({self.plan.clip:g}); scale the features or raise clip"
            )

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
    config = context.node_config
    return _Learner(plan, str(config["data"]), str(config.get("table", ""))).to_client()


client_app = ClientApp(client_fn=_learner, mods=[secaggplus_mod])
