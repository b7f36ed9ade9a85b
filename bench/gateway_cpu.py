"""CPU time per decision of the governed path, in-process: the gateway alone, and the ASGI app.

Where ``gateway_load.py`` drives ``ethica serve`` over loopback (throughput, latency), this
runs the same decisions (same model, system and requests) inside one process, without sockets
or a load generator, and reports the process's CPU time (user + system, every thread) per
decision, which other load on a shared machine disturbs far less than throughput:

- **gateway**: ``Gateway.submit`` with ``--concurrency`` decisions in flight (consent, minimization,
  scoring, explanation, routing, the ledger entry and rows committed durably);
- **app**: the same through the ASGI app (``create_app``: middleware, routing, auth, parsing,
  the answer's JSON), ``--concurrency`` requests in flight on one event loop;
- **HTTP layer**: the difference.

``--phases`` adds a table of the gateway's CPU per decision by phase (consent, minimization,
scoring, attributions, counterfactuals, sentences, the ledger entry, the rows' insert, the
commit, ...): each phase's function is wrapped to add up its decision thread's CPU time
(``time.thread_time``), less that of the phases it calls. The wrappers cost about a
microsecond per call; the TreeSHAP helper thread's share of the attributions is not counted
there (it is in the process totals above).

Each source tree given with ``--src`` (default: this checkout's ``src``) runs in its own
process, alternating ``--repeat`` times; the table shows the medians, so two versions can be
compared side by side under the same load:

    .venv/bin/python bench/gateway_cpu.py
    .venv/bin/python bench/gateway_cpu.py --src /tmp/before/src --src src --repeat 3
    .venv/bin/python bench/gateway_cpu.py --postgresql
    .venv/bin/python bench/gateway_cpu.py --src /tmp/before/src --src src --repeat 3 --phases
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import importlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

# The phases of --phases: (module, function or Class.method, label). A name a source tree does
# not have is left out of its column; "(rest)" is the function's own time beyond its phases.
PHASES = [
    ("ethica.service.decisions.gateway", "Gateway._decide_group", "batch (rest: consent, ...)"),
    ("ethica.service.decisions.idempotency", "IdempotencyKeys.to_decide", "idempotency keys"),
    ("ethica.service.decisions.gateway", "Gateway._prepare", "prepare (rest)"),
    ("ethica.service.decisions.gateway", "minimize", "minimize"),
    ("ethica.service.decisions.gateway", "Gateway._score", "score"),
    ("ethica.service.decisions.gateway", "route", "oversight routing"),
    ("ethica.service.decisions.gateway", "Gateway._explain_many", "explain (rest)"),
    ("ethica.explain._explainer", "attribute_many", "explain: attributions"),
    ("ethica.explain._explainer", "Explainer._explained", "explain: reasons (rest)"),
    ("ethica.explain._explainer", "reason_text", "explain: reason sentences"),
    ("ethica.explain._explainer", "counterfactuals", "explain: counterfactuals"),
    ("ethica.explain._explainer", "counterfactual_text", "explain: counterfactual sentences"),
    ("ethica.service.ledger.writer", "LedgerWriter._commit", "write (rest)"),
    ("ethica.service.ledger.writer", "_prefetch", "write: key prefetch"),
    ("ethica.service.decisions.record", "PreparedDecision.record", "record (rest)"),
    ("ethica.service.decisions.record", "protected_mac", "record: protected values' MAC"),
    ("ethica.ledger", "Ledger.append", "record: ledger entry"),
    ("ethica.service.ledger.writer", "LedgerWriter._flush", "write: rows inserted"),
    ("sqlalchemy.orm", "Session.commit", "write: commit"),
]


class PhaseClock:
    """Adds up the CPU time of each wrapped function on its thread, less its wrapped callees."""

    def __init__(self) -> None:
        self.seconds: Counter[str] = Counter()
        self._open = threading.local()

    def wrap_all(self) -> None:
        """Wrap every phase of :data:`PHASES` that this source tree has."""
        for module_name, path, label in PHASES:
            owner: Any = importlib.import_module(module_name)
            *outer, name = path.split(".")
            for part in outer:
                owner = getattr(owner, part, None)
            if owner is not None and callable(getattr(owner, name, None)):
                setattr(owner, name, self._wrapped(getattr(owner, name), label))

    def _wrapped(self, function: Any, label: str) -> Any:
        @functools.wraps(function)
        def timed(*args: Any, **kwargs: Any) -> Any:
            stack = self._open.__dict__.setdefault("stack", [])
            stack.append(0.0)  # the time of the wrapped phases it calls
            started = time.thread_time()
            try:
                return function(*args, **kwargs)
            finally:
                spent = time.thread_time() - started
                self.seconds[label] += spent - stack.pop()
                if stack:
                    stack[-1] += spent

        return timed


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure(url: str, *, decisions: int, concurrency: int, phases: bool) -> dict[str, float]:
    """CPU ms per decision, gateway alone and through the app (runs in the measured process)."""
    import gateway_load as bench

    clock = PhaseClock()
    if phases:
        clock.wrap_all()

    key = bench.prepare_database(url, bench.train_model())
    os.environ["ETHICA__DATABASE__URL"] = url
    from ethica.service.app import create_app, state_of
    from ethica.service.decisions.schemas import DecisionCreate

    app = create_app()
    gateway = state_of(app).gateway
    bodies = bench.request_bodies(4096, seed=1)
    requests = [DecisionCreate.model_validate_json(body) for body in bodies]

    def through_gateway(count: int, offset: int) -> None:
        pending: list[Any] = []
        for i in range(offset, offset + count):
            pending.append(gateway.submit(bench.SYSTEM_ID, requests[i % len(requests)]))
            if len(pending) >= concurrency:
                pending.pop(0).result()
        for future in pending:
            future.result()

    headers = [
        (b"host", b"bench"),
        (b"authorization", f"Bearer {key}".encode()),
        (b"content-type", b"application/json"),
    ]

    async def one(body: bytes) -> None:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": f"/v1/systems/{bench.SYSTEM_ID}/decisions",
            "raw_path": b"",
            "root_path": "",
            "query_string": b"",
            "headers": [*headers, (b"content-length", str(len(body)).encode())],
            "client": ("127.0.0.1", 1),
            "server": ("127.0.0.1", 2),
            "state": {},
        }
        messages = [{"type": "http.request", "body": body, "more_body": False}]
        statuses: list[int] = []

        async def receive() -> Any:
            if messages:
                return messages.pop()
            await asyncio.sleep(3600)  # the client never disconnects

        async def send(message: Any) -> None:
            if message["type"] == "http.response.start":
                statuses.append(message["status"])

        await app(scope, receive, send)
        if statuses != [201]:
            raise RuntimeError(f"the app answered {statuses}")

    async def through_app(count: int, offset: int) -> None:
        slots = asyncio.Semaphore(concurrency)

        async def limited(body: bytes) -> None:
            async with slots:
                await one(body)

        await asyncio.gather(*(limited(bodies[(offset + i) % len(bodies)]) for i in range(count)))

    async def app_run() -> float:
        async with app.router.lifespan_context(app):
            await through_app(200, 0)  # warm
            start = _cpu_seconds()
            await through_app(decisions, 11)
            return (_cpu_seconds() - start) / decisions * 1000

    through_gateway(300, 0)  # warm: the model loads, the explainer compiles
    clock.seconds.clear()
    start = _cpu_seconds()
    through_gateway(decisions, 300)
    gateway_ms = (_cpu_seconds() - start) / decisions * 1000
    by_phase = {f"phase:{k}": v / decisions * 1000 for k, v in clock.seconds.items()}
    app_ms = asyncio.run(app_run())
    return {"gateway_ms": gateway_ms, "app_ms": app_ms, "http_ms": app_ms - gateway_ms, **by_phase}


def run_one(src: str, database: str, args: argparse.Namespace) -> dict[str, float]:
    """Measure one source tree in a fresh process on a fresh database."""
    config = {
        "src": src,
        "database": database,
        "n": args.decisions,
        "c": args.concurrency,
        "phases": args.phases,
    }
    out = subprocess.run(
        [sys.executable, __file__, "--measure", json.dumps(config)],
        env={**os.environ, "PYTHONPATH": os.pathsep.join([src, str(ROOT / "bench")])},
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--src", action="append", help="an ethica source tree (repeatable)")
    parser.add_argument("--decisions", type=int, default=1500, help="measured per part")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--postgresql", action="store_true", help="PostgreSQL, not SQLite")
    parser.add_argument("--phases", action="store_true", help="add the gateway's CPU by phase")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        config = json.loads(args.measure)
        sys.path.insert(0, config["src"])
        result = measure(
            config["database"],
            decisions=config["n"],
            concurrency=config["c"],
            phases=config.get("phases", False),
        )
        print(json.dumps(result))
        return
    sys.path.insert(0, str(ROOT / "bench"))
    import gateway_load as bench

    sources = args.src or [str(ROOT / "src")]
    load_before = _load()
    runs: dict[str, list[dict[str, float]]] = {src: [] for src in sources}
    for _ in range(args.repeat):
        for src in sources:  # alternating, so that load changes hit every tree alike
            with tempfile.TemporaryDirectory(prefix="ethica-gateway-cpu-") as tmp:
                if args.postgresql:
                    with bench.postgresql_database() as url:
                        runs[src].append(run_one(src, url, args))
                else:
                    runs[src].append(run_one(src, f"sqlite:///{tmp}/gateway.db", args))
            totals = {k: round(v, 3) for k, v in runs[src][-1].items() if ":" not in k}
            print(f"  {src}: {totals}", file=sys.stderr)
    database = "PostgreSQL" if args.postgresql else "SQLite"
    head = f"{'source tree':<44}{'gateway ms':>12}{'app ms':>10}{'HTTP layer ms':>15}"
    lines = [head, "-" * len(head)]
    for src, results in runs.items():
        medians = {
            k: statistics.median(r[k] for r in results) for k in ("gateway_ms", "app_ms", "http_ms")
        }
        lines.append(
            f"{src[-44:]:<44}{medians['gateway_ms']:>12.2f}{medians['app_ms']:>10.2f}"
            f"{medians['http_ms']:>15.2f}"
        )
    lines.append(
        f"CPU ms per decision (process user + system, every thread), median of {args.repeat}; "
        f"{database}, {args.decisions} decisions per part, {args.concurrency} in flight; "
        f"{os.cpu_count()} cores; load average before / after: {load_before} / {_load()}."
    )
    if args.phases:
        lines += ["", *_phase_table(runs, args.repeat)]
    print("\n".join(lines))


def _phase_table(runs: dict[str, list[dict[str, float]]], repeat: int) -> list[str]:
    """The gateway's CPU per decision by phase, one column per source tree (medians)."""
    labels = [label for _, _, label in PHASES]
    head = f"{'phase (decision thread, CPU us per decision)':<46}" + "".join(
        f"{Path(src).parent.name[-14:]:>16}" for src in runs
    )
    lines = [head, "-" * len(head)]
    for label in [*labels, "sum of the phases"]:
        cells = []
        for results in runs.values():
            if label == "sum of the phases":
                values = [sum(v for k, v in r.items() if k.startswith("phase:")) for r in results]
            else:
                values = [r[f"phase:{label}"] for r in results if f"phase:{label}" in r]
            cells.append(f"{statistics.median(values) * 1000:>16.0f}" if values else f"{'-':>16}")
        lines.append(f"{label:<46}" + "".join(cells))
    lines.append(f"median of {repeat}; a phase's own time, less the phases it calls.")
    return lines


if __name__ == "__main__":
    started = time.monotonic()
    main()
    print(f"({time.monotonic() - started:.0f} s)", file=sys.stderr)
