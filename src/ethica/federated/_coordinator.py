"""The coordinator of a federated audit: a SuperLink on loopback, one run, the audit of the sum."""

from __future__ import annotations

import json
import subprocess
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
    with SuperLinkSession(plan, logs=logs) as session:
        return session.audit(plan, transcript=transcript)


class SuperLinkSession:
    """A SuperLink on loopback for the plan's sites, running ethica's Flower apps one by one.

    One SuperLink serves every run of a session: a SuperNode whose SuperLink restarts loses its
    registration and stops, so training and the audit of the trained model share one.
    """

    def __init__(self, plan: Plan, *, logs: Path | None = None) -> None:
        self.plan = plan
        self._scratch = tempfile.TemporaryDirectory(prefix="ethica-federated-")
        self.folder = Path(self._scratch.name)
        self.logs = logs or self.folder
        self._superlink: subprocess.Popen[bytes] | None = None
        self._runs = 0

    def __enter__(self) -> SuperLinkSession:
        self.logs.mkdir(parents=True, exist_ok=True)
        write_flower_home(self.folder / "flower-home", self.plan.port)
        try:
            self._superlink = start_superlink(
                self.plan.port,
                self.folder / "superlink-home",
                self.logs / "superlink.log",
                timeout=self.plan.timeout,
            )
        except BaseException:
            self._scratch.cleanup()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        if self._superlink is not None:
            stop(self._superlink, group=True)
        self._scratch.cleanup()

    def run(self, app: str, plan: Plan, *, transcript: Path | None = None) -> dict[str, Any]:
        """Run one of ethica's Flower apps with ``plan``; return the app's result."""
        self._runs += 1
        name = f"{app}-{self._runs}"
        folder = write_app(self.folder / f"app-{name}", app)
        result = self.folder / f"result-{name}.json"
        overrides = self.folder / f"run-config-{name}.toml"
        # JSON strings are TOML basic strings.
        overrides.write_text(
            f"plan = {json.dumps(plan.to_json())}\n"
            f"result = {json.dumps(str(result))}\n"
            f"transcript = {json.dumps(str(transcript.resolve()) if transcript else '')}\n",
            encoding="utf-8",
        )
        home = self.folder / "flower-home"
        submit_run(folder, home, overrides, self.logs / f"run-{app}.log", timeout=plan.timeout)
        if not result.is_file():
            raise EngineError(f"the federated run ended without a result; see {self.logs}")
        answer: dict[str, Any] = json.loads(result.read_text(encoding="utf-8"))
        return answer

    def audit(self, plan: Plan, *, transcript: Path | None = None) -> FederatedAudit:
        """Sum the sites' counts with SecAgg+ and audit the (optionally noisy) sum."""
        answer = self.run("audit", plan, transcript=transcript)
        if "counts" not in answer:
            raise EngineError(
                f"only {answer['sites']} of {plan.sites} sites contributed, so no sum is "
                f"released; see each site's output and the coordinator's logs in {self.logs}"
            )
        counts = np.asarray(answer["counts"], dtype=np.int64)
        released = counts if plan.epsilon is None else noisy_counts(counts, plan.epsilon)
        table = plan.layout.table(released)
        return FederatedAudit(
            audit=assess(table, Settings(**plan.settings)),
            table=table,
            sites=plan.sites,
            epsilon=plan.epsilon,
        )


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
