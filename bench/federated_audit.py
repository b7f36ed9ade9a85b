"""A federated audit of 3 sites against the central audit of the same rows, side by side.

- central: one DuckDB pass over the pooled Parquet file, then the audit of its count table;
- one site's count: the same pass over one site's file, laid out for SecAgg+ (what a site does);
- federated: three ``ethica federated site`` processes and the coordinator (a SuperLink, Flower's
  SecAgg+ over four rounds of messages, the audit of the sum), from start to answer.

Both audits must be equal; the script checks it. CPU time of this process and of its waited-for
children (the sites, the SuperLink, Flower's processes) is reported beside wall time: the
machine may be shared, and the load average is printed with the table.

    .venv/bin/python bench/federated_audit.py               # 3 sites x 10^6 rows
    .venv/bin/python bench/federated_audit.py --rows 1e5
    .venv/bin/python bench/federated_audit.py --score     # with a score: 20 bins and sums

Needs Flower (``make peer-venvs`` makes ``.venv-peers/flower``).
"""

from __future__ import annotations

import argparse
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SENSITIVE = ["sex", "age_band", "region"]
PLAN = """\
sites = 3
superlink = "127.0.0.1:{port}"
timeout = 1800

[audit]
sensitive = ["sex", "age_band", "region"]
prediction = "approved"
label = "repaid"

[groups]
sex = ["Female", "Male"]
age_band = ["<25", "25-44", "45-64", "65+"]
region = ["north", "south", "east", "west"]
"""


SCORED = """
score = "score"
score_bins = 20
score_range = [0.0, 1.0]
"""


def site_log(rows: int, seed: int) -> pd.DataFrame:
    """One site's decisions: its own group mix, approval rates and scores."""
    rng = np.random.default_rng(seed)
    sex = rng.choice(["Female", "Male"], rows)
    band = rng.choice(["<25", "25-44", "45-64", "65+"], rows, p=[0.15, 0.4, 0.3, 0.15])
    region = rng.choice(["north", "south", "east", "west"], rows)
    repaid = rng.integers(0, 2, rows)
    approved = (rng.random(rows) < 0.4 + 0.05 * seed + 0.1 * (sex == "Male")).astype(int)
    score = np.clip(0.35 + 0.3 * repaid + rng.normal(0, 0.2, rows), 0.0, 1.0)
    return pd.DataFrame(
        {
            "sex": sex,
            "age_band": band,
            "region": region,
            "repaid": repaid,
            "approved": approved,
            "score": score,
        }
    )


