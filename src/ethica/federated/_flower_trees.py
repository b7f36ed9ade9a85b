"""Flower apps of federated gradient-boosted trees: XGBoost bagging, as Flower documents it.

As in Flower's XGBoost quickstart: in the first round every site boosts one tree on its own
rows; in each later round it loads the global model, boosts one more tree on its rows and sends
only that; Flower's ``FedXgbBagging`` appends every site's new tree to the global model (it
takes one boosting round from each site, so ``local_epochs`` does not apply here). After each
round every site reports its accuracy under the global model. Trees travel as XGBoost's JSON,
not through SecAgg+ (a tree cannot be summed).
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

# Set before Flower is imported: Flower reads it when it loads.
os.environ.setdefault("FLWR_TELEMETRY_ENABLED", "0")

from flwr.app import Context
from flwr.client import Client, ClientApp
from flwr.common import (
    Code,
    EvaluateIns,
    EvaluateRes,
    FitIns,
    FitRes,
    Parameters,
    Scalar,
    Status,
)
from flwr.server import Grid, LegacyContext, ServerApp, ServerConfig
from flwr.server.strategy import FedXgbBagging
from flwr.server.workflow import DefaultWorkflow

from ethica.federated._flower_training import RoundMetrics
from ethica.federated._plan import XGBOOST_PARAMETERS, Plan

server_app = ServerApp()


@server_app.main()  # type: ignore[untyped-decorator]
def _coordinate(grid: Grid, context: Context) -> None:
    plan = Plan.from_json(str(context.run_config["plan"]))
    rounds = RoundMetrics()

    def round_config(server_round: int) -> dict[str, Scalar]:
        return {"global_round": server_round}

    strategy = _Bagging(
        rounds,
        initial_parameters=Parameters(tensor_type="", tensors=[]),
        on_fit_config_fn=round_config,
        on_evaluate_config_fn=round_config,
        **rounds.every_site(plan),
    )
    legacy = LegacyContext(
        context=context, config=ServerConfig(num_rounds=plan.rounds), strategy=strategy
    )
    DefaultWorkflow()(grid, legacy)
    model = strategy.global_model
    result = {
        "model": None if model is None else base64.b64encode(model).decode("ascii"),
        **rounds.result(),
    }
    Path(str(context.run_config["result"])).write_text(json.dumps(result), encoding="utf-8")


class _Bagging(FedXgbBagging):  # type: ignore[misc]  # Flower is in its own venv (untyped here)
    """Flower's FedXgbBagging, counting the sites whose trees each round appends.

    (FedXgbBagging aggregates no fit metrics, so the count is taken from its results.)
    """

    def __init__(self, rounds: RoundMetrics, **options: Any) -> None:
        super().__init__(**options)
        self.rounds = rounds

    def aggregate_fit(
        self, server_round: int, results: list[Any], failures: list[Any]
    ) -> tuple[Parameters | None, dict[str, Scalar]]:
        self.rounds.contributed.append(len(results))
        aggregated: tuple[Parameters | None, dict[str, Scalar]] = super().aggregate_fit(
            server_round, results, failures
        )
        return aggregated


class _TreeLearner(Client):  # type: ignore[misc]  # Flower is in its own venv (untyped here)
    def __init__(self, plan: Plan, data: str, table: str) -> None:
        import xgboost

        from ethica.federated._site_counts import SiteLog, model_columns

        frame = SiteLog.of(data, table).frame(model_columns(plan))
        assert plan.label is not None
        labels = (frame[plan.label].astype(str) == str(plan.pos_label)).to_numpy(dtype=int)
        self.rows = len(labels)
        self.labels = labels
        self.matrix = xgboost.DMatrix(frame[list(plan.features)].astype(float), label=labels)
        self.plan = plan

    def fit(self, ins: FitIns) -> FitRes:
        import xgboost

        if int(ins.config["global_round"]) == 1:
            booster = xgboost.train(XGBOOST_PARAMETERS, self.matrix, num_boost_round=1)
        else:
            booster = self._global(ins.parameters)
            booster.update(self.matrix, booster.num_boosted_rounds())
            # Only this round's tree travels; the coordinator appends it (bagging).
            done = booster.num_boosted_rounds()
            booster = booster[done - 1 : done]
        trees = bytes(booster.save_raw("json"))
        return FitRes(_OK, Parameters(tensor_type="", tensors=[trees]), self.rows, {})

    def evaluate(self, ins: EvaluateIns) -> EvaluateRes:
        booster = self._global(ins.parameters)
        decided = (booster.predict(self.matrix) > 0.5).astype(int)
        accuracy = float((decided == self.labels).mean())
        return EvaluateRes(_OK, 1.0 - accuracy, self.rows, {"accuracy": accuracy})

    def _global(self, parameters: Parameters) -> Any:
        import xgboost

        booster = xgboost.Booster(params=XGBOOST_PARAMETERS)
        booster.load_model(bytearray(parameters.tensors[-1]))
        return booster


_OK = Status(code=Code.OK, message="OK")


def _learner(context: Context) -> Client:
    plan = Plan.from_json(str(context.run_config["plan"]))
    config = context.node_config
    return _TreeLearner(plan, str(config["data"]), str(config.get("table", "")))


client_app = ClientApp(client_fn=_learner)
