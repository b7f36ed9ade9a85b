"""Mitigation speed and memory: ethica against fairlearn and AIF360, side by side in one run.

Each case runs in a fresh Python process (this script re-invoked with ``--worker``): it builds its
data as numpy arrays, notes its resident memory and resets the peak (building the data peaks
higher than it rests), runs, and reports wall time, CPU time, the peak resident memory above that
baseline and the process's whole peak during the case (data included). Imports load, and each
side runs once on 1,000 rows (lazy set-ups: numba loading its compiled code), before.
The machine may be shared: CPU time is the steadier figure. It is the CPU of every thread of
the process (``time.process_time``); children's CPU, voluntary waits and preemptions are shown
too, so a wall time far above CPU reads as preemption (a busy machine), not hidden work. Each side
gets the same numpy arrays (fairlearn no data frame) and its best of ``--repeat`` runs counts
(the median and the first run are shown beside it).
The thresholds cases also check that ethica's rules equal fairlearn's; the row "expected rates
read" is ours with the policy's expected rates per group read as well (a policy computes them
when they are first read; fairlearn's fit has no such table). The "floor" row is the
least any count of the rows must do: one ``np.bincount`` over ready cell codes and one pass over
the scores; fairlearn's CPU over it bounds the speed-up of any numpy implementation. The last
case reads a Parquet file of ``--parquet-rows`` rows (written once, in chunks, under
``--parquet-dir``) through DuckDB: only the file holds the rows.

    .venv/bin/python bench/mitigation_vs_peers.py   # 10^6 thresholds, 10^7 reweighing, 10^8 Parquet
    .venv/bin/python bench/mitigation_vs_peers.py --threshold-rows 1e5 --reweigh-rows 1e6 \
        --parquet-rows 1e6
    .venv/bin/python bench/mitigation_vs_peers.py --only thresholds --repeat 9  # that pair alone
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

GROUPS = np.array(["a", "b", "c", "d"])
CRITERION: Final = "equalized_odds"


def decisions(rows: int, seed: int = 0) -> dict[str, npt.NDArray[Any]]:
    """Four groups with different base rates; scores rounded to 3 decimals (exact bins)."""
    rng = np.random.default_rng(seed)
    group = rng.integers(0, len(GROUPS), rows)
    shift = np.array([0.0, -0.5, 0.3, 0.6])[group]
    label = (rng.random(rows) < 1 / (1 + np.exp(-shift))).astype(np.int64)
    score = np.round(1 / (1 + np.exp(-(2 * label - 1 + shift + rng.normal(0, 1.2, rows)))), 3)
    return {"group": GROUPS[group], "y": label, "score": score, "pred": (score > 0.5).astype(int)}


def ours_thresholds(data: dict[str, npt.NDArray[Any]]) -> dict[str, Any]:
    policy = _ours_policy(data)
    return {name: list(rule.__dict__.values())[1:6] for name, rule in policy.rules.items()}


def ours_thresholds_read(data: dict[str, npt.NDArray[Any]]) -> dict[str, Any]:
    """Ours, and the policy's expected rates read too (a policy computes them when first read)."""
    return {"expected rows": len(_ours_policy(data).expected)}


def _ours_policy(data: dict[str, npt.NDArray[Any]]) -> Any:
    from ethica.mitigation import count_arrays, group_thresholds

    table = count_arrays(
        sensitive_features=data["group"],
        label=data["y"],
        prediction=data["pred"],
        score=data["score"],
    )
    return group_thresholds(table, criterion=CRITERION)


def floor_thresholds(data: dict[str, npt.NDArray[Any]]) -> dict[str, Any]:
    """One count of ready cell codes (made outside the timing) and one pass over the scores."""
    counted = np.bincount(data["cell"], minlength=1 << 14)
    return {"cells": int(np.count_nonzero(counted)), "low": float(data["score"].min())}


def ours_parquet(path: str) -> dict[str, Any]:
    from ethica.fairness import count_table
    from ethica.mitigation import group_thresholds

    table = count_table(
        path,
        sensitive_features=["group"],
        label="y",
        prediction="pred",
        score="score",
        engine="duckdb",
    )
    policy = group_thresholds(table, criterion=CRITERION)
    return {name: list(rule.__dict__.values())[1:6] for name, rule in policy.rules.items()}


