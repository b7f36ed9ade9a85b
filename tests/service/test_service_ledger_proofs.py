"""Signed heads and decision proofs through the service: fetch, keep, check offline, tamper."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from service_testing import Service
from sqlalchemy import update
from typer.testing import CliRunner

from ethica.cli import app as cli
from ethica.ledger import InclusionProof, SignedHead
from ethica.service.db import unit_of_work
from ethica.service.decisions.tables import Decision
from ethica.service.ledger.heads import public_key, witness_path
from ethica.service.ledger.tables import LedgerEntry, LedgerHead
from ethica.service.state import state_of


def _decided(service: Callable[..., Service], count: int) -> tuple[Service, list[str]]:
    running = service(ledger={"checkpoint_every": 4})
    running.register("credit")
    ids = []
    for i in range(count):
        body = {"subject_id": f"cust-{i % 3}", "features": {"income": 5000.0 + i}, "score": 0.7}
        response = running.decide("credit", body)
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    return running, ids


def _proof(running: Service, decision_id: str) -> tuple[int, dict[str, object]]:
    response = running.client.get(
        f"/v1/decisions/{decision_id}/proof", headers=running.headers["officer"]
    )
    return response.status_code, response.json()


def _sign_due(running: Service) -> list[SignedHead]:
    state = state_of(running.app)
    signed: list[SignedHead] = state.writer.run(lambda batch: state.heads.sign_due(batch.session))
    return signed


def test_heads_are_served_and_a_decision_proof_checks_offline(
    service: Callable[..., Service],
) -> None:
    running, ids = _decided(service, 6)
    officer = running.headers["officer"]
    heads = running.client.get("/v1/ledger/heads", headers=officer).json()
    assert [(h["chain"], h["size"]) for h in heads] == [("credit", 4)]
    status, body = _proof(running, ids[1])
    assert status == 200, body
    proof = InclusionProof.from_dict(body)
    key = public_key(running.settings)
    assert proof.verify(key)
    assert proof.head == SignedHead.from_dict(heads[0])
    assert proof.entry is not None and proof.entry.public["decision_id"] == ids[1]
    # Not covered yet: 409 until the heads due by time are signed.
    status, body = _proof(running, ids[5])
    assert status == 409 and "no signed head covers" in json.dumps(body)
    assert [(h.chain, h.size) for h in _sign_due(running)] == [("credit", 6)]
    status, body = _proof(running, ids[5])
    assert status == 200 and InclusionProof.from_dict(body).verify(key)
    every = running.client.get("/v1/ledger/heads", params={"chain": "credit"}, headers=officer)
    assert [h["size"] for h in every.json()] == [4, 6]
    report = running.client.get("/v1/ledger/verification", headers=officer).json()
    assert report["ok"] is True and report["signed_heads_checked"] == 2, report
    assert report["unsigned"] == {}


def test_a_changed_decision_row_or_entry_gets_no_proof_and_is_named(
    service: Callable[..., Service],
) -> None:
    running, ids = _decided(service, 4)
    state = state_of(running.app)
    assert _proof(running, ids[2])[0] == 200
    with unit_of_work(state.sessions) as session:
        session.execute(update(Decision).where(Decision.id == ids[2]).values(ledger_hash="0" * 64))
    status, body = _proof(running, ids[2])
    assert status == 409 and "decision row was altered" in json.dumps(body)
    with unit_of_work(state.sessions) as session:
        session.execute(
            update(LedgerEntry)
            .where(LedgerEntry.chain == "credit", LedgerEntry.sequence == 1)
            .values(kind="review")
        )
    status, body = _proof(running, ids[1])
    assert status == 409 and "was altered" in json.dumps(body)
    report = running.client.get(
        "/v1/ledger/verification", headers=running.headers["officer"]
    ).json()
    assert report["ok"] is False
    assert report["problems"][0].startswith("credit#1 edited"), report


def test_the_witness_file_beside_sqlite_keeps_what_the_database_lost(
    service: Callable[..., Service], database_url: str, tmp_path: Path
) -> None:
    running, _ = _decided(service, 5)
    _sign_due(running)
    path = witness_path(database_url, running.settings.ledger.witness_path)
    if path is None:  # PostgreSQL: no file unless configured
        return
    lines = path.read_text().splitlines()
    assert [json.loads(line)["size"] for line in lines] == [4, 5]
    with unit_of_work(state_of(running.app).sessions) as session:
        session.execute(LedgerHead.__table__.delete())
    report = running.client.get(
        "/v1/ledger/verification", headers=running.headers["officer"]
    ).json()
    assert report["ok"] is False
    assert any("kept by the witness, is missing" in p for p in report["problems"]), report


def test_cli_prove_and_check_proof_offline(
    service: Callable[..., Service], database_url: str, tmp_path: Path
) -> None:
    running, ids = _decided(service, 4)
    runner = CliRunner()
    proved = runner.invoke(cli, ["ledger", "prove", ids[0], "--database", database_url])
    assert proved.exit_code == 0, proved.output
    (tmp_path / "proof.json").write_text(proved.output)
    key = runner.invoke(cli, ["ledger", "public-key", "--database", database_url])
    assert key.exit_code == 0 and "BEGIN PUBLIC KEY" in key.output
    (tmp_path / "key.pem").write_text(key.output)
    args = ["ledger", "check-proof", str(tmp_path / "proof.json")]
    checked = runner.invoke(cli, [*args, "--public-key", str(tmp_path / "key.pem")])
    assert checked.exit_code == 0, checked.output
    assert "credit#0 is in the head of 4 entries" in checked.output
    changed = json.loads(proved.output)
    changed["entry"]["public"]["outcome"] = "approved" if "declined" in proved.output else "x"
    (tmp_path / "proof.json").write_text(json.dumps(changed))
    refused = runner.invoke(cli, [*args, "--public-key", str(tmp_path / "key.pem")])
    assert refused.exit_code == 1 and "was edited" in refused.output


def test_decision_rows_that_differ_from_the_ledger_are_named(
    service: Callable[..., Service],
) -> None:
    running, ids = _decided(service, 4)
    state = state_of(running.app)
    officer = running.headers["officer"]
    recorded = running.client.post(
        f"/v1/decisions/{ids[3]}/outcome",
        json={"outcome": "repaid"},
        headers=running.headers["admin"],
    )
    assert recorded.status_code in (200, 201), recorded.text
    assert running.client.get("/v1/ledger/verification", headers=officer).json()["ok"] is True
    with unit_of_work(state.sessions) as session:
        served = session.get(Decision, ids[0])
        assert served is not None
        flipped = "approved" if served.outcome != "approved" else "declined"
        session.execute(update(Decision).where(Decision.id == ids[0]).values(outcome=flipped))
        session.execute(update(Decision).where(Decision.id == ids[1]).values(ledger_hash="f" * 64))
        session.execute(Decision.__table__.delete().where(Decision.id == ids[2]))
    problems = running.client.get("/v1/ledger/verification", headers=officer).json()["problems"]
    assert any(ids[0] in p and "outcome" in p and "edited" in p for p in problems), problems
    assert any(ids[1] in p and "ledger_hash" in p for p in problems), problems
    assert any(ids[2] in p and "is gone" in p for p in problems), problems
    assert len(problems) == 3, problems
