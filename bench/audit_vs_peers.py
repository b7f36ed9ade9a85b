"""Audit speed and memory: ethica against its peers, side by side in one run.

Every case runs in a fresh Python process (this script re-invoked with ``--worker``) so that its
peak resident memory is its own; the parent only orchestrates, watches each child's memory and
time, and prints one table. See bench/README.md for the cases and the targets.

    .venv/bin/python bench/audit_vs_peers.py --sizes 1e5,1e6,1e7
    .venv/bin/python bench/audit_vs_peers.py --big          # 10^8-row Parquet via DuckDB
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import importlib.util
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

FEATURES = ("sex", "race", "age")
CATEGORIES: dict[str, list[str]] = {
    "sex": ["F", "M"],
    "race": ["Asian", "Black", "Hispanic", "Other", "White"],
    "age": ["18-29", "30-44", "45-64", "65+"],
}
#: Metrics compared with the peers: our name -> fairlearn-style function name used below.
COMPARED = (
    "count",
    "selection_rate",
    "true_positive_rate",
    "false_positive_rate",
    "true_negative_rate",
    "false_negative_rate",
    "precision",
    "accuracy",
)
PEERS = ("fairlearn", "aif360", "aequitas")
PEER_MODULES = {"fairlearn": "fairlearn", "aif360": "aif360", "aequitas": "aequitas"}
REFERENCE = "ours memory full (pandas)"
DEFAULT_CACHE = Path(tempfile.gettempdir()) / "ethica-bench"
RESULT_PREFIX = "BENCH-RESULT "
SEED = 20240901
ALWAYS_RUN_PEERS_UP_TO = 10**6
REPEAT_BUDGET_SECONDS = 10.0
PARQUET_VERSION = 2  # bump when generate_parquet changes, so a stale cached file is not reused


# --------------------------------------------------------------------------------------------
# Synthetic decisions (run in the workers)
# --------------------------------------------------------------------------------------------


def make_frame(rows: int, *, with_score: bool, seed: int = SEED) -> Any:
    """Binary decisions with built-in gaps between groups, as a pandas DataFrame.

    Sensitive columns are categorical with text categories; label and prediction are int8 0/1;
    the score (optional) is a float in [0, 1] whose 0.5 threshold gives the prediction.
    """
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    codes = {f: rng.integers(0, len(CATEGORIES[f]), rows, dtype=np.int8) for f in FEATURES}
    # Base rates and the model's lift differ by group so that the audit has gaps to find.
    base = 0.30 + 0.04 * codes["race"] + 0.05 * codes["sex"] - 0.02 * codes["age"]
    label = (rng.random(rows, dtype=np.float32) < base).astype(np.int8)
    noise = rng.standard_normal(rows, dtype=np.float32) * np.float32(0.18)
    score = 0.42 + 0.22 * label + 0.015 * codes["race"] + 0.03 * codes["sex"] + noise
    score = np.clip(score, 0.0, 1.0).astype(np.float64)
    columns: dict[str, Any] = {
        f: pd.Categorical.from_codes(codes[f], categories=CATEGORIES[f]) for f in FEATURES
    }
    columns["label"] = label
    columns["prediction"] = (score >= 0.5).astype(np.int8)
    if with_score:
        columns["score"] = score
    return pd.DataFrame(columns)


def numeric_frame(frame: Any) -> Any:
    """The same decisions with sensitive features as integer codes (what AIF360 needs)."""
    import pandas as pd

    out = pd.DataFrame({f: frame[f].cat.codes.astype("float64") for f in FEATURES})
    out["label"] = frame["label"].astype("float64")
    out["prediction"] = frame["prediction"].astype("float64")
    return out


# --------------------------------------------------------------------------------------------
# Memory of the running process (Linux /proc, with a getrusage fallback)
# --------------------------------------------------------------------------------------------


def _status_kib(field_name: str) -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(field_name + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak() -> bool:
    """Reset the kernel's peak-RSS mark (VmHWM) so the next reading is this case's own peak."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as refs:
            refs.write("5")
        return True
    except OSError:
        return False


def _max_rss_kib() -> int:
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak // 1024 if sys.platform == "darwin" else peak


