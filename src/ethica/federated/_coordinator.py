"""The coordinator of a federated audit: a SuperLink on loopback, one run, the audit of the sum."""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ethica.errors import EngineError
from ethica.fairness import Audit, CountTable, Settings, assess
from ethica.federated._deployment import (
    start_superlink,
    stop,
    submit_run,
    write_app,
    write_flower_home,
)
from ethica.federated._plan import Plan, read_plan


@dataclass(frozen=True)
class FederatedAudit:
    """The audit of the summed counts, and how they were released."""

    audit: Audit
    table: CountTable
    sites: int
    epsilon: float | None


def federated_audit(
    plan: Plan | Path, *, transcript: Path | None = None, logs: Path | None = None
) -> FederatedAudit:
    """Run a federated audit: the sites' count tables summed by Flower's SecAgg+, then assessed.

    Parameters
    ----------
    plan
        The plan (or the path of a ``sites.toml``); its sites must be running
        (``ethica federated site``) or start within the plan's timeout.
    transcript
        Write every message the coordinator received here, one JSON object a line, for an
        auditor to check that no site's table reached the coordinator.
    logs
        Keep the SuperLink's and the run's logs in this folder (default: a temporary one).
    """
    if isinstance(plan, Path):
        plan = read_plan(plan)
    with tempfile.TemporaryDirectory(prefix="ethica-federated-") as scratch:
        folder = logs or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        counts = _secure_sum(plan, folder, Path(scratch), transcript)
    released = counts if plan.epsilon is None else noisy_counts(counts, plan.epsilon)
    table = plan.layout.table(released)
    settings = Settings(**plan.settings)
    return FederatedAudit(
        audit=assess(table, settings),
        table=table,
        sites=plan.sites,
        epsilon=plan.epsilon,
    )


def _secure_sum(
    plan: Plan, logs: Path, scratch: Path, transcript: Path | None
) -> np.ndarray[Any, np.dtype[np.int64]]:
    home = scratch / "flower-home"
    write_flower_home(home, plan.port)
    app = write_app(scratch / "app")
    result = scratch / "result.json"
    overrides = scratch / "run-config.toml"
    # JSON strings are TOML basic strings.
    overrides.write_text(
        f"plan = {json.dumps(plan.to_json())}\n"
        f"result = {json.dumps(str(result))}\n"
        f"transcript = {json.dumps(str(transcript.resolve()) if transcript else '')}\n",
        encoding="utf-8",
    )
    superlink = start_superlink(plan.port, scratch / "superlink-home", logs / "superlink.log")
    try:
        submit_run(app, home, overrides, logs / "run.log", timeout=plan.timeout)
    finally:
        stop(superlink)
    if not result.is_file():
        raise EngineError(f"the federated run ended without a result; see the logs in {logs}")
    answer = json.loads(result.read_text(encoding="utf-8"))
    if "counts" not in answer:
        raise EngineError(
            f"only {answer['sites']} of {plan.sites} sites contributed, so no sum is released; "
            f"see each site's output and the logs in {logs}"
        )
    return np.asarray(answer["counts"], dtype=np.int64)


def noisy_counts(
    counts: np.ndarray[Any, np.dtype[np.int64]], epsilon: float
) -> np.ndarray[Any, np.dtype[np.int64]]:
    """Release counts under ``epsilon``-DP with OpenDP's discrete Laplace mechanism.

    One person is one row of one site, so adding or removing a person moves one count by one
    (L1 sensitivity 1). Negative noisy counts become 0 (post-processing costs no privacy).
    """
    import opendp.prelude as dp

    dp.enable_features("contrib")
    space = dp.vector_domain(dp.atom_domain(T=int)), dp.l1_distance(T=int)
    mechanism = space >> dp.m.then_laplace(scale=1.0 / epsilon)
    spent = mechanism.map(d_in=1)
    if spent > epsilon * (1 + 1e-9):
        raise EngineError(f"OpenDP would spend epsilon {spent}, more than the {epsilon} planned")
    noisy = np.asarray(mechanism([int(c) for c in counts]), dtype=np.int64)
    return np.clip(noisy, 0, None)