def parquet_file(rows: int, folder: Path, chunk: int = 1_000_000) -> Path:
    """Write ``rows`` decisions to a Parquet file chunk by chunk (once; reused after)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = folder / f"decisions_{rows}.parquet"
    if path.exists():
        return path
    folder.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    schema = pa.schema(
        [("group", pa.string()), ("y", pa.int8()), ("score", pa.float64()), ("pred", pa.int8())]
    )
    with pq.ParquetWriter(partial, schema) as writer:
        for index, start in enumerate(range(0, rows, chunk)):
            part = decisions(min(chunk, rows - start), seed=index)
            writer.write_table(pa.table(part, schema=schema))
    partial.rename(path)
    return path


def fairlearn_thresholds(data: dict[str, npt.NDArray[Any]]) -> dict[str, Any]:
    """fairlearn from the very arrays ours counts: no data frame built for it in the timing."""
    from fairlearn.postprocessing import ThresholdOptimizer

    fairlearn_peer = _fairlearn_peer()
    optimizer = ThresholdOptimizer(
        estimator=fairlearn_peer.GivenScore().fit(None),
        constraints=fairlearn_peer.CONSTRAINTS[CRITERION],
        prefit=True,
        predict_method="predict",
    )
    optimizer.fit(data["score"].reshape(-1, 1), data["y"], sensitive_features=data["group"])
    return {g: list(r) for g, r in fairlearn_peer.fairlearn_rules(optimizer).items()}


def _fairlearn_peer() -> Any:
    # The test suite's fairlearn runner: the bench and the equality tests fit fairlearn alike.
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "mitigation"))
    import fairlearn_peer  # type: ignore[import-not-found]

    return fairlearn_peer


def ours_reweigh(data: dict[str, npt.NDArray[Any]]) -> dict[str, Any]:
    from ethica.mitigation import count_arrays, reweighing

    table = count_arrays(sensitive_features=data["group"], label=data["y"], prediction=data["pred"])
    weighed = reweighing(table)
    columns = [weighed.sensitive_features[0], "label", "weight"]
    return {f"{g}/{y}": w for g, y, w in weighed.weights[columns].itertuples(index=False)}


def aif360_reweigh(data: dict[str, npt.NDArray[Any]]) -> dict[str, Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from aif360.algorithms.preprocessing import Reweighing
        from aif360.datasets import BinaryLabelDataset

    privileged = (data["group"] == "a").astype(float)
    frame = pd.DataFrame({"group": privileged, "y": data["y"].astype(float)})
    dataset = BinaryLabelDataset(
        df=frame,
        label_names=["y"],
        protected_attribute_names=["group"],
        favorable_label=1.0,
        unfavorable_label=0.0,
    )
    out = Reweighing([{"group": 0.0}], [{"group": 1.0}]).fit_transform(dataset)
    return {"distinct weights": len(np.unique(out.instance_weights))}


CASES: dict[str, Callable[[dict[str, npt.NDArray[Any]]], dict[str, Any]]] = {
    "floor: one bincount, one pass over the scores": floor_thresholds,
    "ours thresholds": ours_thresholds,
    "ours thresholds, expected rates read": ours_thresholds_read,
    "fairlearn ThresholdOptimizer": fairlearn_thresholds,
    "ours reweighing": ours_reweigh,
    "AIF360 Reweighing": aif360_reweigh,
}


def _rss_kib() -> int:
    with open("/proc/self/statm", encoding="ascii") as statm:
        pages = int(statm.read().split()[1])
    return pages * resource.getpagesize() // 1024


def _reset_peak() -> None:
    """Reset this process's peak resident memory to its current one (Linux, clear_refs 5)."""
    with open("/proc/self/clear_refs", "w", encoding="ascii") as refs:
        refs.write("5")


def _peak_kib() -> int:
    """Peak resident memory since the last reset (VmHWM), in KiB."""
    with open("/proc/self/status", encoding="ascii") as status:
        line = next(line for line in status if line.startswith("VmHWM:"))
    return int(line.split()[1])


