"""Monitoring speed: drift vs Evidently's DataDriftPreset; windows from Parquet and PostgreSQL.

Run: ``.venv/bin/python bench/monitoring_vs_peers.py`` (the issue's sizes: drift on 10^6 rows x
50 columns; windows of 10^6 decisions x 20 features x 90 days) or with ``--rows``, ``--columns``,
``--decisions 10000000`` (the issue's 10^7), ``--postgresql URL`` (default
``ETHICA_TEST_POSTGRESQL_URL``; ``--postgresql ''`` skips it), ``--only drift|duckdb|postgresql``
(repeatable: run just those cases; each windows case also times one new day and the report).
Evidently runs in its own venv (``--evidently-python``, default .venv-peers/evidently, made by
``make peer-venvs``); both read the same Parquet files, and the table shows whether the drift
values agree. The machine may be shared: CPU time (process_time, which excludes waiting) is
printed beside wall time, with the load average. PostgreSQL aggregates in its own processes,
so its rows' CPU column is only ours (sending the query, reading the counts); the note gives the
server's CPU, from the postmaster's children's time (an upper bound: other clients' backends that
end meanwhile count too). ``--postgresql`` makes its own database, monitor_bench, and drops it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import pandas as pd

from ethica.fairness import ScoreBins
from ethica.monitoring import Distribution, drift_all
from ethica.monitoring._report import monitoring_report
from ethica.monitoring._windows import FeatureBins, WindowPlan, build_windows

EVIDENTLY_SCRIPT = """
import json, sys, time
import pandas as pd
from evidently import Report
from evidently.presets import DataDriftPreset
reference, current = pd.read_parquet(sys.argv[1]), pd.read_parquet(sys.argv[2])
wall, cpu = time.perf_counter(), time.process_time()
snapshot = Report([DataDriftPreset()]).run(current_data=current, reference_data=reference)
values = {m["config"]["column"]: m["value"] for m in snapshot.dict()["metrics"]
          if m["config"].get("type", "").endswith("ValueDrift")}
print(json.dumps({"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu,
                  "values": values}))
