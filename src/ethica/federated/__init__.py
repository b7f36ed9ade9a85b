"""Federated fairness audits: sites count their own decisions, Flower's SecAgg+ sums the counts.

Each site builds its count table with the usual engines and sends it masked; the coordinator
learns only the sum, and audits it exactly as a central audit of the pooled rows. Needs the
``federated`` extra (Flower); Flower's telemetry is off in every process ethica starts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ethica._lazy import lazy_attributes

if TYPE_CHECKING:
    from ethica.federated._coordinator import FederatedAudit, federated_audit, noisy_counts
    from ethica.federated._layout import Layout
    from ethica.federated._plan import Plan, plan_from_dict, read_plan
    from ethica.federated._secure_sum import SecureSum
    from ethica.federated._site import run_site
    from ethica.federated._site_counts import site_counts
    from ethica.federated._training import FederatedModel, FederatedTrees, federated_train

_WHERE = {
    "FederatedAudit": "_coordinator",
    "federated_audit": "_coordinator",
    "noisy_counts": "_coordinator",
    "Layout": "_layout",
    "Plan": "_plan",
    "plan_from_dict": "_plan",
    "read_plan": "_plan",
    "SecureSum": "_secure_sum",
    "run_site": "_site",
    "site_counts": "_site_counts",
    "FederatedModel": "_training",
    "FederatedTrees": "_training",
    "federated_train": "_training",
}

__all__ = [
    "FederatedAudit",
    "FederatedModel",
    "FederatedTrees",
    "Layout",
    "Plan",
    "SecureSum",
    "federated_audit",
    "federated_train",
    "noisy_counts",
    "plan_from_dict",
    "read_plan",
    "run_site",
    "site_counts",
]


__getattr__, __dir__ = lazy_attributes("ethica.federated", _WHERE, globals(), __all__)