def worker(case: str, rows: int, parquet: str | None, repeat: int) -> None:
    """Run one case in this process and print its measures as JSON."""
    data = decisions(rows) if parquet is None else None
    if data is not None and case.startswith("floor"):
        codes = np.unique(data["group"], return_inverse=True)[1] * 4 + data["y"] * 2 + data["pred"]
        data["cell"] = codes * 1001 + np.rint(data["score"] * 1000).astype(np.int64)
    # Imports are no case's cost: each side's modules (and pandas' pyarrow) are loaded first.
    import pyarrow  # noqa: F401

    if case.startswith("ours"):
        import ethica.engines._duckdb  # noqa: F401
        import ethica.fairness._audit  # noqa: F401
        import ethica.mitigation._count_arrays  # noqa: F401

        with contextlib.suppress(ImportError):  # numba (models, demo extras): compiled kernels
            import ethica.mitigation._compiled  # noqa: F401
        import ethica.mitigation._reweighing  # noqa: F401
        import ethica.mitigation._thresholds  # noqa: F401
        import ethica.mitigation._tradeoff_curves  # noqa: F401
    elif case.startswith("fairlearn"):
        _fairlearn_peer()
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import aif360.algorithms.preprocessing  # noqa: F401
            import aif360.datasets  # noqa: F401
    # Each side runs once on 1,000 rows first: its lazy set-ups (numba loading its compiled
    # code, about 0.6 s of CPU once per process; scikit-learn's first checks) are no case's
    # cost either. The first full-size run is still reported ("first").
    if not case.startswith("floor"):
        CASES["ours thresholds" if parquet is not None else case](decisions(1_000, seed=1))
    baseline = _rss_kib()
    _reset_peak()  # building the data peaked higher than it rests: that peak is not the case's
    runs = []
    for _ in range(repeat):  # each side's best of ``repeat`` runs: the first pays lazy set-ups
        before = (
            resource.getrusage(resource.RUSAGE_SELF),
            resource.getrusage(resource.RUSAGE_CHILDREN),
        )
        wall, cpu = time.perf_counter(), time.process_time()
        result = ours_parquet(parquet) if parquet is not None else CASES[case](data or {})
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        after = (
            resource.getrusage(resource.RUSAGE_SELF),
            resource.getrusage(resource.RUSAGE_CHILDREN),
        )
        runs.append(
            {
                "wall": wall,
                # CPU of every thread of this process (process_time); children's CPU apart.
                "cpu": cpu,
                "children_cpu": _cpu(after[1]) - _cpu(before[1]),
                "waits": after[0].ru_nvcsw - before[0].ru_nvcsw,
                "preemptions": after[0].ru_nivcsw - before[0].ru_nivcsw,
            }
        )
    peak = _peak_kib()
    cpus = sorted(r["cpu"] for r in runs)
    json.dump(
        {
            **min(runs, key=lambda r: r["cpu"]),
            "cpu_median": cpus[len(cpus) // 2],
            "cpu_first": runs[0]["cpu"],
            "threads": len(os.listdir("/proc/self/task")),
            "peak_mib": max(peak - baseline, 0) / 1024,
            "whole_peak_mib": peak / 1024,
            "result": result,
        },
        sys.stdout,
    )


def _cpu(usage: resource.struct_rusage) -> float:
    return usage.ru_utime + usage.ru_stime


def run(case: str, rows: int, parquet: Path | None = None, repeat: int = 1) -> dict[str, Any]:
    where = [] if parquet is None else ["--parquet", str(parquet)]
    where += ["--repeat", str(repeat)]
    done = subprocess.run(
        [sys.executable, __file__, "--worker", case, "--rows", str(rows), *where],
        capture_output=True,
        text=True,
        check=True,
    )
    measured: dict[str, Any] = json.loads(done.stdout)
    return measured


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threshold-rows", type=float, default=1e6)
    parser.add_argument("--reweigh-rows", type=float, default=1e7)
    parser.add_argument("--parquet-rows", type=float, default=1e8)
    parser.add_argument("--parquet-dir", type=Path, default=Path("/tmp/mitigate_bench"))
    parser.add_argument("--worker")
    parser.add_argument("--rows", type=int)
    parser.add_argument("--parquet")
    parser.add_argument("--repeat", type=int, default=3, help="runs per case; the best counts")
    parser.add_argument(
        "--only",
        choices=["thresholds", "reweighing"],
        help="run only this pair (and, for thresholds, the floor): no Parquet case",
    )
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.rows, args.parquet, args.repeat)
        return
    pairs = [
        ("ours thresholds", "fairlearn ThresholdOptimizer", int(args.threshold_rows)),
        ("ours reweighing", "AIF360 Reweighing", int(args.reweigh_rows)),
    ]
    pairs = [p for p in pairs if args.only is None or args.only in p[0]]
    lines = [
        "| case | rows | wall s | CPU s best / median / first | children CPU s | threads "
        "| waits / preempted "
        "| peak MiB above data | whole peak MiB | CPU speed-up best / median | memory ratio "
        "| same result |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    runs = []  # the peers' measures
    for ours, peer, rows in pairs:
        mine, theirs = run(ours, rows, repeat=args.repeat), run(peer, rows, repeat=args.repeat)
        runs.append(theirs)
        same = (
            _same(mine["result"], theirs["result"])
            if "thresholds" in ours
            else "n/a (tests: 1e-12)"
        )
        for name, m in ((ours, mine), (peer, theirs)):
            # Best over best, and median over median.
            speed = (
                f"{theirs['cpu'] / mine['cpu']:.0f}x / "
                f"{theirs['cpu_median'] / mine['cpu_median']:.0f}x"
                if name == ours
                else "1x"
            )
            memory = (
                mine["peak_mib"] / theirs["peak_mib"]
                if name == ours and theirs["peak_mib"]
                else 1.0
            )
            lines.append(
                f"| {name} | {rows:,} | {m['wall']:.3f} | {_cpu_runs(m)} | {_usage(m)} "
                f"| {m['peak_mib']:.0f} "
                f"| {m['whole_peak_mib']:.0f} | {speed} | {memory:.3f} "
                f"| {same if name == ours else ''} |"
            )
    rows = int(args.threshold_rows)
    if args.only != "reweighing":
        read, peer = run("ours thresholds, expected rates read", rows, repeat=args.repeat), runs[0]
        lines.append(
            f"| ours thresholds, expected rates read | {rows:,} | {read['wall']:.3f} "
            f"| {_cpu_runs(read)} | {_usage(read)} | {read['peak_mib']:.0f} "
            f"| {read['whole_peak_mib']:.0f} | {peer['cpu'] / read['cpu']:.0f}x / "
            f"{peer['cpu_median'] / read['cpu_median']:.0f}x | | |"
        )
        floor = run(next(iter(CASES)), rows, repeat=args.repeat)
        lines.append(
            f"| {next(iter(CASES))} | {rows:,} | {floor['wall']:.3f} | {_cpu_runs(floor)} "
            f"| {_usage(floor)} | {floor['peak_mib']:.0f} | {floor['whole_peak_mib']:.0f} "
            f"| {peer['cpu'] / floor['cpu']:.0f}x | | |"
        )
    big = 0 if args.only else int(args.parquet_rows)
    if big:
        path = parquet_file(big, args.parquet_dir)
        m = run("ours thresholds from Parquet (DuckDB)", big, path)
        lines.append(
            f"| ours thresholds from Parquet (DuckDB) | {big:,} | {m['wall']:.1f} "
            f"| {_cpu_runs(m)} | {_usage(m)} | {m['peak_mib']:.0f} "
            f"| {m['whole_peak_mib']:.0f} | | | |"
        )
    print("\n".join(lines))
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"\nLoad average (1, 5, 15 min) after the run: {load} on {os.cpu_count()} cores.")
    print("\nWall and CPU time of one run on a shared machine; CPU time is the steadier figure.")


def _cpu_runs(m: dict[str, Any]) -> str:
    """CPU seconds of the best run, the median run and the first (which pays lazy set-ups)."""
    return f"{m['cpu']:.4f} / {m['cpu_median']:.4f} / {m['cpu_first']:.4f}"


def _usage(m: dict[str, Any]) -> str:
    """Children's CPU, threads, and how often the process waited or was preempted."""
    return f"{m['children_cpu']:.3f} | {m['threads']} | {m['waits']} / {m['preemptions']}"


def _same(ours: dict[str, list[float]], theirs: dict[str, list[float]]) -> str:
    if set(ours) != set(theirs):
        return "different groups"
    worst = max(
        0.0 if a == b else abs(a - b) for g in ours for a, b in zip(ours[g], theirs[g], strict=True)
    )
    return f"yes (max diff {worst:.1e})" if worst <= 1e-9 else f"NO (max diff {worst:.1e})"


if __name__ == "__main__":
    main()