def measured(run: Callable[[], Any]) -> tuple[Any, float, float, float]:
    """Run once: the result, wall seconds, CPU seconds here, CPU seconds of waited children."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu, wall = time.process_time(), time.perf_counter()
    result = run()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    children = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return result, wall, cpu, children


def flower_bin() -> Path:
    """Flower's commands: the peer venv unless ETHICA__FEDERATED__FLOWER_BIN says otherwise."""
    from ethica.federated._deployment import FLOWER_BIN_VARIABLE

    folder = Path(os.environ.get(FLOWER_BIN_VARIABLE, ROOT / ".venv-peers/flower/bin"))
    if not (folder / "flower-superlink").exists():
        sys.exit(f"Flower is missing at {folder}: run `make peer-venvs` first")
    os.environ[FLOWER_BIN_VARIABLE] = str(folder)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=float, default=1e6, help="rows per site")
    parser.add_argument(
        "--score", action="store_true", help="also count a score (20 bins, their sums)"
    )
    args = parser.parse_args()
    rows = int(args.rows)
    flower_bin()
    from ethica.fairness import ScoreBins, Settings, assess, audit, count_table
    from ethica.federated import federated_audit, read_plan, site_counts
    from ethica.federated._deployment import free_port

    with tempfile.TemporaryDirectory(prefix="ethica-bench-federated-") as scratch:
        folder = Path(scratch)
        logs = [site_log(rows, seed) for seed in range(3)]
        for index, log in enumerate(logs):
            log.to_parquet(folder / f"site{index}.parquet", index=False)
        pd.concat(logs, ignore_index=True).to_parquet(folder / "pooled.parquet", index=False)
        del logs
        plan_path = folder / "sites.toml"
        text = PLAN.replace("[groups]", SCORED.lstrip() + "\n[groups]") if args.score else PLAN
        plan_path.write_text(text.format(port=free_port()), encoding="utf-8")
        plan = read_plan(plan_path)
        columns: dict[str, Any] = {
            "sensitive_features": SENSITIVE,
            "label": "repaid",
            "prediction": "approved",
        }
        if args.score:
            columns |= {"score": "score", "score_bins": ScoreBins("equal_width", 0.0, 1.0, 20)}

        central, c_wall, c_cpu, c_children = measured(
            lambda: audit(folder / "pooled.parquet", engine="duckdb", **columns)
        )
        _, s_wall, s_cpu, _ = measured(lambda: site_counts(plan, folder / "site0.parquet"))
        # Warm DuckDB and the engines in the sites too: every process pays its imports.
        count_table(folder / "site1.parquet", engine="duckdb", **columns)

        def federated() -> Any:
            sites = []
            for index in range(3):
                command = [
                    str(Path(sys.executable).parent / "ethica"),
                    "federated",
                    "site",
                    "--data",
                    str(folder / f"site{index}.parquet"),
                    "--superlink",
                    plan.superlink,
                ]
                env = {**os.environ, "FLWR_HOME": str(folder / f"home{index}")}
                sites.append(
                    subprocess.Popen(
                        command,
                        env=env,
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                        start_new_session=True,
                    )
                )
            try:
                return federated_audit(plan_path)
            finally:
                for site in sites:
                    os.killpg(site.pid, signal.SIGTERM)
                for site in sites:
                    site.wait()

        result, f_wall, f_cpu, f_children = measured(federated)
        again_audit = assess(result.table, Settings())
        if args.score:
            same = _same(result.audit.comparisons, central.comparisons)
            again = _same(again_audit.comparisons, central.comparisons)
        else:
            same = result.audit.to_dict() == central.to_dict()
            again = again_audit.to_dict() == central.to_dict()

    load = os.getloadavg()
    lines = [
        f"Federated vs central fairness audit: 3 sites x {rows:,} rows "
        f"({3 * rows:,} decisions; 3 sensitive features, 32 groups, label and decision"
        + (", score in 20 bins)" if args.score else ")"),
        "",
        f"{'run':<44} {'wall s':>8} {'CPU s':>8} {'children CPU s':>15}",
        f"{'central: DuckDB pass over pooled rows + audit':<44} {c_wall:>8.2f} {c_cpu:>8.2f} "
        f"{c_children:>15.2f}",
        f"{'one site: its count + SecAgg+ layout':<44} {s_wall:>8.2f} {s_cpu:>8.2f} {'':>15}",
        f"{'federated: 3 site processes + SecAgg+ + audit':<44} {f_wall:>8.2f} {f_cpu:>8.2f} "
        f"{f_children:>15.2f}",
        "",
        f"federated audit equals the central one: {same and again}"
        + (" (mean scores within 1e-9, every count-based figure exact)" if args.score else ""),
        f"load average (1, 5, 15 min): {load[0]:.1f}, {load[1]:.1f}, {load[2]:.1f} on "
        f"{os.cpu_count()} cores",
        "Flower starts a process per protocol message (4 per site); on a loaded machine that, not",
        "the counting, dominates the federated wall time.",
    ]
    print("\n".join(lines))


def _same(ours: pd.DataFrame, theirs: pd.DataFrame) -> bool:
    """Every figure equal; mean scores (sums carried in 2**-32 units) within 1e-9."""
    if ours.shape != theirs.shape or list(ours.columns) != list(theirs.columns):
        return False
    means = (ours["metric"] == "mean_score").to_numpy()
    exact = ours[~means].reset_index(drop=True).equals(theirs[~means].reset_index(drop=True))
    numbers = ours.loc[means].select_dtypes("number").to_numpy(dtype=float)
    close = np.allclose(
        numbers,
        theirs.loc[means].select_dtypes("number").to_numpy(dtype=float),
        rtol=0,
        atol=1e-9,
        equal_nan=True,
    )
    return bool(exact and close)


if __name__ == "__main__":
    main()
