"""``ethica audit`` as users run it: whole processes on Parquet files, against a bare DuckDB
process doing the same group-by and a fairlearn MetricFrame script, side by side in one run.

Every case is a fresh process (interpreter start, imports, reading the file, output), timed by
wall clock and by CPU (user + system of the child, from ``resource``); the machine may be shared,
so CPU time is the steadier figure. The minimum of ``--repeat`` runs is printed (the run least
disturbed by other load), or the median with ``--statistic median``.

    .venv/bin/python bench/audit_cli.py                       # 10^6 and 10^7 rows
    .venv/bin/python bench/audit_cli.py --sizes 1e6 --repeat 5 --cache-dir /tmp/ethica-bench
    .venv/bin/python bench/audit_cli.py --no-fairlearn        # skip the slow peer
    .venv/bin/python bench/audit_cli.py --sizes 1e7 --against ../main/.venv/bin/ethica

The ``ethica`` timed is the one next to the Python that runs this script, so another checkout's
``.venv/bin/python bench/audit_cli.py`` measures that checkout (before / after a change).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FEATURES = ("sex", "race", "age")
CATEGORIES = {
    "sex": ["F", "M"],
    "race": ["Asian", "Black", "Hispanic", "Other", "White"],
    "age": ["18-29", "30-44", "45-64", "65+"],
}
SEED = 20240901
PARQUET_VERSION = 2  # bump when generate() changes, so a stale cached file is not reused
#: How the file is laid out, stated in full: the bare DuckDB process's time depends on it
#: (row groups are DuckDB's unit of parallel work; pages and codecs its decoding work), and
#: pyarrow's defaults change between versions.
PARQUET_LAYOUT: dict[str, object] = {
    "row_group_size": 1 << 20,
    "compression": "snappy",
    # The features and 0/1 columns as dictionaries; the score plain (a dictionary of
    # continuous values outgrows its page and falls back to plain part way through a group).
    "use_dictionary": [*FEATURES, "label", "prediction"],
    "write_statistics": True,
    "data_page_size": 1 << 20,
    "data_page_version": "1.0",
    "version": "2.6",
}
BIN = Path(sys.executable).parent
FAIRLEARN_UP_TO = 10**6

DUCKDB_SCRIPT = """
import sys, duckdb
score = sys.argv[2] == "score"
extra = ", floor(score * 1000) AS score_bin" if score else ""
sums = ", sum(score)" if score else ""
rows = duckdb.sql(
    f"SELECT sex, race, age, label, prediction{extra}, count(*){sums} "
    f"FROM read_parquet('{sys.argv[1]}') GROUP BY ALL"
).fetchall()
print(len(rows))
"""

FAIRLEARN_SCRIPT = """
import sys
import pandas as pd
from fairlearn.metrics import (MetricFrame, count, false_positive_rate, selection_rate,
                               true_positive_rate)
from sklearn.metrics import accuracy_score, precision_score, roc_auc_score
score = sys.argv[2] == "score"
frame = pd.read_parquet(sys.argv[1])
metrics = {"count": count, "selection_rate": selection_rate, "tpr": true_positive_rate,
           "fpr": false_positive_rate, "precision": precision_score, "accuracy": accuracy_score}
mf = MetricFrame(metrics=metrics, y_true=frame["label"], y_pred=frame["prediction"],
                 sensitive_features=frame[["sex", "race", "age"]])
print(mf.by_group.to_string(), mf.difference(), mf.ratio())
if score:
    auc = MetricFrame(metrics=roc_auc_score, y_true=frame["label"], y_pred=frame["score"],
                      sensitive_features=frame[["sex", "race", "age"]])
    print(auc.by_group.to_string())
"""


def generate(path: Path, rows: int) -> None:
    """Binary decisions with gaps built in: 40 groups, label, prediction and a score."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(SEED)
    columns: dict[str, object] = {}
    shift = np.zeros(rows)
    for feature, values in CATEGORIES.items():
        codes = rng.integers(0, len(values), rows).astype(np.int8)
        shift += (codes - len(values) / 2) * 0.1
        columns[feature] = pa.DictionaryArray.from_arrays(codes, pa.array(values))
    latent = rng.normal(shift, 1.0)
    label = (latent + rng.normal(0, 1.0, rows) > 0).astype(np.int8)
    score = 1.0 / (1.0 + np.exp(-latent))
    columns["label"] = label
    columns["prediction"] = (score > 0.5).astype(np.int8)
    columns["score"] = score
    # Written to a temporary name first: a run stopped halfway leaves no truncated file behind.
    partial = path.with_suffix(".partial")
    pq.write_table(pa.table(columns), partial, **PARQUET_LAYOUT)
    partial.replace(path)


def timed(command: list[str], repeat: int, statistic: str = "min") -> tuple[float, float]:
    """Wall and CPU seconds (min or median) of ``command`` run ``repeat`` times as a process."""
    runs = [run_once(command) for _ in range(repeat)]
    return pick(runs, statistic)


