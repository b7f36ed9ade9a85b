"""The coordinator's Flower app: Flower's SecAgg+ workflow sums the sites' counts.

The SuperLink starts ``server_app`` for each run. The protocol is Flower's own
(``SecAggPlusWorkflow``); the coordinator only ever holds masked vectors and their sum.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any, cast

# Set before Flower is imported: Flower reads it when it loads.
os.environ.setdefault("FLWR_TELEMETRY_ENABLED", "0")

import numpy as np
from flwr.app import Context, Message
from flwr.common import Metrics, ndarrays_to_parameters, parameters_to_ndarrays
from flwr.compat.common.recorddict_compat import arrayrecord_to_parameters
from flwr.server import Grid, LegacyContext, ServerApp, ServerConfig
from flwr.server.strategy import FedAvg
from flwr.server.workflow import DefaultWorkflow, SecAggPlusWorkflow
from flwr.server.workflow.constant import MAIN_PARAMS_RECORD

from ethica.federated._plan import Plan
from ethica.federated._secure_sum import MODULUS_RANGE, SecureSum

server_app = ServerApp()


@server_app.main()  # type: ignore[untyped-decorator]
def _coordinate(grid: Grid, context: Context) -> None:
    plan = Plan.from_json(str(context.run_config["plan"]))
    secure = SecureSum(plan.sites)
    contributed: list[int] = []

    def count_sites(metrics: list[tuple[int, Metrics]]) -> Metrics:
        contributed.append(len(metrics))
        return {}

    strategy = FedAvg(
        fraction_fit=1.0,
        fraction_evaluate=0.0,
        min_fit_clients=plan.sites,
        min_available_clients=plan.sites,
        initial_parameters=ndarrays_to_parameters([np.zeros(plan.layout.size)]),
        fit_metrics_aggregation_fn=count_sites,
    )
    legacy = LegacyContext(context=context, config=ServerConfig(num_rounds=1), strategy=strategy)
    workflow = DefaultWorkflow(
        fit_workflow=SecAggPlusWorkflow(
            num_shares=secure.num_shares,
            reconstruction_threshold=secure.reconstruction_threshold,
            max_weight=1.0,
            clipping_range=secure.clipping_range,
            quantization_range=secure.quantization_range,
            modulus_range=MODULUS_RANGE,
            timeout=plan.timeout,
        )
    )
    transcript = str(context.run_config.get("transcript", ""))
    recorder = Recorder(grid)
    workflow(cast(Grid, recorder) if transcript else grid, legacy)
    if transcript:
        Path(transcript).write_text("\n".join(recorder.lines) + "\n", encoding="utf-8")
    result: dict[str, Any] = {"sites": contributed[0] if contributed else 0}
    if contributed == [plan.sites]:
        parameters = arrayrecord_to_parameters(
            legacy.state.array_records[MAIN_PARAMS_RECORD], keep_input=True
        )
        result["counts"] = secure.totals(parameters_to_ndarrays(parameters)[0]).tolist()
    Path(str(context.run_config["result"])).write_text(json.dumps(result), encoding="utf-8")


class Recorder:
    """The grid, with every reply the coordinator receives written down as it arrived."""

    def __init__(self, grid: Grid) -> None:
        self._grid = grid
        self.lines: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._grid, name)

    def send_and_receive(
        self, messages: Iterable[Message], *, timeout: float | None = None
    ) -> Iterable[Message]:
        replies = list(self._grid.send_and_receive(messages, timeout=timeout))
        for reply in replies:
            self.lines.append(json.dumps(_as_record(reply)))
        return replies


def _as_record(message: Message) -> dict[str, Any]:
    if message.has_error():
        return {"from": message.metadata.src_node_id, "error": str(message.error)}
    content = message.content
    return {
        "from": message.metadata.src_node_id,
        "configs": {
            name: {key: _plain(value) for key, value in record.items()}
            for name, record in content.config_records.items()
        },
        "metrics": {
            name: {key: _plain(value) for key, value in record.items()}
            for name, record in content.metric_records.items()
        },
        "arrays": {
            name: {key: array.numpy().tolist() for key, array in record.items()}
            for name, record in content.array_records.items()
        },
    }


def _plain(value: Any) -> Any:
    if isinstance(value, bytes):
        return {"base64": base64.b64encode(value).decode("ascii")}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value
