"""Load test of the decision gateway over loopback: bare scoring endpoint vs the governed path.

Starts each server as a subprocess on a free loopback port, one at a time, and drives it from a
separate load-generator process:

- **bare**: a FastAPI app (``bare_app`` below) that only scores the same 200-tree LightGBM model
  with the same row building (:class:`ethica.scoring.Scorer`), no auth, no database;
- **governed (SQLite)**: ``ethica serve`` on a fresh SQLite file: API-key auth, minimization,
  scoring, oversight routing, the ledger entry and the decision rows committed durably
  (WAL, ``synchronous=FULL``, group commit) before the answer;
- **governed (PostgreSQL)** with ``--postgresql``: the same on a fresh database;
- **hand-written** (``handwritten_app`` below): what a team would write by hand for the same job —
  FastAPI, the same LightGBM model scored with LightGBM itself, its explanation (LightGBM's own
  TreeSHAP contributions, the four most adverse as reasons), and one durable insert of the decision
  with its reasons per request (SQLAlchemy Core, a transaction per decision; SQLite in WAL mode
  with ``synchronous=FULL``, or PostgreSQL with ``--postgresql``). No auth, consent, minimization,
  review routing or ledger: the governed path's extra work is what the comparison prices.

Each server gets a warm-up, then a closed-loop run at ``--concurrency`` (throughput and
p50/p95/p99), then an open-loop run at a fixed rate of half its closed-loop throughput (latency
measured from each request's scheduled start, so queueing counts). Runs are bounded by
``--duration`` seconds and ``--max-requests``.

The load generator shares the machine's cores with the server: its CPU time is taken from the
server's, so the numbers are a floor. The server's own CPU time per request (from ``/proc``, all
its processes and threads) is reported too: other load on the machine disturbs it less.
``--workers N`` runs the governed path in N worker processes (``ethica serve --workers N``),
each on its own shard of the ledger's chains. ``--client wrk`` uses wrk (C, with a Lua script for
POST bodies) for the closed-loop run instead of the Python client, as a cross-check.

    .venv/bin/python bench/gateway_load.py                      # SQLite only
    .venv/bin/python bench/gateway_load.py --postgresql         # + PostgreSQL
    .venv/bin/python bench/gateway_load.py --client wrk --concurrency 64
    .venv/bin/python bench/gateway_load.py --workers 2 --postgresql
    .venv/bin/python bench/gateway_load.py --repeat 3 --postgresql   # alternating runs, medians
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pydantic import BaseModel

ROOT = Path(__file__).resolve().parents[1]
# The ethica sources the servers run (ETHICA_BENCH_SRC: another tree, to compare versions).
SRC = Path(os.environ.get("ETHICA_BENCH_SRC", ROOT / "src"))
PYTHON = sys.executable
SYSTEM_ID = "credit-bench"
N_NUMERIC = 18
CATEGORIES = {"housing": ["own", "rent", "other"], "purpose": ["car", "home", "education", "other"]}
POSTGRESQL = os.environ.get("ETHICA_BENCH_POSTGRESQL_URL", "postgresql://postgres@127.0.0.1:5432")


# --------------------------------------------------------------------------- the model and system


def spec_dict() -> dict[str, Any]:
    """A credit system with 20 features (18 numbers, 2 categories) and one protected attribute."""
    features: list[dict[str, Any]] = [
        {"name": f"x{i}", "type": "number", "data_category": "user.financial"}
        for i in range(N_NUMERIC)
    ]
    for name, values in CATEGORIES.items():
        features.append(
            {
                "name": name,
                "type": "category",
                "categories": values,
                "data_category": "user.financial",
            }
        )
    return {
        "id": SYSTEM_ID,
        "name": "Credit limit (benchmark)",
        "purpose": "finance",
        "risk_tier": "high",
        "decision": {"kind": "binary", "threshold": 0.5},
        "features": features,
        "protected_attributes": [{"name": "sex"}],
        "oversight": {"review_adverse": False, "margin": 0.02, "sample_rate": 0.01},
        "owner": "risk@bank.example",
    }


def train_model() -> bytes:
    """A 200-tree LightGBM classifier on synthetic data, as LightGBM's text format."""
    import lightgbm as lgb
    import numpy as np
    import pandas as pd

    from ethica.scoring import dump_model

    rng = np.random.default_rng(0)
    n = 5000
    frame = pd.DataFrame({f"x{i}": rng.normal(size=n) for i in range(N_NUMERIC)})
    for name, values in CATEGORIES.items():
        frame[name] = pd.Categorical(rng.choice(values, n), categories=values)
    logit = frame["x0"] - 0.5 * frame["x1"] + 0.3 * frame["x2"] * frame["x3"]
    logit = logit + (frame["housing"] == "own").astype(float) + rng.normal(scale=0.5, size=n)
    label = (logit > 0).astype(int)
    model = lgb.LGBMClassifier(n_estimators=200, num_leaves=31, verbose=-1).fit(frame, label)
    return dump_model(model, "lightgbm")