@dataclass
class Measurement:
    """Best time and largest memory rise over the repeats of one case."""

    seconds: list[float] = field(default_factory=list)
    peak_delta_mib: float = 0.0
    peak_rss_mib: float = 0.0


@contextlib.contextmanager
def measured(into: Measurement) -> Iterator[None]:
    """Time the block and record how far the resident memory rose above where it started."""
    import gc

    gc.collect()
    reset = _reset_peak()
    before = _status_kib("VmRSS") or _max_rss_kib()
    start = time.perf_counter()
    yield
    into.seconds.append(time.perf_counter() - start)
    peak = (_status_kib("VmHWM") if reset else None) or _max_rss_kib()
    into.peak_delta_mib = max(into.peak_delta_mib, (peak - before) / 1024)
    into.peak_rss_mib = max(into.peak_rss_mib, peak / 1024)


# --------------------------------------------------------------------------------------------
# The cases (each runs in its own worker process)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Spec:
    """What one worker runs."""

    case: str
    rows: int
    repeat: int = 1
    with_score: bool = False
    path: str = ""
    memory_limit: str = "1GB"


def _audit_kwargs(spec: Spec) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "sensitive_features": list(FEATURES),
        "label": "label",
        "prediction": "prediction",
        "bootstrap": 0,
    }
    if spec.with_score:
        kwargs["score"] = "score"
    return kwargs


def _ours_reference(frame: Any, spec: Spec) -> Any:
    """Our full-intersection metrics on the memory engine: what other cases are checked against."""
    from ethica.fairness import audit

    result = audit(frame, engine="memory", groupings="full", **_audit_kwargs(spec))
    return result.by_group()


def _max_abs_difference(ours: Any, theirs: Any) -> float:
    """Largest |difference| over the compared metrics and groups (inf if groups differ)."""
    import numpy as np

    def keyed(table: Any) -> Any:
        table = table.copy()
        table.index = [
            tuple(str(v) for v in (k if isinstance(k, tuple) else (k,))) for k in table.index
        ]
        return table

    ours, theirs = keyed(ours), keyed(theirs)
    if set(ours.index) != set(theirs.index):
        return math.inf
    columns = [c for c in COMPARED if c in ours.columns and c in theirs.columns]
    a = ours.loc[theirs.index, columns].to_numpy(dtype=np.float64)
    b = theirs[columns].to_numpy(dtype=np.float64)
    both_nan = np.isnan(a) & np.isnan(b)
    return float(np.nanmax(np.where(both_nan, 0.0, np.abs(a - b))))


def _source(frame: Any, kind: str) -> Any:
    if kind == "arrow":
        import pyarrow as pa

        return pa.Table.from_pandas(frame, preserve_index=False)
    return frame


