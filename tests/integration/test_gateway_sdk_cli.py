"""An engineer's path end to end: spec from YAML, decisions over HTTP with the SDK and in-process,
the ledger verified from the command line, and the live decision log audited on SQLite and
PostgreSQL with the same numbers as an audit of the rows themselves."""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import ethica
from ethica.cli import app as cli
from ethica.client import ServiceError
from ethica.fairness import audit
from ethica.service.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "examples" / "credit-limit" / "spec.yaml"
runner = CliRunner()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'ethica.db'}"


@pytest.fixture
def fresh_postgresql(postgresql_url: str) -> Iterator[str]:
    import psycopg

    name = f"ethica_it_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgresql_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    base = postgresql_url.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    with psycopg.connect(postgresql_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_systems_apply_registers_a_valid_spec_and_lists_every_problem_of_a_bad_one(
    sqlite_url: str, tmp_path: Path
) -> None:
    done = runner.invoke(cli, ["systems", "apply", str(SPEC), "--database", sqlite_url])
    assert done.exit_code == 0, done.output
    assert "registered system credit-limit" in done.output
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        SPEC.read_text().replace("type: number", "type: numbr").replace("owner:", "ownr:"),
        encoding="utf-8",
    )
    refused = runner.invoke(cli, ["systems", "apply", str(bad), "--database", sqlite_url])
    assert refused.exit_code == 2
    text = " ".join(refused.output.split())
    assert "features[0].type" in text and "features[1].type" in text
    assert "owner: is required" in text and "ownr: is not a known field" in text


def _decide_groups(gateway: Any, n: int = 400) -> pd.DataFrame:
    """Decisions with a built-in gap: group F is scored lower than group M."""
    rng = np.random.default_rng(7)
    rows = []
    for i in range(n):
        sex = "F" if i % 2 else "M"
        age = ["<25", "25-60", "60+"][i % 3]
        score = float(np.clip(rng.normal(0.45 if sex == "F" else 0.6, 0.15), 0, 1))
        decision = gateway.decide(
            "credit-limit",
            features={"income": 30000.0 + i, "debt_to_income": 0.3, "months_since_opened": 12},
            subject_id=f"cust-{i}",
            protected={"sex": sex, "age_band": age},
            score=score,
        )
        rows.append({"sex": sex, "age_band": age, "approved": int(decision.outcome == "approved")})
    return pd.DataFrame(rows)


def _live_audit(url: str) -> dict[str, Any]:
    done = runner.invoke(
        cli,
        ["audit", "--system", "credit-limit", "--since", "30d", "--database", url, "--json"],
    )
    assert done.exit_code == 0, done.output
    return dict(json.loads(done.stdout))


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)]
)
def test_live_decision_log_audit_equals_an_audit_of_the_same_rows(
    backend: str, request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue("sqlite_url" if backend == "sqlite" else "fresh_postgresql")
    with ethica.Gateway(url, seed=1) as gateway:
        gateway.register(SPEC)
        expected = _decide_groups(gateway)
    live = _live_audit(url)
    direct = audit(expected, prediction="approved", sensitive_features=["sex", "age_band"])
    assert live["rows"] == len(expected)
    for grouping in ("sex", "age_band", "sex × age_band"):
        ours = pd.DataFrame(live["groupings"][grouping]["metrics"])
        theirs = direct.by_group(grouping).reset_index()
        assert ours["count"].tolist() == theirs["count"].tolist()
        np.testing.assert_allclose(
            ours["selection_rate"], theirs["selection_rate"], rtol=0, atol=1e-12
        )
    gap = next(f for f in live["findings"] if f["group"] == "F" and f["metric"] == "selection_rate")
    assert gap["severity"] == "material and significant"


def test_ledger_verify_on_the_command_line_catches_an_edited_entry(sqlite_url: str) -> None:
    with ethica.Gateway(sqlite_url, seed=1) as gateway:
        gateway.register(SPEC)
        _decide_groups(gateway, n=20)
    ok = runner.invoke(cli, ["ledger", "verify", "--database", sqlite_url])
    assert ok.exit_code == 0, ok.output
    assert "20 entries" in ok.output
    import sqlite3

    path = sqlite_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as connection:
        connection.execute(
            "UPDATE ledger_entries SET public = replace(public, '\"declined\"', '\"approved\"') "
            "WHERE sequence = 7"
        )
        connection.execute(
            "UPDATE ledger_entries SET public = replace(public, '\"approved\"', '\"declined\"') "
            "WHERE sequence = 7 AND public NOT LIKE '%\"declined\"%'"
        )
    broken = runner.invoke(cli, ["ledger", "verify", "--database", sqlite_url])
    assert broken.exit_code == 1
    assert "credit-limit#7 edited" in " ".join(broken.output.split())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(sqlite_url: str) -> Iterator[tuple[str, str]]:
    """The service over real HTTP on loopback, with the example system and an app key."""
    import uvicorn

    from ethica.service.app import create_app, state_of
    from ethica.service.db import unit_of_work
    from ethica.service.users import service as users

    app = create_app(Settings(database={"url": sqlite_url}))
    with ethica.Gateway(sqlite_url) as embedded:
        embedded.register(SPEC)
    with unit_of_work(state_of(app).sessions) as session:
        _, key = users.create_api_key(
            session, name="app", scopes=["decisions:write", "decisions:read", "outcomes:write"]
        )
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    yield f"http://127.0.0.1:{port}", key
    server.should_exit = True
    thread.join(timeout=20)


def test_sdk_decides_retries_safely_records_outcomes_and_reports_errors(
    server: tuple[str, str],
) -> None:
    url, key = server
    features = {"income": 52000.0, "debt_to_income": 0.2, "months_since_opened": 40}
    with ethica.Client(url, api_key=key) as client:
        first = client.decide(
            "credit-limit",
            features=features,
            subject_id="cust-9",
            score=0.8,
            idempotency_key="req-1",
        )
        again = client.decide(
            "credit-limit",
            features=features,
            subject_id="cust-9",
            score=0.8,
            idempotency_key="req-1",
        )
        assert again["id"] == first["id"]
        assert first["outcome"] == "approved" and first["final"] is True
        assert first["data"]["withheld"] == [{"feature": "late_payments", "reason": "not provided"}]
        with pytest.raises(ServiceError) as conflict:
            client.decide("credit-limit", features=features, score=0.1, idempotency_key="req-1")
        assert conflict.value.status == 409
        low = client.decide("credit-limit", features=features, subject_id="cust-9", score=0.2)
        assert low["outcome"] == "declined"
        assert low["review"] == {
            "status": "pending_review",
            "reason": "adverse outcome of a high-risk system",
        }
        assert client.record_outcome(first["id"], "repaid")["true_outcome"] == "repaid"
        listed = client.decisions(system_id="credit-limit", subject_id="cust-9")
        assert listed["total"] == 2
        with pytest.raises(ServiceError) as missing:
            client.decide("no-such-system", features=features, score=0.5)
        assert missing.value.status == 404
        with pytest.raises(ServiceError) as wrong_type:
            client.decide("credit-limit", features={**features, "income": "lots"}, score=0.5)
        assert wrong_type.value.status == 422 and "income" in wrong_type.value.message
    with (
        ethica.Client(url, api_key="ek_0000_wrong") as stranger,
        pytest.raises(ServiceError) as denied,
    ):
        stranger.decide("credit-limit", features=features, score=0.5)
    assert denied.value.status == 401
