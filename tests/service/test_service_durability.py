"""Durability of the decision path: what the gateway answered survives ``kill -9``.

``ethica serve`` runs as a real process on a SQLite file (with one worker process, and with two
appending to their own shards of the chains); threads send decisions to it over loopback; the
server is killed with SIGKILL while decisions are in flight and started again on the same file.
Every decision that got a 201 answer must then be in the decision log with the ledger reference
it was answered with, the ledger entry at that reference must name it, and
``ethica ledger verify`` must find every chain intact.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest

from ethica.governance import parse_spec
from ethica.scoring import dump_model
from ethica.service.db import make_engine, session_factory, unit_of_work, upgrade
from ethica.service.systems import service as systems
from ethica.service.users import service as users

pytestmark = pytest.mark.slow

SYSTEM = "durable-credit"
THREADS = 6
FLOW_SECONDS = 2.0  # decisions flow this long before the kill
START_TIMEOUT = 90.0  # the first decision imports LightGBM in the server


def _spec() -> dict[str, Any]:
    return {
        "id": SYSTEM,
        "name": "Credit (durability test)",
        "purpose": "finance",
        "risk_tier": "high",
        "decision": {"kind": "binary", "threshold": 0.5},
        "features": [
            {"name": "income", "type": "number", "data_category": "user.financial"},
            {"name": "debt", "type": "number", "data_category": "user.financial"},
            {
                "name": "housing",
                "type": "category",
                "categories": ["own", "rent"],
                "data_category": "user.demographic",
            },
        ],
        "protected_attributes": [{"name": "sex"}],
        "oversight": {"review_adverse": True},
        "owner": "risk@bank.example",
    }


def _model() -> bytes:
    lightgbm = pytest.importorskip("lightgbm")
    rng = np.random.default_rng(7)
    frame = pd.DataFrame(
        {
            "income": rng.random(400) * 100,
            "debt": rng.random(400) * 50,
            "housing": pd.Categorical(rng.choice(["own", "rent"], 400), categories=["own", "rent"]),
        }
    )
    label = (frame["income"] - frame["debt"] > 30).astype(int)
    model = lightgbm.LGBMClassifier(n_estimators=10, verbose=-1).fit(frame, label)
    return dump_model(model, "lightgbm")


def _prepare(url: str) -> str:
    """Migrate, register the system with its model; return an application key."""
    engine = make_engine(url)
    upgrade(engine)
    with unit_of_work(session_factory(engine)) as session:
        systems.apply_spec(session, spec=parse_spec(_spec()))
        systems.add_model_version(
            session, system_id=SYSTEM, version="1", format="lightgbm", content=_model()
        )
        _, key = users.create_api_key(
            session, name="durability", scopes=["decisions:write", "decisions:read"]
        )
    engine.dispose()
    return key


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ethica() -> list[str]:
    return [sys.executable, "-c", "from ethica.cli import main; main()"]


@contextmanager
def _server(url: str, port: int, log: Path, workers: int) -> Iterator[subprocess.Popen[bytes]]:
    """``ethica serve`` on ``port``; killed (if still alive) when the block ends.

    It leads a process group of its own: :func:`_kill` kills it with all its workers.
    """
    with log.open("ab") as out:
        process = subprocess.Popen(
            [
                *_ethica(),
                "serve",
                "--port",
                str(port),
                "--database",
                url,
                "--workers",
                str(workers),
            ],
            stdout=out,
            stderr=out,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            assert process.poll() is None, f"the server exited: {log.read_text()[-2000:]}"
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.1)
        yield process
    finally:
        _kill(process)


def _kill(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL the server and its workers (the whole process group), mid-flight."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


def _body(thread: int, i: int) -> dict[str, Any]:
    return {
        "subject_id": f"s-{thread}-{i % 7}",
        "features": {
            "income": float((i * 37) % 100),
            "debt": float((i * 11) % 50),
            "housing": "own",
        },
        "protected": {"sex": "F" if i % 2 else "M"},
        # Half the requests carry an idempotency key: both write paths must be durable.
        "idempotency_key": f"k-{thread}-{i}" if i % 2 else None,
    }


def _send_until_killed(
    port: int,
    key: str,
    thread: int,
    stop: threading.Event,
    sent: list[tuple[dict[str, Any], dict[str, Any]]],
) -> None:
    """Send decisions one after another; keep every 201 answer; stop when the server dies."""
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=10) as client:
        i = 0
        while not stop.is_set():
            body = _body(thread, i)
            try:
                response = client.post(f"/v1/systems/{SYSTEM}/decisions", json=body)
            except httpx.TransportError:
                return  # killed: this request got no answer, so it promises nothing
            assert response.status_code == 201, response.text
            sent.append((body, response.json()))
            i += 1


def _ledger_verify(url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*_ethica(), "ledger", "verify", "--database", url],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "200"},
    )


@pytest.mark.parametrize("workers", [1, 2])
def test_every_answered_decision_survives_kill_9(tmp_path: Path, workers: int) -> None:
    path = tmp_path / "durable.db"
    url = f"sqlite:///{path}"
    key = _prepare(url)
    port = _free_port()
    log = tmp_path / "server.log"
    sent: list[tuple[dict[str, Any], dict[str, Any]]] = []  # (request, its 201 answer)
    headers = {"Authorization": f"Bearer {key}"}

    with _server(url, port, log, workers) as process:
        # The first decision loads the model; only then does the timed flow start.
        first = httpx.post(
            f"http://127.0.0.1:{port}/v1/systems/{SYSTEM}/decisions",
            json=_body(99, 0),
            headers=headers,
            timeout=START_TIMEOUT,
        )
        assert first.status_code == 201, first.text
        sent.append((_body(99, 0), first.json()))
        stop = threading.Event()
        threads = [
            threading.Thread(target=_send_until_killed, args=(port, key, t, stop, sent))
            for t in range(THREADS)
        ]
        for thread in threads:
            thread.start()
        time.sleep(FLOW_SECONDS)
        _kill(process)  # mid-flow: requests are in flight
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
            assert not thread.is_alive()

    assert len(sent) > 20, "too few decisions were answered before the kill to test anything"

    with _server(url, port, log, workers):
        # The restarted service continues every chain where the crash left it.
        after = httpx.post(
            f"http://127.0.0.1:{port}/v1/systems/{SYSTEM}/decisions",
            json=_body(100, 1),
            headers=headers,
            timeout=START_TIMEOUT,
        )
        assert after.status_code == 201, after.text
        sent.append((_body(100, 1), after.json()))
        # A retry of an answered request with its idempotency key returns the recorded decision.
        request, first_answer = next(
            (q, a) for q, a in reversed(sent) if q["idempotency_key"] is not None
        )
        retry = httpx.post(
            f"http://127.0.0.1:{port}/v1/systems/{SYSTEM}/decisions",
            json=request,
            headers=headers,
            timeout=30,
        )
        assert retry.status_code == 201, retry.text
        assert retry.json()["id"] == first_answer["id"]
        verification = _ledger_verify(url)

    assert verification.returncode == 0, verification.stdout + verification.stderr

    with sqlite3.connect(path) as db:
        decisions = {
            row[0]: row[1:]
            for row in db.execute(
                "SELECT id, ledger_chain, ledger_sequence, ledger_hash FROM decisions"
            )
        }
        entries = {
            (row[0], row[1]): (row[2], json.loads(row[3]))
            for row in db.execute("SELECT chain, sequence, hash, public FROM ledger_entries")
        }
    answered = [answer for _, answer in sent]
    missing = [d["id"] for d in answered if d["id"] not in decisions]
    assert not missing, f"{len(missing)} answered decisions are not in the log: {missing[:5]}"
    for decision in answered:
        ledger = decision["ledger"]
        assert decisions[decision["id"]] == (ledger["chain"], ledger["sequence"], ledger["hash"])
        entry_hash, public = entries[(ledger["chain"], ledger["sequence"])]
        assert entry_hash == ledger["hash"]
        assert public["decision_id"] == decision["id"]
        assert public["outcome"] == decision["outcome"]
    # Each answer holds its own ledger position: no two answers share one.
    positions = {(d["ledger"]["chain"], d["ledger"]["sequence"]) for d in answered}
    assert len(positions) == len(answered)