class Worker:
    """Runs one case: builds its input, warms it up on a small table, then measures it."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.measurement = Measurement()
        self.extra: dict[str, Any] = {}

    def run(self) -> dict[str, Any]:
        name = self.spec.case
        runner = self._runner(name)
        runner(warm_up=True)  # imports and first-call costs stay out of the timings
        runner(warm_up=False)
        best = min(self.measurement.seconds)
        return {
            "seconds": best,
            "peak_delta_mib": self.measurement.peak_delta_mib,
            "peak_rss_mib": self.measurement.peak_rss_mib,
            **self.extra,
        }

    def _runner(self, name: str) -> Callable[..., None]:
        if name.startswith("ours "):
            return self._ours
        if name.startswith("floor duckdb"):
            return self._floor
        if name == "fairlearn MetricFrame":
            return self._fairlearn
        if name == "aif360 ClassificationMetric":
            return self._aif360
        if name == "aequitas Group.get_crosstabs":
            return self._aequitas
        if name == "big: ours duckdb all (parquet)":
            return self._big_ours
        if name == "big: floor duckdb (parquet)":
            return self._big_floor
        raise SystemExit(f"unknown case {name!r}")

    def _frame(self, warm_up: bool) -> Any:
        return make_frame(1000 if warm_up else self.spec.rows, with_score=self.spec.with_score)

    def _repeat(self, warm_up: bool, body: Callable[[], Any]) -> Any:
        if warm_up:
            return body()
        result = None
        for _ in range(self.spec.repeat):
            with measured(self.measurement):
                result = body()
            # Best-of-N matters for short cases; a slow one is not re-run past the time budget.
            if sum(self.measurement.seconds) > REPEAT_BUDGET_SECONDS:
                break
        return result

    # ours: "ours <engine> <groupings> (<source>)"
    def _ours(self, *, warm_up: bool) -> None:
        from ethica.engines import DuckDBEngine
        from ethica.fairness import audit

        _, engine_name, groupings, source_kind = (
            self.spec.case.replace("(", "").replace(")", "").split()
        )
        frame = self._frame(warm_up)
        source = _source(frame, source_kind)
        kwargs = _audit_kwargs(self.spec)

        def body() -> Any:
            engine = DuckDBEngine() if engine_name == "duckdb" else "memory"
            return audit(source, engine=engine, groupings=groupings, **kwargs)

        result = self._repeat(warm_up, body)
        if not warm_up:
            self.extra["groups"] = {k: len(m.groups) for k, m in result.metrics.items()}
            self.extra["comparisons"] = len(result.comparisons)
            if self.spec.case != REFERENCE:
                reference = _ours_reference(frame, self.spec)
                self.extra["max_abs_diff"] = _max_abs_difference(reference, result.by_group())

    def _floor(self, *, warm_up: bool) -> None:
        import duckdb

        frame = self._frame(warm_up)
        source_kind = "arrow" if "arrow" in self.spec.case else "pandas"
        source = _source(frame, source_kind)
        connection = duckdb.connect()
        keys = ", ".join([*FEATURES, "label", "prediction"])

        def body() -> Any:
            connection.register("decisions", source)
            sql = f"SELECT {keys}, COUNT(*) AS n FROM decisions GROUP BY {keys}"
            return connection.execute(sql).df()

        cells = self._repeat(warm_up, body)
        if not warm_up:
            from ethica.fairness import count_table

            kwargs = {k: v for k, v in _audit_kwargs(self.spec).items() if k != "bootstrap"}
            table = count_table(frame, engine="memory", **kwargs)
            self.extra["max_abs_diff"] = _count_difference(table, cells)

    def _fairlearn(self, *, warm_up: bool) -> None:
        import numpy as np
        from fairlearn.metrics import (
            MetricFrame,
            count,
            false_negative_rate,
            false_positive_rate,
            selection_rate,
            true_negative_rate,
            true_positive_rate,
        )
        from sklearn.metrics import accuracy_score, precision_score

        def precision(y_true: Any, y_pred: Any) -> float:
            return float(precision_score(y_true, y_pred, zero_division=np.nan))

        metrics = {
            "count": count,
            "selection_rate": selection_rate,
            "true_positive_rate": true_positive_rate,
            "false_positive_rate": false_positive_rate,
            "true_negative_rate": true_negative_rate,
            "false_negative_rate": false_negative_rate,
            "precision": precision,
            "accuracy": accuracy_score,
        }
        frame = self._frame(warm_up)

        def body() -> Any:
            return MetricFrame(
                metrics=metrics,
                y_true=frame["label"],
                y_pred=frame["prediction"],
                sensitive_features=frame[list(FEATURES)],
            ).by_group

        theirs = self._repeat(warm_up, body)
        if not warm_up:
            self.extra["max_abs_diff"] = _max_abs_difference(
                _ours_reference(frame, self.spec), theirs
            )

    def _aif360(self, *, warm_up: bool) -> None:
        import logging

        logging.getLogger().setLevel(logging.ERROR)  # its optional-extra notices
        import pandas as pd
        from aif360.datasets import BinaryLabelDataset
        from aif360.metrics import ClassificationMetric

        frame = self._frame(warm_up)
        numeric = numeric_frame(frame)
        male = CATEGORIES["sex"].index("M")

        def body() -> Any:
            truth = BinaryLabelDataset(
                df=numeric.drop(columns="prediction"),
                label_names=["label"],
                protected_attribute_names=list(FEATURES),
                favorable_label=1.0,
                unfavorable_label=0.0,
            )
            decided = truth.copy()
            decided.labels = numeric[["prediction"]].to_numpy()
            metric = ClassificationMetric(
                truth,
                decided,
                unprivileged_groups=[{"sex": 1 - male}],
                privileged_groups=[{"sex": male}],
            )
            rows = {}
            for privileged, group in ((True, "M"), (False, "F")):
                rows[(group,)] = {
                    "count": metric.num_instances(privileged),
                    "selection_rate": metric.selection_rate(privileged),
                    "true_positive_rate": metric.true_positive_rate(privileged),
                    "false_positive_rate": metric.false_positive_rate(privileged),
                    "true_negative_rate": metric.true_negative_rate(privileged),
                    "false_negative_rate": metric.false_negative_rate(privileged),
                    "precision": metric.positive_predictive_value(privileged),
                    "accuracy": metric.accuracy(privileged),
                }
            return pd.DataFrame.from_dict(rows, orient="index")

        theirs = self._repeat(warm_up, body)
        if not warm_up:
            from ethica.fairness import audit

            ours = audit(frame, engine="memory", groupings="marginal", **_audit_kwargs(self.spec))
            self.extra["max_abs_diff"] = _max_abs_difference(ours.by_group("sex"), theirs)

    def _aequitas(self, *, warm_up: bool) -> None:
        from aequitas.group import Group

        frame = self._frame(warm_up)
        table = frame[list(FEATURES)].astype(str)
        table["score"] = frame["prediction"].astype(int)
        table["label_value"] = frame["label"].astype(int)

        def body() -> Any:
            crosstab, _ = Group().get_crosstabs(table)
            return crosstab

        crosstab = self._repeat(warm_up, body)
        if not warm_up:
            from ethica.fairness import audit

            ours = audit(frame, engine="memory", groupings="marginal", **_audit_kwargs(self.spec))
            names = {
                "group_size": "count",
                "pprev": "selection_rate",
                "tpr": "true_positive_rate",
                "fpr": "false_positive_rate",
                "tnr": "true_negative_rate",
                "fnr": "false_negative_rate",
                "precision": "precision",
            }
            worst = 0.0
            for feature in FEATURES:
                theirs = crosstab[crosstab["attribute_name"] == feature].set_index(
                    "attribute_value"
                )
                theirs = theirs.rename(columns=names)[list(names.values())]
                worst = max(worst, _max_abs_difference(ours.by_group(feature), theirs))
            self.extra["max_abs_diff"] = worst

    def _big_ours(self, *, warm_up: bool) -> None:
        from ethica.engines import DuckDBEngine
        from ethica.fairness import audit

        if warm_up:
            return
        kwargs = _audit_kwargs(self.spec)

        def body() -> Any:
            engine = DuckDBEngine(memory_limit=self.spec.memory_limit)
            return audit(self.spec.path, engine=engine, groupings="all", **kwargs)

        result = self._repeat(False, body)
        self.extra["groups"] = {k: len(m.groups) for k, m in result.metrics.items()}
        self.extra["rows_audited"] = result.table.rows

    def _big_floor(self, *, warm_up: bool) -> None:
        import duckdb

        if warm_up:
            return
        keys = ", ".join([*FEATURES, "label", "prediction"])

        def body() -> Any:
            connection = duckdb.connect()
            connection.execute(f"SET memory_limit = '{self.spec.memory_limit}'")
            path = self.spec.path.replace("'", "''")
            sql = f"SELECT {keys}, COUNT(*) AS n FROM read_parquet('{path}') GROUP BY {keys}"
            return connection.execute(sql).df()

        self._repeat(False, body)


def _count_difference(table: Any, cells: Any) -> float:
    """Largest |difference| between our count table's cell counts and the floor's."""
    import numpy as np

    keys = [*FEATURES, "label", "prediction"]
    ours = table.cells.groupby(keys, observed=True)["n"].sum()
    floor = cells.astype(dict.fromkeys(FEATURES, str)).astype({"label": int, "prediction": int})
    theirs = floor.groupby(keys, observed=True)["n"].sum()
    ours.index = ours.index.map(lambda k: tuple(str(v) for v in k))
    theirs.index = theirs.index.map(lambda k: tuple(str(v) for v in k))
    if set(ours.index) != set(theirs.index):
        return math.inf
    return float(np.abs(ours.loc[theirs.index].to_numpy() - theirs.to_numpy()).max())


def generate_parquet(path: Path, rows: int) -> None:
    """Write ``rows`` synthetic decisions to Parquet with DuckDB (streamed, low memory)."""
    import duckdb

    races, ages = CATEGORIES["race"], CATEGORIES["age"]
    partial = path.with_suffix(".partial")
    connection = duckdb.connect()
    connection.execute("SET memory_limit = '2GB'")
    connection.execute("SET preserve_insertion_order = false")
    # Disjoint bit fields of one hash of the row number: deterministic whatever the thread
    # count, and independent (hashes of (i, k) for different k have correlated low bits).
    sql = f"""
        COPY (
          WITH hashed AS (SELECT hash(i) AS h FROM range({rows}) AS t(i)),
          coded AS (
            SELECT
              (h % 2)::TINYINT AS sex_code,
              ((h >> 8) % {len(races)})::TINYINT AS race_code,
              ((h >> 16) % {len(ages)})::TINYINT AS age_code,
              ((h >> 24) % 1000000) / 1e6 AS u_label,
              ((h >> 44) % 1000000) / 1e6 AS u_score
            FROM hashed
          ),
          decided AS (
            SELECT *,
              (u_label < 0.30 + 0.04 * race_code + 0.05 * sex_code - 0.02 * age_code)::TINYINT
                AS label
            FROM coded
          ),
          scored AS (
            SELECT *,
              greatest(0.0, least(1.0,
                0.22 + 0.22 * label + 0.015 * race_code + 0.03 * sex_code + 0.4 * u_score))
                AS score
            FROM decided
          )
          SELECT
            {_sql_list(CATEGORIES["sex"])}[sex_code + 1] AS sex,
            {_sql_list(races)}[race_code + 1] AS race,
            {_sql_list(ages)}[age_code + 1] AS age,
            label,
            (score >= 0.5)::TINYINT AS prediction,
            score
          FROM scored
        ) TO '{str(partial).replace("'", "''")}'
        (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 1000000)
    """
    connection.execute(sql)
    connection.close()
    partial.replace(path)


def _sql_list(values: list[str]) -> str:
    return "[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def profile_reference(rows: int, with_score: bool, top: int) -> None:
    """Print where the time of our memory-engine audits goes (cProfile, cumulative and own)."""
    import cProfile
    import pstats

    from ethica.fairness import audit

    frame = make_frame(rows, with_score=with_score)
    kwargs = _audit_kwargs(Spec(case=REFERENCE, rows=rows, with_score=with_score))
    audit(frame.head(1000), engine="memory", groupings="all", **kwargs)
    for groupings in ("full", "all"):
        profiler = cProfile.Profile()
        start = time.perf_counter()
        profiler.enable()
        audit(frame, engine="memory", groupings=groupings, **kwargs)
        profiler.disable()
        elapsed = time.perf_counter() - start
        print(f"\n=== cProfile: ours memory {groupings}, {rows:,} rows: {elapsed:.3f} s ===")
        stats = pstats.Stats(profiler).strip_dirs()
        for order in ("cumulative", "tottime"):
            print(f"--- top {top} by {order} ---")
            stats.sort_stats(order).print_stats(top)


def worker_main(payload: str) -> None:
    """Entry point of a child process: run one spec and print its result as one JSON line."""
    spec = Spec(**json.loads(payload))
    if spec.case == "generate":
        start = time.perf_counter()
        generate_parquet(Path(spec.path), spec.rows)
        result: dict[str, Any] = {"seconds": time.perf_counter() - start}
    else:
        result = Worker(spec).run()
    print(RESULT_PREFIX + json.dumps(result), flush=True)


# --------------------------------------------------------------------------------------------
# The parent: runs each case in a child, watches it, prints the table
# --------------------------------------------------------------------------------------------


@dataclass
class Row:
    """One line of the results table."""

    rows: int
    case: str
    seconds: float | None = None
    peak_delta_mib: float | None = None
    peak_rss_mib: float | None = None
    vs_ours: float | None = None
    max_abs_diff: float | None = None
    note: str = ""


def _child_rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def run_child(spec: Spec, *, timeout: float, max_rss_gib: float) -> dict[str, Any]:
    """Run ``spec`` in a fresh interpreter; kill it past ``timeout`` or ``max_rss_gib``."""
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", json.dumps(asdict(spec))]
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        child = subprocess.Popen(command, stdout=out, stderr=err, env=env)
        start = time.monotonic()
        reason = ""
        while child.poll() is None:
            if time.monotonic() - start > timeout:
                reason = f"killed: over {timeout:.0f} s"
            elif _child_rss_kib(child.pid) > max_rss_gib * 1024 * 1024:
                reason = f"killed: over {max_rss_gib:g} GiB RSS"
            if reason:
                child.kill()
                child.wait()
                return {"error": reason}
            time.sleep(0.05)
        out.seek(0)
        for line in out.read().splitlines():
            if line.startswith(RESULT_PREFIX):
                result: dict[str, Any] = json.loads(line.removeprefix(RESULT_PREFIX))
                return result
        err.seek(0)
        last = [line for line in err.read().splitlines() if line.strip()][-1:] or ["no output"]
        return {"error": f"failed (exit {child.returncode}): {last[0][:160]}"}


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def ours_cases() -> list[str]:
    cases = [REFERENCE]
    for engine in ("memory", "duckdb"):
        for source in ("pandas", "arrow"):
            for groupings in ("full", "all"):
                name = f"ours {engine} {groupings} ({source})"
                if name != REFERENCE:
                    cases.append(name)
    return cases


PEER_CASES = {
    "fairlearn": "fairlearn MetricFrame",
    "aif360": "aif360 ClassificationMetric",
    "aequitas": "aequitas Group.get_crosstabs",
}


def _row_from(size: int, case: str, result: dict[str, Any]) -> Row:
    row = Row(rows=size, case=case)
    if "error" in result:
        row.note = result["error"]
        return row
    row.seconds = result["seconds"]
    row.peak_delta_mib = result["peak_delta_mib"]
    row.peak_rss_mib = result["peak_rss_mib"]
    row.max_abs_diff = result.get("max_abs_diff")
    if row.max_abs_diff is not None and math.isinf(row.max_abs_diff):
        row.note = "groups differ from ours; "
    if "groups" in result:
        row.note += "groups " + "/".join(str(v) for v in result["groups"].values())
    return row


def run_sizes(args: argparse.Namespace, peers: list[str]) -> list[Row]:
    """Every in-memory case at every size, smallest first (peer estimates build on them)."""
    rows: list[Row] = []
    last_peer: dict[str, tuple[int, float]] = {}
    for size in sorted(args.sizes):
        cases = [*ours_cases(), "floor duckdb (pandas)", "floor duckdb (arrow)"]
        cases += [PEER_CASES[p] for p in peers]
        reference: float | None = None
        for case in cases:
            peer = next((p for p, c in PEER_CASES.items() if c == case), None)
            # The brief's peers run at every size up to 10^6; beyond, only within the budget.
            if peer is not None and peer in last_peer and size > ALWAYS_RUN_PEERS_UP_TO:
                measured_rows, seconds = last_peer[peer]
                estimate = seconds * size / measured_rows
                if estimate > args.peer_budget:
                    rows.append(Row(rows=size, case=case, note=f"skipped: est. {estimate:.0f} s"))
                    _progress(rows[-1])
                    continue
            spec = Spec(case=case, rows=size, repeat=args.repeat, with_score=args.score)
            result = run_child(spec, timeout=args.timeout, max_rss_gib=args.max_rss_gib)
            row = _row_from(size, case, result)
            if case == REFERENCE:
                reference = row.seconds
            if row.seconds is not None and reference:
                row.vs_ours = row.seconds / reference
            if peer is not None and row.seconds is not None:
                last_peer[peer] = (size, row.seconds)
            rows.append(row)
            _progress(row)
    return rows


def run_big(args: argparse.Namespace) -> list[Row]:
    """The 10^8-row Parquet audit through DuckDB's streaming group-by (``--big``)."""
    cache = Path(args.cache_dir)
    cache.mkdir(parents=True, exist_ok=True)
    path = cache / f"decisions_v{PARQUET_VERSION}_{args.big_rows}.parquet"
    rows: list[Row] = []
    if not path.exists():
        print(f"generating {path} ({args.big_rows:,} rows, once; reused by later runs) ...")
        spec = Spec(case="generate", rows=args.big_rows, path=str(path))
        result = run_child(spec, timeout=args.timeout * 3, max_rss_gib=args.max_rss_gib)
        if "error" in result:
            rows.append(Row(rows=args.big_rows, case="big: generate parquet", note=result["error"]))
            return rows
        size_mib = path.stat().st_size / 2**20
        rows.append(
            Row(
                rows=args.big_rows,
                case="big: generate parquet (duckdb)",
                seconds=result["seconds"],
                note=f"{size_mib:,.0f} MiB on disk",
            )
        )
        _progress(rows[-1])
    reference: float | None = None
    for case in ("big: ours duckdb all (parquet)", "big: floor duckdb (parquet)"):
        spec = Spec(
            case=case,
            rows=args.big_rows,
            repeat=1,
            with_score=args.score,
            path=str(path),
            memory_limit=args.big_memory_limit,
        )
        row = _row_from(
            args.big_rows,
            case,
            run_child(spec, timeout=args.timeout * 3, max_rss_gib=args.max_rss_gib),
        )
        if reference is None:
            reference = row.seconds
        elif row.seconds is not None and reference:
            row.vs_ours = row.seconds / reference
        rows.append(row)
        _progress(row)
    return rows