"""


def _frames(rows: int, columns: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    reference, current = {}, {}
    for i in range(columns):
        if i % 5 == 4:
            labels = np.array(["a", "b", "c", "d"])
            reference[f"c{i}"] = rng.choice(labels, rows)
            current[f"c{i}"] = rng.choice(labels, rows, p=[0.4, 0.2, 0.2, 0.2])
        else:
            reference[f"x{i}"] = np.round(rng.normal(size=rows), 3)
            current[f"x{i}"] = np.round(rng.normal(0.05 * (i % 3), size=rows), 3)
    return pd.DataFrame(reference), pd.DataFrame(current)


def _ours(reference: pd.DataFrame, current: pd.DataFrame) -> tuple[float, float, dict[str, float]]:
    wall, cpu = time.perf_counter(), time.process_time()
    results = drift_all(
        {name: Distribution.of(reference[name]) for name in reference.columns},
        {name: Distribution.of(current[name]) for name in current.columns},
    )
    scores = {result.feature: result.score for result in results}
    return time.perf_counter() - wall, time.process_time() - cpu, scores


def _evidently(python: Path, reference: Path, current: Path) -> dict[str, Any] | None:
    if not python.exists():
        return None
    done = subprocess.run(
        [str(python), "-c", EVIDENTLY_SCRIPT, str(reference), str(current)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        print("Evidently failed:", done.stderr[-400:])
        return None
    answer: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return answer


def _decisions(rows: int, features: int, days: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    score = rng.uniform(size=rows)
    frame = {
        # A decision log is written in time order.
        "at": pd.to_datetime(start)
        + pd.to_timedelta(np.sort(rng.integers(0, days * 86_400, rows)), "s"),
        "sex": rng.choice(["f", "m"], rows),
        "age_band": rng.choice(["18-30", "31-50", "51+"], rows),
        "approved": (score > 0.5).astype(np.int8),
        "score": score,
    }
    for i in range(features):
        frame[f"f{i}"] = rng.normal(size=rows).astype(np.float32)
    return pd.DataFrame(frame)


#: What the benchmark can time, each on its own with ``--only``.
CASES = ("drift", "duckdb", "postgresql")

#: The benchmark's own database on the PostgreSQL server (made, then dropped, by each run).
DATABASE = "monitor_bench"


def _to_postgresql(url: str, parquet: Path, folder: Path) -> str:
    """Make the benchmark's database, COPY the log into it (not timed); return its URL.

    DuckDB writes the Parquet log as CSV (in parallel), which is streamed into ``COPY``; the
    table gets an index on its time column, as a decision log has.
    """
    import duckdb
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {DATABASE}")
        connection.execute(f"CREATE DATABASE {DATABASE}")
    own = urlsplit(url)._replace(path=f"/{DATABASE}").geturl()
    text = folder / "decisions.csv"
    with duckdb.connect() as connection:
        connection.execute("SET enable_progress_bar = false")
        connection.execute(
            f"COPY (SELECT * FROM read_parquet('{parquet}')) TO '{text}' (HEADER false)"
        )
        described = connection.execute(f"DESCRIBE SELECT * FROM read_parquet('{parquet}')")
        kinds = {str(row[0]): str(row[1]) for row in described.fetchall()}
    names = {"TIMESTAMP WITH TIME ZONE": "TIMESTAMPTZ", "VARCHAR": "TEXT", "FLOAT": "REAL"}
    types = {"TINYINT": "SMALLINT", "DOUBLE": "DOUBLE PRECISION", **names}
    columns = ", ".join(f'"{name}" {types.get(kind, kind)}' for name, kind in kinds.items())
    with psycopg.connect(own) as connection, connection.cursor() as cursor:
        cursor.execute(f"CREATE UNLOGGED TABLE decisions ({columns})")
        with (
            cursor.copy("COPY decisions FROM STDIN WITH (FORMAT csv)") as copy,
            text.open("rb") as rows,
        ):
            while chunk := rows.read(1 << 23):
                copy.write(chunk)
        # As the service's log has (ix_decisions_system_created): one day is found by its time.
        cursor.execute('CREATE INDEX decisions_at ON decisions ("at")')
        cursor.execute("ANALYZE decisions")
    text.unlink()
    return own


def _drop_postgresql(url: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {DATABASE}")


def _windows_cases(
    source: Any, plan: WindowPlan, engine: Any, where: str, size: str, days: int
) -> list[tuple[str, str, str, float, float, str]]:
    lines = []
    server = _server_cpu() if where == "PostgreSQL" else None
    wall, cpu, windows = _timed(lambda: build_windows(source, plan, engine=engine))
    lines.append((f"all windows ({where})", size, "ethica", wall, cpu, _server_note(server)))
    last = max(windows)
    server = _server_cpu() if where == "PostgreSQL" else None
    wall, cpu, _ = _timed(
        lambda: build_windows(
            source, plan, since=last, until=last + timedelta(days=1), engine=engine
        )
    )
    lines.append(
        (f"one new day's window ({where})", size, "ethica", wall, cpu, _server_note(server))
    )
    wall, cpu, _ = _timed(
        lambda: monitoring_report(
            "bench", windows, sensitive_features=["sex", "age_band"], rules=[]
        )
    )
    lines.append((f"report over {days} days", "from stored windows", "ethica", wall, cpu, ""))
    return lines


def _server_cpu() -> float | None:
    """CPU seconds of the PostgreSQL server's ended processes (backends, parallel workers).

    Read from the postmaster's cumulative children time (Linux, server on this machine):
    every backend and worker that has ended adds its CPU there. ``None`` where unreadable.
    """
    try:
        found = subprocess.run(["pgrep", "-o", "-x", "postgres"], capture_output=True, text=True)
        fields = Path(f"/proc/{int(found.stdout.split()[0])}/stat").read_text().split()
    except (OSError, ValueError, IndexError):
        return None
    return (int(fields[15]) + int(fields[16])) / os.sysconf("SC_CLK_TCK")


def _server_note(before: float | None) -> str:
    after = _server_cpu() if before is not None else None
    if before is None or after is None:
        return ""
    # Other clients' backends that ended meanwhile count too: an upper bound.
    return f"server CPU <= {after - before:.2f} s"


def _timed(job: Any) -> tuple[float, float, Any]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = job()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--columns", type=int, default=50)
    parser.add_argument("--decisions", type=int, default=1_000_000)
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--skip-drift", action="store_true", help="the same as leaving out drift")
    parser.add_argument(
        "--only",
        action="append",
        choices=CASES,
        help="run just this case (repeatable); by default all of them",
    )
    parser.add_argument(
        "--postgresql",
        default=os.environ.get("ETHICA_TEST_POSTGRESQL_URL", ""),
        help="a postgresql:// URL to count windows in the database ('' skips it)",
    )
    parser.add_argument(
        "--evidently-python",
        type=Path,
        default=Path(__file__).resolve().parents[1] / ".venv-peers/evidently/bin/python",
    )
    args = parser.parse_args()
    cases = set(args.only or CASES) - ({"drift"} if args.skip_drift else set())
    if not args.postgresql:
        cases.discard("postgresql")
    started = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    lines = []
    with tempfile.TemporaryDirectory() as folder:
        if "drift" in cases:
            lines += _drift_cases(args, Path(folder))
        if cases <= {"drift"}:
            return _print(started, lines)
        log = _decisions(args.decisions, args.features, args.days)
        path = Path(folder) / "decisions.parquet"
        log.to_parquet(path)
        plan = WindowPlan(
            time="at",
            sensitive_features=("sex", "age_band"),
            prediction="approved",
            score="score",
            score_bins=ScoreBins("equal_width", 0.0, 1.0, 20),
            features={f"f{i}": FeatureBins("numeric", -4.0, 4.0, 20) for i in range(args.features)},
        )
        size = f"{args.decisions:,} x {args.features} features x {args.days} days"
        del log
        if "duckdb" in cases:
            lines += _windows_cases(path, plan, "duckdb", "DuckDB, Parquet", size, args.days)
        if "postgresql" in cases:
            try:
                own = _to_postgresql(args.postgresql, path, Path(folder))
                lines += _windows_cases("decisions", plan, own, "PostgreSQL", size, args.days)
            finally:
                _drop_postgresql(args.postgresql)
    _print(started, lines)


def _print(started: str, lines: list[tuple[str, str, str, float, float, str]]) -> None:
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"load average (1, 5, 15 min): {started} at the start, {load} at the end")
    print(f"on {os.cpu_count()} cores (uptime's figures; the machine is shared)")
    print(f"{'what':38} {'size':42} {'who':10} {'wall s':>8} {'CPU s':>8}  note")
    for what, size, who, wall, cpu, note in lines:
        print(f"{what:38} {size:42} {who:10} {wall:8.2f} {cpu:8.2f}  {note}")


def _drift_cases(
    args: argparse.Namespace, folder: Path
) -> list[tuple[str, str, str, float, float, str]]:
    lines = []
    reference, current = _frames(args.rows, args.columns)
    paths = folder / "reference.parquet", folder / "current.parquet"
    reference.to_parquet(paths[0])
    current.to_parquet(paths[1])
    del reference, current
    wall, cpu, ours = _ours(pd.read_parquet(paths[0]), pd.read_parquet(paths[1]))
    size = f"{args.rows:,} rows x {args.columns} columns"
    lines.append(("drift report", size, "ethica", wall, cpu, ""))
    peer = _evidently(args.evidently_python, *paths)
    if peer is None:
        lines.append(("drift report", size, "Evidently", float("nan"), float("nan"), "n/a"))
    else:
        gap = max(abs(ours[c] - peer["values"][c]) for c in ours)
        note = f"max |value gap| {gap:.1e}; {peer['cpu'] / cpu:.0f}x our CPU"
        lines.append(("drift report", size, "Evidently", peer["wall"], peer["cpu"], note))
    return lines


if __name__ == "__main__":
    main()