def request_bodies(count: int, *, seed: int) -> list[bytes]:
    """Decision requests: varied features, subjects from a pool, a protected attribute."""
    rng = random.Random(seed)
    bodies = []
    for i in range(count):
        features: dict[str, Any] = {f"x{j}": round(rng.gauss(0, 1), 4) for j in range(N_NUMERIC)}
        for name, values in CATEGORIES.items():
            features[name] = rng.choice(values)
        body = {
            "subject_id": f"cust-{rng.randrange(5000)}",
            "features": features,
            "protected": {"sex": rng.choice(["F", "M"])},
        }
        bodies.append(json.dumps(body, separators=(",", ":")).encode())
        del i
    return bodies


class ScoreRequest(BaseModel):
    """The bare endpoint's request: the same JSON as a governed decision."""

    subject_id: str | None = None
    features: dict[str, Any]
    protected: dict[str, str | None] = {}


class ScoreResponse(BaseModel):
    """The bare endpoint's answer."""

    score: float
    outcome: str


def bare_app() -> Any:
    """The bare endpoint: parse the request, score the model, answer; nothing else."""
    from fastapi import FastAPI

    from ethica.governance import parse_spec
    from ethica.scoring import Scorer, load_model

    spec = parse_spec(json.loads(os.environ["BENCH_SPEC"]))
    model = load_model(Path(os.environ["BENCH_MODEL"]).read_bytes(), "lightgbm")
    scorer = Scorer(model, spec, version="1")

    app = FastAPI()

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post(f"/v1/systems/{SYSTEM_ID}/decisions", status_code=201)
    async def decide(body: ScoreRequest) -> ScoreResponse:
        scored = scorer.score(body.features)
        return ScoreResponse(score=scored.score, outcome=scored.outcome)

    return app


def handwritten_app() -> Any:
    """The hand-written baseline: score, explain, insert durably, answer."""
    import datetime
    import uuid

    import lightgbm
    import numpy as np
    from fastapi import FastAPI
    from sqlalchemy import JSON, Column, DateTime, Float, MetaData, String, Table, create_engine
    from sqlalchemy import event as sqlalchemy_event

    booster = lightgbm.Booster(model_str=Path(os.environ["BENCH_MODEL"]).read_text())
    names = [f"x{i}" for i in range(N_NUMERIC)] + list(CATEGORIES)
    codes = {
        name: {value: float(i) for i, value in enumerate(values)}
        for name, values in CATEGORIES.items()
    }
    url = os.environ["BENCH_DATABASE_URL"]
    engine = create_engine(url, pool_size=48, max_overflow=16)
    if url.startswith("sqlite"):

        @sqlalchemy_event.listens_for(engine, "connect")
        def _pragmas(connection: Any, _record: Any) -> None:
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

    metadata = MetaData()
    decisions = Table(
        "decisions",
        metadata,
        Column("id", String(36), primary_key=True),
        Column("subject_id", String(200)),
        Column("features", JSON),
        Column("score", Float),
        Column("outcome", String(20)),
        Column("reasons", JSON),
        Column("created_at", DateTime(timezone=True)),
    )
    metadata.create_all(engine)

    app = FastAPI()

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post(f"/v1/systems/{SYSTEM_ID}/decisions", status_code=201)
    def decide(body: ScoreRequest) -> dict[str, Any]:
        row = np.array(
            [[codes[n][body.features[n]] if n in codes else float(body.features[n]) for n in names]]
        )
        score = float(booster.predict(row, num_threads=1)[0])
        contributions = booster.predict(row, pred_contrib=True, num_threads=1)[0][:-1]
        outcome = "approved" if score >= 0.5 else "declined"
        adverse = np.argsort(contributions)[:4]
        reasons = [
            {"feature": names[i], "contribution": float(contributions[i])}
            for i in adverse
            if contributions[i] < 0
        ]
        decision_id = str(uuid.uuid4())
        with engine.begin() as connection:
            connection.execute(
                decisions.insert().values(
                    id=decision_id,
                    subject_id=body.subject_id,
                    features=body.features,
                    score=score,
                    outcome=outcome,
                    reasons=reasons,
                    created_at=datetime.datetime.now(datetime.UTC),
                )
            )
        return {"id": decision_id, "score": score, "outcome": outcome, "reasons": reasons}

    return app