def _progress(row: Row) -> None:
    seconds = "-" if row.seconds is None else f"{row.seconds:.3f} s"
    print(f"  {row.rows:>12,}  {row.case:<32} {seconds:>10}  {row.note}", file=sys.stderr)


def _versions() -> dict[str, str]:
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    out = {
        "python": platform.python_version(),
        "machine": f"{os.cpu_count()} cores, load {load} at the end",
    }
    for name in (
        "ethica",
        "numpy",
        "pandas",
        "pyarrow",
        "duckdb",
        "fairlearn",
        "aif360",
        "aequitas",
    ):
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            out[name] = importlib.metadata.version(name)
    return out


def _fmt(value: float | None, pattern: str) -> str:
    if value is None:
        return "-"
    if math.isinf(value):
        return "groups differ"
    return pattern.format(value)


def _cells(row: Row) -> list[str]:
    return [
        f"{row.rows:,}",
        row.case,
        _fmt(row.seconds, "{:.3f}"),
        _fmt(row.vs_ours, "{:.2f}×"),
        _fmt(row.peak_delta_mib, "{:,.0f}"),
        _fmt(row.peak_rss_mib, "{:,.0f}"),
        _fmt(row.max_abs_diff, "{:.1e}"),
        row.note,
    ]


HEADERS = [
    "rows",
    "case",
    "seconds (best)",
    "vs ours",
    "peak RSS Δ MiB",
    "peak RSS MiB",
    "max |Δ| vs ours",
    "note",
]