def run_once(command: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds (user + system of the child) of one run of ``command``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 2):
        raise SystemExit(f"{command} failed:\n{done.stderr.decode()}")
    return wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def pick(runs: list[tuple[float, float]], statistic: str) -> tuple[float, float]:
    """The min or median of the walls and of the CPU times, each on its own."""
    choose = min if statistic == "min" else statistics.median
    return choose(w for w, _ in runs), choose(c for _, c in runs)


def cases(
    path: Path, rows: int, score: bool, *, fairlearn: bool, against: Path | None = None
) -> dict[str, list[str]]:
    """The commands compared for one file, with or without the score."""
    audit = [
        str(BIN / "ethica"),
        "audit",
        str(path),
        "--sensitive",
        ",".join(FEATURES),
        "--label",
        "label",
        "--prediction",
        "prediction",
        *(["--score", "score"] if score else []),
    ]
    which = "score" if score else "-"
    commands = {
        "ethica audit --json": [*audit, "--json"],
        **({f"{against} audit --json": [str(against), *audit[1:], "--json"]} if against else {}),
        "ethica audit (table)": audit,
        "bare DuckDB group-by": [sys.executable, "-c", DUCKDB_SCRIPT, str(path), which],
    }
    if fairlearn and rows <= FAIRLEARN_UP_TO:
        commands["fairlearn MetricFrame"] = [
            sys.executable,
            "-c",
            FAIRLEARN_SCRIPT,
            str(path),
            which,
        ]
    return commands


def main() -> None:
    """Generate (or reuse) the files, run every case, print one table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1e6,1e7", help="Rows of each file, e.g. 1e6,1e7.")
    parser.add_argument("--repeat", type=int, default=3, help="Runs of each case.")
    parser.add_argument(
        "--statistic",
        choices=("min", "median"),
        default="min",
        help="Which run of each case is reported (CPU and wall separately).",
    )
    parser.add_argument(
        "--no-fairlearn",
        dest="fairlearn",
        action="store_false",
        help="Leave out fairlearn's MetricFrame (minutes per run at 10^6 rows).",
    )
    parser.add_argument(
        "--against",
        type=Path,
        help="Another checkout's ethica executable (e.g. ../main/.venv/bin/ethica), run beside.",
    )
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=Path(tempfile.gettempdir()) / "ethica-bench",
        help="Where the generated Parquet files are kept between runs.",
    )
    args = parser.parse_args()
    args.cache_dir.mkdir(parents=True, exist_ok=True)
    load_at_start = " ".join(f"{x:.1f}" for x in os.getloadavg())
    results: list[tuple[str, str, str, float, float]] = []
    wall, cpu = timed([str(BIN / "ethica"), "--help"], args.repeat, args.statistic)
    results.append(("-", "-", "ethica --help", wall, cpu))
    wall, cpu = timed(
        [str(BIN / "ethica"), "audit", "x.parquet", "--kind", "x"], args.repeat, args.statistic
    )
    results.append(("-", "-", "ethica audit (bad argument)", wall, cpu))
    for size in (int(float(s)) for s in args.sizes.split(",")):
        path = args.cache_dir / f"audit-cli-v{PARQUET_VERSION}-{size}.parquet"
        if not path.exists():
            print(f"generating {path} ...", file=sys.stderr)
            generate(path, size)
        for score in (False, True):
            commands = cases(path, size, score, fairlearn=args.fairlearn, against=args.against)
            # Round after round, every case once: a change of load on the shared machine
            # then falls on every case alike, and the ratios stay comparable. Each round
            # starts one case later, so that no case is always the first after a pause
            # (or after the long fairlearn run).
            runs: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
            names = list(commands)
            for turn in range(args.repeat):
                start = turn % len(names)
                for name in names[start:] + names[:start]:
                    runs[name].append(run_once(commands[name]))
            for name in commands:
                wall, cpu = pick(runs[name], args.statistic)
                results.append((f"{size:.0e}", "yes" if score else "no", name, wall, cpu))
                print(
                    f"{size:.0e} score={score} {name}: {wall:.2f} s, CPU {cpu:.2f} s",
                    file=sys.stderr,
                )
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"\n{args.statistic} of {args.repeat} whole-process runs of {BIN / 'ethica'}, "
        f"interleaved (CPU = user + system of the child); load average at the start "
        f"{load_at_start}, at the end {load} "
        f"on {os.cpu_count()} cores\n"
    )
    print("| rows | score | case | wall s | CPU s | wall / DuckDB | CPU / DuckDB |")
    print("|---|---|---|---:|---:|---:|---:|")
    bare = {(r[0], r[1]): (r[3], r[4]) for r in results if r[2] == "bare DuckDB group-by"}
    for rows, score, name, wall, cpu in results:
        base = bare.get((rows, score))
        relative = f"{wall / base[0]:.1f}× | {cpu / base[1]:.1f}×" if base else " | "
        print(f"| {rows} | {score} | {name} | {wall:.2f} | {cpu:.2f} | {relative} |")


if __name__ == "__main__":
    main()