# --------------------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(port: int, process: subprocess.Popen[bytes], *, timeout: float = 60.0) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server on port {port} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"the server on port {port} did not start in {timeout} s")


@contextmanager
def server(command: list[str], env: dict[str, str], port: int, log: Path) -> Iterator[int]:
    with log.open("wb") as out:
        process = subprocess.Popen(command, env={**os.environ, **env}, stdout=out, stderr=out)
        try:
            wait_ready(port, process)
            yield process.pid
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def prepare_database(url: str, model: bytes) -> str:
    """Migrate ``url``, register the system with its model, and return a new API key."""
    sys.path.insert(0, str(SRC))
    from ethica.governance import parse_spec
    from ethica.service.db import make_engine, session_factory, unit_of_work, upgrade
    from ethica.service.systems import service as systems
    from ethica.service.users import service as users

    engine = make_engine(url)
    upgrade(engine)
    with unit_of_work(session_factory(engine)) as session:
        systems.apply_spec(session, spec=parse_spec(spec_dict()))
        systems.add_model_version(
            session, system_id=SYSTEM_ID, version="1", format="lightgbm", content=model
        )
        _, key = users.create_api_key(session, name="bench", scopes=["decisions:write"])
    engine.dispose()
    return key


@contextmanager
def postgresql_database() -> Iterator[str]:
    import psycopg

    name = f"ethica_bench_{os.getpid()}"
    with psycopg.connect(f"{POSTGRESQL}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{POSTGRESQL}/{name}"
    finally:
        with psycopg.connect(f"{POSTGRESQL}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --------------------------------------------------------------------------- the load generator


class Connection:
    """One keep-alive HTTP/1.1 connection: a minimal client, so the generator stays cheap."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, port: int) -> Connection:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    async def send(self, request: bytes) -> int:
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        lower = head.lower()
        start = lower.index(b"content-length:") + 15
        length = int(lower[start : lower.index(b"\r\n", start)])
        await self.reader.readexactly(length)
        return status

    def close(self) -> None:
        self.writer.close()


def server_cpu_seconds(pid: int | None) -> float:
    """CPU time (user + system) of process ``pid`` and its children so far; NaN without /proc."""
    if pid is None:
        return math.nan
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    pending = [pid]
    try:
        while pending:
            current = pending.pop()
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
            for task in Path(f"/proc/{current}/task").iterdir():
                pending.extend(int(c) for c in (task / "children").read_text().split())
    except OSError:
        return math.nan
    return total


def http_requests(port: int, key: str | None, bodies: list[bytes]) -> list[bytes]:
    auth = f"Authorization: Bearer {key}\r\n" if key else ""
    return [
        (
            f"POST /v1/systems/{SYSTEM_ID}/decisions HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{auth}"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode()
        + body
        for body in bodies
    ]


def percentiles(latencies: list[float]) -> dict[str, float]:
    if not latencies:
        return {"p50_ms": math.nan, "p95_ms": math.nan, "p99_ms": math.nan}
    ordered = sorted(latencies)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    return {"p50_ms": at(0.50), "p95_ms": at(0.95), "p99_ms": at(0.99)}


async def closed_loop(
    port: int,
    requests: list[bytes],
    *,
    concurrency: int,
    duration: float,
    max_requests: int,
    server_pid: int | None = None,
) -> dict[str, Any]:
    """``concurrency`` connections, each sending its next request as soon as it has an answer."""
    connections = [await Connection.open(port) for _ in range(concurrency)]
    latencies: list[float] = []
    errors = 0
    statuses: dict[str, int] = {}  # status code -> how many answers had it
    sent = 0
    deadline = time.perf_counter() + duration

    async def worker(connection: Connection, offset: int) -> None:
        nonlocal errors, sent
        i = offset
        while time.perf_counter() < deadline and sent < max_requests:
            sent += 1
            started = time.perf_counter()
            status = await connection.send(requests[i % len(requests)])
            latencies.append(time.perf_counter() - started)
            if status >= 300:
                errors += 1
                statuses[str(status)] = statuses.get(str(status), 0) + 1
            i += concurrency

    started = time.perf_counter()
    cpu_before = server_cpu_seconds(server_pid)
    await asyncio.gather(*(worker(c, i) for i, c in enumerate(connections)))
    elapsed = time.perf_counter() - started
    cpu = server_cpu_seconds(server_pid) - cpu_before
    for c in connections:
        c.close()
    return {
        "requests": len(latencies),
        "errors": errors,
        "error_statuses": statuses,
        "seconds": elapsed,
        "throughput": len(latencies) / elapsed,
        # The server's CPU time per request: steadier than throughput on a busy machine.
        "cpu_ms": cpu / max(1, len(latencies)) * 1000,
        **percentiles(latencies),
    }


async def fixed_rate(
    port: int, requests: list[bytes], *, rate: float, duration: float, pool: int
) -> dict[str, Any]:
    """Open loop: request i is due at i / rate; latency counts from when it was due."""
    idle: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(pool):
        idle.put_nowait(await Connection.open(port))
    latencies: list[float] = []
    errors = 0
    statuses: dict[str, int] = {}  # status code -> how many answers had it
    total = int(rate * duration)

    async def one(i: int, due: float) -> None:
        nonlocal errors
        connection = await idle.get()
        status = await connection.send(requests[i % len(requests)])
        latencies.append(time.perf_counter() - due)
        idle.put_nowait(connection)
        if status >= 300:
            errors += 1
            statuses[str(status)] = statuses.get(str(status), 0) + 1

    tasks = []
    start = time.perf_counter() + 0.05
    for i in range(total):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i, due)))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - start
    while not idle.empty():
        idle.get_nowait().close()
    return {
        "rate": rate,
        "requests": len(latencies),
        "errors": errors,
        "error_statuses": statuses,
        "achieved": len(latencies) / elapsed,
        **percentiles(latencies),
    }


def client_main(config: dict[str, Any]) -> None:
    """The load generator's process: warm up, closed loop, fixed rate; prints JSON."""
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    bodies = request_bodies(4096, seed=config["seed"])
    requests = http_requests(config["port"], config["key"], bodies)

    async def run() -> dict[str, Any]:
        result: dict[str, Any] = {}
        # The first decision loads the system's model: wait for it before timing anything.
        first = await Connection.open(config["port"])
        await asyncio.wait_for(first.send(requests[0]), timeout=120)
        first.close()
        if config["phase"] in ("closed", "all"):
            await closed_loop(
                config["port"],
                requests,
                concurrency=config["concurrency"],
                duration=config["warmup"],
                max_requests=config["max_requests"],
            )
            result["closed"] = await closed_loop(
                config["port"],
                requests,
                concurrency=config["concurrency"],
                duration=config["duration"],
                max_requests=config["max_requests"],
                server_pid=config.get("server_pid"),
            )
        if config["phase"] in ("fixed", "all"):
            rate = config.get("rate") or result["closed"]["throughput"] / 2
            result["fixed"] = await fixed_rate(
                config["port"],
                requests,
                rate=rate,
                duration=config["duration"],
                pool=config["concurrency"],
            )
        return result

    print(json.dumps(asyncio.run(run())))


def run_client(config: dict[str, Any]) -> dict[str, Any]:
    out = subprocess.run(
        [PYTHON, __file__, "--client-config", json.dumps(config)],
        capture_output=True,
        text=True,
        check=True,
        timeout=config["warmup"] + 3 * config["duration"] + 120,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


WRK_SCRIPT = """
local bodies = {}
for line in io.lines("%(bodies)s") do bodies[#bodies + 1] = line end
local i = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
%(auth)s
request = function()
  i = i %% #bodies + 1
  return wrk.format(nil, "/v1/systems/%(system)s/decisions", nil, bodies[i])
end
done = function(summary, latency, requests)
  local errors = summary.errors.status + summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout
  io.write(string.format('WRK {"requests": %%d, "errors": %%d, "seconds": %%f, "p50_ms": %%f, '
    .. '"p95_ms": %%f, "p99_ms": %%f}\\n', summary.requests, errors, summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000))
end
"""


def run_wrk(config: dict[str, Any], workdir: Path) -> dict[str, Any]:
    bodies = workdir / "bodies.jsonl"
    bodies.write_bytes(b"\n".join(request_bodies(4096, seed=config["seed"])) + b"\n")
    auth = f'wrk.headers["Authorization"] = "Bearer {config["key"]}"' if config["key"] else ""
    script = workdir / "post.lua"
    script.write_text(WRK_SCRIPT % {"bodies": bodies, "auth": auth, "system": SYSTEM_ID})
    url = f"http://127.0.0.1:{config['port']}"
    base = ["wrk", "-t1", f"-c{config['concurrency']}", "-s", str(script), url]
    warm = max(1, int(config["warmup"]))
    subprocess.run([*base[:3], f"-d{warm}s", *base[3:]], capture_output=True, check=True)
    out = subprocess.run(
        [*base[:3], f"-d{int(config['duration'])}s", *base[3:]],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = next(x for x in out.splitlines() if x.startswith("WRK "))
    result: dict[str, Any] = json.loads(line[4:])
    result["throughput"] = result["requests"] / result["seconds"]
    return result


# --------------------------------------------------------------------------- the run


def measure(
    name: str, server_: tuple[int, int], key: str | None, args: argparse.Namespace, workdir: Path
) -> dict[str, Any]:
    port, pid = server_
    config = {
        "port": port,
        "server_pid": pid,
        "key": key,
        "seed": 1,
        "concurrency": args.concurrency,
        "warmup": args.warmup,
        "duration": args.duration,
        "max_requests": args.max_requests,
    }
    if args.client == "wrk":
        cpu_before = server_cpu_seconds(pid)
        closed = run_wrk(config, workdir)
        cpu = server_cpu_seconds(pid) - cpu_before
        closed["cpu_ms"] = cpu / max(1, closed["requests"]) * 1000
        fixed = run_client({**config, "phase": "fixed", "rate": closed["throughput"] / 2})["fixed"]
    else:
        both = run_client({**config, "phase": "all"})
        closed, fixed = both["closed"], both["fixed"]
    print(
        f"  {name}: {closed['throughput']:.0f}/s closed loop, p99 {closed['p99_ms']:.1f} ms; "
        f"at {fixed['rate']:.0f}/s p99 {fixed['p99_ms']:.1f} ms",
        file=sys.stderr,
    )
    return {"name": name, "closed": closed, "fixed": fixed}


#: Hooks a governed server can run with instead of its own (``--serve-hooks``): ``allow-all``
#: replaces the consent hook by AllowAll (isolating consent's cost); ``none`` also replaces the
#: explainer by NoExplanation: the path as the gateway issue specified it, before the consent
#: and explanation issues filled its hooks (isolating the gateway's own cost).
HOOKS = ("allow-all", "none")


def serve_with_hooks(port: int, hooks: str) -> None:
    """``ethica serve`` (one process) with the hooks of :data:`HOOKS` named by ``hooks``."""
    import uvicorn

    from ethica.service.app import create_app, state_of
    from ethica.service.decisions.hooks import AllowAll, NoExplanation

    app = create_app()
    gateway = state_of(app).gateway
    gateway.consent = AllowAll()
    if hooks == "none":
        gateway.explainer = NoExplanation()
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def governed(
    name: str,
    url: str,
    model: bytes,
    args: argparse.Namespace,
    workdir: Path,
    command: list[str] | None = None,
) -> dict[str, Any]:
    key = prepare_database(url, model)
    port = free_port()
    env = {"ETHICA__DATABASE__URL": url, "PYTHONPATH": str(SRC)}
    if args.group_wait_ms is not None:
        env["ETHICA__GATEWAY__GROUP_COMMIT_WAIT_MS"] = str(args.group_wait_ms)
    if command is not None:
        command = [part.replace("{port}", str(port)) for part in command]
    else:
        command = [
            str(Path(PYTHON).parent / "ethica"),
            "serve",
            "--port",
            str(port),
            "--database",
            url,
            "--workers",
            str(args.workers),
        ]
    log = workdir / f"{name.split()[0]}-{port}.log"
    with server(command, env, port, log) as pid:
        result = measure(name, (port, pid), key, args, workdir)
    result["log"] = str(log)
    return result


def bare(model: bytes, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    path = workdir / "model.txt"
    path.write_bytes(model)
    port = free_port()
    env = {
        "BENCH_MODEL": str(path),
        "BENCH_SPEC": json.dumps(spec_dict()),
        "PYTHONPATH": os.pathsep.join([str(SRC), str(ROOT / "bench")]),
    }
    command = [
        PYTHON,
        "-m",
        "uvicorn",
        "gateway_load:bare_app",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    with server(command, env, port, workdir / "bare.log") as pid:
        return measure("bare endpoint", (port, pid), None, args, workdir)


def handwritten(
    name: str, url: str, model: bytes, args: argparse.Namespace, workdir: Path
) -> dict[str, Any]:
    path = workdir / "model.txt"
    path.write_bytes(model)
    port = free_port()
    env = {
        "BENCH_MODEL": str(path),
        "BENCH_DATABASE_URL": url.replace("postgresql://", "postgresql+psycopg://", 1),
        "PYTHONPATH": os.pathsep.join([str(SRC), str(ROOT / "bench")]),
    }
    command = [
        PYTHON,
        "-m",
        "uvicorn",
        "gateway_load:handwritten_app",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    with server(command, env, port, workdir / f"handwritten-{port}.log") as pid:
        return measure(name, (port, pid), None, args, workdir)


def table(results: list[dict[str, Any]], args: argparse.Namespace) -> str:
    head = (
        f"{'server':<36}{'decisions/s':>12}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'errors':>8}"
        f"{'vs bare':>9}{'vs hand':>9}{'CPU ms':>8}{'@ rate/s':>10}{'p99 ms':>9}"
    )
    lines = [head, "-" * len(head)]
    for r in results:
        bare_rate = next(
            b["closed"]["throughput"]
            for b in results
            if b["name"].startswith("bare") and _run_of(b) == _run_of(r)
        )
        hand = [
            h["closed"]["throughput"]
            for h in results
            if h["name"].startswith("hand-written")
            and _run_of(h) == _run_of(r)
            and _database_of(h) == _database_of(r)
        ]
        versus_hand = f"{r['closed']['throughput'] / hand[0]:>9.0%}" if hand else f"{'':>9}"
        c, f = r["closed"], r["fixed"]
        lines.append(
            f"{r['name']:<36}{c['throughput']:>12.0f}{c['p50_ms']:>9.1f}{c['p95_ms']:>9.1f}"
            f"{c['p99_ms']:>9.1f}{c['errors'] + f['errors']:>8d}{c['throughput'] / bare_rate:>9.0%}"
            f"{versus_hand}{c['cpu_ms']:>8.2f}{f['rate']:>10.0f}{f['p99_ms']:>9.1f}"
        )
    for r in results:
        statuses = {
            **r["closed"].get("error_statuses", {}),
            **{
                f"{code} at the fixed rate": n
                for code, n in r["fixed"].get("error_statuses", {}).items()
            },
        }
        if statuses:
            lines.append(f"errors of {r['name']}: {statuses}")
    lines.append(
        f"closed loop: {args.concurrency} connections, {args.duration:g} s after {args.warmup:g} s "
        f"warm-up (client: {args.client}); fixed rate: half the closed-loop throughput for "
        f"{args.duration:g} s, latency from each request's due time."
    )
    lines.append(
        "CPU ms: the server's CPU time (all its processes and threads) per request in the closed "
        "loop, which other load on the machine disturbs less than throughput."
    )
    lines.append(
        f"{os.cpu_count()} cores shared by server and load generator: the generator's CPU time "
        "is taken from the server's, so throughput is a floor. Load average before / after: "
        f"{args.load_before} / {_load()}."
    )
    return "\n".join(lines)


def _run_of(result: dict[str, Any]) -> str:
    """Which run a row belongs to: its ``#n``, ``median``, or nothing (a single run)."""
    name = str(result["name"])
    if ", median of " in name:
        return "median"
    return name.rsplit("#", 1)[-1] if "#" in name else ""


def _database_of(result: dict[str, Any]) -> str:
    """Which database a row ran on, for comparing each governed row with its hand-written peer."""
    return "PostgreSQL" if "PostgreSQL" in str(result["name"]) else "SQLite"


def _load() -> str:
    try:
        return " ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--concurrency", type=int, default=48)
    parser.add_argument("--duration", type=float, default=8.0, help="seconds per measured run")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up")
    parser.add_argument("--max-requests", type=int, default=100_000, help="per closed-loop run")
    parser.add_argument("--client", choices=["python", "wrk"], default="python")
    parser.add_argument(
        "--postgresql", action="store_true", help="also the governed path on PostgreSQL"
    )
    parser.add_argument("--no-sqlite", action="store_true", help="skip the governed path on SQLite")
    parser.add_argument(
        "--workers", type=int, default=1, help="uvicorn worker processes (governed)"
    )
    parser.add_argument("--group-wait-ms", type=float, default=None, help="group commit wait")
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="run every server this many times, alternating, and add the median of each number",
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    parser.add_argument(
        "--allow-all-consent",
        action="store_true",
        help="also the governed path (SQLite) with the AllowAll consent hook: no consent queries",
    )
    parser.add_argument(
        "--no-hooks",
        action="store_true",
        help="also the governed path (SQLite) with AllowAll consent and no explanation: the "
        "gateway's own cost (the path as the gateway issue specified it, its hooks empty)",
    )
    parser.add_argument("--client-config", help=argparse.SUPPRESS)
    parser.add_argument("--serve-port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--serve-hooks", choices=HOOKS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client_config:
        client_main(json.loads(args.client_config))
        return
    if args.serve_port:
        serve_with_hooks(args.serve_port, args.serve_hooks)
        return
    if args.client == "wrk" and shutil.which("wrk") is None:
        parser.error("wrk is not installed (apt-get install wrk)")
    args.load_before = _load()
    sys.path.insert(0, str(SRC))
    model = train_model()
    workers = f", {args.workers} workers" if args.workers > 1 else ""
    results: list[dict[str, Any]] = []
    for run in range(1, args.repeat + 1):
        suffix = f" #{run}" if args.repeat > 1 else ""
        with tempfile.TemporaryDirectory(prefix="ethica-gateway-load-") as tmp:
            workdir = Path(tmp)
            results.append(bare(model, args, workdir) | {"name": f"bare endpoint{suffix}"})
            if not args.no_sqlite:
                url = f"sqlite:///{workdir / 'handwritten.db'}"
                name = f"hand-written (SQLite){suffix}"
                results.append(handwritten(name, url, model, args, workdir))
            if not args.no_sqlite:
                url = f"sqlite:///{workdir / 'gateway.db'}"
                name = f"governed (SQLite{workers}){suffix}"
                results.append(governed(name, url, model, args, workdir))
            for hooks, wanted, label in (
                ("allow-all", args.allow_all_consent, "AllowAll"),
                ("none", args.no_hooks, "no hooks"),
            ):
                if wanted:
                    url = f"sqlite:///{workdir / f'{hooks}.db'}"
                    command = [PYTHON, __file__, "--serve-port", "{port}", "--serve-hooks", hooks]
                    name = f"governed, {label}{suffix}"
                    results.append(governed(name, url, model, args, workdir, command))
            if args.postgresql:
                with postgresql_database() as url:
                    name = f"hand-written (PostgreSQL){suffix}"
                    results.append(handwritten(name, url, model, args, workdir))
                with postgresql_database() as url:
                    name = f"governed (PostgreSQL{workers}){suffix}"
                    results.append(governed(name, url, model, args, workdir))
    if args.repeat > 1:
        results += medians(results, args.repeat)
    print(table(results, args))
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=2))


def medians(results: list[dict[str, Any]], runs: int) -> list[dict[str, Any]]:
    """One row per server: the median of each number over the runs (runs alternate servers)."""
    per_run = len(results) // runs
    rows = []
    for i in range(per_run):
        same = results[i::per_run]
        name = same[0]["name"].rsplit(" #", 1)[0] + f", median of {runs}"
        rows.append(
            {
                "name": name,
                "closed": _medians([r["closed"] for r in same]),
                "fixed": _medians([r["fixed"] for r in same]),
            }
        )
    return rows


def _medians(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The median of each number; error statuses are added up."""
    merged: dict[str, Any] = {}
    for key, value in runs[0].items():
        if isinstance(value, dict):
            total: dict[str, int] = {}
            for run in runs:
                for status, count in run.get(key, {}).items():
                    total[status] = total.get(status, 0) + count
            merged[key] = total
        else:
            merged[key] = _median([run[key] for run in runs])
    return merged


def _median(values: list[Any]) -> Any:
    ordered = sorted(values)
    middle = ordered[len(ordered) // 2]
    return int(middle) if isinstance(middle, int) else middle


if __name__ == "__main__":
    main()