def verdicts(rows: list[Row]) -> list[str]:
    """The targets, checked: full audit of 10^7 rows ≤ 3× the floor and < 0.5 s; big < 2 GiB."""
    lines = []
    by = {(r.rows, r.case): r for r in rows}
    for size in sorted({r.rows for r in rows if r.case == REFERENCE}):
        ours, floor = by.get((size, REFERENCE)), by.get((size, "floor duckdb (pandas)"))
        if ours and floor and ours.seconds and floor.seconds:
            times = ours.seconds / floor.seconds
            ok = times <= 3 and (size < 10**7 or ours.seconds < 0.5)
            lines.append(
                f"{size:,} rows: ours memory full {ours.seconds:.3f} s = {times:.2f}× the DuckDB "
                f"floor {floor.seconds:.3f} s (target ≤ 3×"
                + (", < 0.5 s" if size >= 10**7 else "")
                + f"): {'PASS' if ok else 'FAIL'}"
            )
    big = next((r for r in rows if r.case == "big: ours duckdb all (parquet)"), None)
    if big is not None and big.peak_rss_mib is not None:
        ok = big.peak_rss_mib < 2048
        lines.append(
            f"{big.rows:,}-row Parquet: peak RSS {big.peak_rss_mib:,.0f} MiB "
            f"(target < 2048 MiB): {'PASS' if ok else 'FAIL'}"
        )
    return lines


