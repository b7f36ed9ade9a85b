"""A site's Flower app: count the site's decision log, hand it to Flower's SecAgg+ mod masked.

Each site's SuperNode starts ``client_app`` for every message of a run; ``secaggplus_mod``
(Flower's) masks the counts before they leave the site. This module imports little: Flower
starts it afresh for each of the protocol's four stages.
"""

from __future__ import annotations

import os

# Set before Flower is imported: Flower reads it when it loads.
os.environ.setdefault("FLWR_TELEMETRY_ENABLED", "0")

import numpy as np
from flwr.app import Context
from flwr.client import Client, ClientApp, NumPyClient
from flwr.client.mod import secaggplus_mod
from flwr.common import NDArrays, Scalar

from ethica.federated._plan import Plan


class _Site(NumPyClient):  # type: ignore[misc]  # Flower is in its own venv (untyped here)
    def __init__(self, plan: Plan, data: str, table: str) -> None:
        self.plan = plan
        self.data = data
        self.table = table

    def fit(
        self, parameters: NDArrays, config: dict[str, Scalar]
    ) -> tuple[NDArrays, int, dict[str, Scalar]]:
        # Loaded here: the other stages of SecAgg+ start faster without pandas and DuckDB.
        from ethica.federated._site_counts import SiteLog, site_counts

        counts = site_counts(self.plan, SiteLog.of(self.data, self.table))
        # Weight 1: SecAgg+ then returns the plain average of the sites' counts.
        return [counts.astype(np.float64)], 1, {}


def _site(context: Context) -> Client:
    plan = Plan.from_json(str(context.run_config["plan"]))
    config = context.node_config
    return _Site(plan, str(config["data"]), str(config.get("table", ""))).to_client()


client_app = ClientApp(client_fn=_site, mods=[secaggplus_mod])