def print_table(rows: list[Row], versions: dict[str, str], notes: list[str]) -> None:
    """Print the results with rich when it is installed, as plain text otherwise."""
    title = "ethica audit vs peers — " + ", ".join(f"{k} {v}" for k, v in versions.items())
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        widths = [max(len(h), *(len(_cells(r)[i]) for r in rows)) for i, h in enumerate(HEADERS)]
        print(title)
        print("  ".join(h.ljust(w) for h, w in zip(HEADERS, widths, strict=True)))
        for row in rows:
            print("  ".join(c.ljust(w) for c, w in zip(_cells(row), widths, strict=True)))
    else:
        table = Table(title=title, title_justify="left")
        for i, header in enumerate(HEADERS):
            table.add_column(header, justify="right" if 0 < i < 7 and i != 1 else "left")
        previous = None
        for row in rows:
            if previous is not None and row.rows != previous:
                table.add_section()
            previous = row.rows
            table.add_row(*_cells(row))
        Console(width=200).print(table)
    for line in notes:
        print(line)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--sizes", default="1e5,1e6,1e7", help="row counts, e.g. 1e5,1e6,1e7")
    parser.add_argument("--repeat", type=int, default=3, help="report the best of N runs")
    parser.add_argument(
        "--peers",
        default=",".join(PEERS),
        help="peers to run where installed (comma-separated; 'none' for ours only)",
    )
    parser.add_argument("--score", action="store_true", help="add a score column to the audits")
    parser.add_argument(
        "--json", metavar="PATH", help="also write the results as JSON ('-': stdout)"
    )
    parser.add_argument("--big", action="store_true", help="also run the 10^8-row Parquet audit")
    parser.add_argument("--big-only", action="store_true", help="only the Parquet audit")
    parser.add_argument("--big-rows", type=float, default=1e8, help="rows of the Parquet file")
    parser.add_argument("--big-memory-limit", default="1GB", help="DuckDB memory_limit for --big")
    parser.add_argument("--cache-dir", default=str(DEFAULT_CACHE), help="where the Parquet lives")
    parser.add_argument(
        "--peer-budget", type=float, default=120.0, help="skip a peer estimated to take longer (s)"
    )
    parser.add_argument("--timeout", type=float, default=600.0, help="kill a case after (s)")
    parser.add_argument(
        "--max-rss-gib", type=float, default=16.0, help="kill a case above this RSS"
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="instead of the table, cProfile our memory audit at the largest size",
    )
    parser.add_argument("--profile-top", type=int, default=25, help="functions listed by --profile")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.sizes = [int(float(s)) for s in args.sizes.split(",") if s.strip()]
    args.big_rows = int(args.big_rows)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker is not None:
        worker_main(args.worker)
        return 0
    if args.profile:
        profile_reference(max(args.sizes), args.score, args.profile_top)
        return 0
    wanted = [p.strip() for p in args.peers.split(",") if p.strip() and p.strip() != "none"]
    unknown = [p for p in wanted if p not in PEERS]
    if unknown:
        raise SystemExit(f"unknown peer(s) {unknown}; choose from {list(PEERS)}")
    peers = [p for p in wanted if _installed(PEER_MODULES[p])]
    notes = [f"{p}: not installed, skipped" for p in wanted if p not in peers]
    rows: list[Row] = []
    if not args.big_only:
        rows += run_sizes(args, peers)
    if args.big or args.big_only:
        rows += run_big(args)
    else:
        notes.append(
            "The 10^8-row Parquet audit (DuckDB streaming, memory_limit 1GB) runs with --big; "
            f"it generates a Parquet file under {DEFAULT_CACHE} once (~1-6 min)."
        )
    notes = [*verdicts(rows), *notes]
    notes.append(
        "seconds: best of --repeat runs after a warm-up; peak RSS Δ: rise of the case's own fresh "
        "process above its resident size once the input table was built; max |Δ| vs ours: ours "
        "memory engine on the same rows (counts for the floor)."
    )
    versions = _versions()
    print_table(rows, versions, notes)
    if args.json:
        payload = json.dumps(
            {"versions": versions, "rows": [asdict(r) for r in rows], "notes": notes},
            indent=2,
            default=lambda v: None,
        ).replace("Infinity", "null")
        if args.json == "-":
            print(payload)
        else:
            Path(args.json).write_text(payload, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
