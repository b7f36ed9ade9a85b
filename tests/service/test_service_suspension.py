"""The kill switch: suspending and resuming a system, on the API, in Python and on the CLI."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from service_testing import Service
from sqlalchemy import select
from typer.testing import CliRunner

from ethica.cli import app as cli
from ethica.service.app import state_of
from ethica.service.errors import ConflictError
from ethica.service.ledger.tables import LedgerEntry
from ethica.service.systems import suspension
from ethica.service.systems.tables import System

runner = CliRunner()
APPLICANT = {"subject_id": "s-1", "features": {"income": 90.0, "housing": "own"}, "score": 0.9}


def _suspend(running: Service, system_id: str = "credit", **body: Any) -> Any:
    return running.client.post(
        f"/v1/systems/{system_id}/suspension",
        json=body or {"reason": "drift alert on the approval rate"},
        headers=running.headers["officer"],
    )


def _resume(running: Service, system_id: str = "credit", **body: Any) -> Any:
    return running.client.post(
        f"/v1/systems/{system_id}/resumption",
        json=body or {"reason": "model retrained and re-audited"},
        headers=running.headers["officer"],
    )


def _entries(running: Service, chain: str, *kinds: str) -> list[LedgerEntry]:
    with state_of(running.app).sessions() as session:
        return list(
            session.scalars(
                select(LedgerEntry)
                .where(LedgerEntry.chain == chain, LedgerEntry.kind.in_(kinds))
                .order_by(LedgerEntry.sequence)
            )
        )


def test_a_suspended_system_holds_every_decision_for_a_person_until_resumed(
    service: Callable[..., Service],
) -> None:
    running = service()
    running.register("credit", risk_tier="limited")
    before = running.decide("credit", APPLICANT)
    assert before.status_code == 201, before.text
    assert before.json()["review"]["status"] == "automatic"

    suspended = _suspend(running)
    assert suspended.status_code == 201, suspended.text
    change = suspended.json()
    assert (change["act"], change["status"]) == ("suspension", "suspended")
    assert change["reason"] == "drift alert on the approval rate"
    assert change["by"].startswith("user:")
    system = running.client.get("/v1/systems/credit", headers=running.headers["officer"])
    assert system.json()["status"] == "suspended"

    held = running.decide("credit", APPLICANT)
    assert held.status_code == 201, held.text
    decision = held.json()
    # No fallback declared: the score the caller sent is not used, a person decides.
    assert decision["outcome"] == "pending" and decision["scored_by"] == "none"
    assert decision["score"] is None
    assert decision["review"] == {
        "status": "pending_review",
        "reason": "the system is suspended; a person decides",
    }
    listed = running.client.get(
        "/v1/decisions",
        params={"review_status": "pending_review"},
        headers=running.headers["officer"],
    ).json()
    assert [d["id"] for d in listed["items"]] == [decision["id"]]

    resumed = _resume(running)
    assert resumed.status_code == 201, resumed.text
    assert resumed.json()["status"] == "active"
    after = running.decide("credit", APPLICANT)
    assert after.json()["review"]["status"] == "automatic"
    assert after.json()["outcome"] == "approved"

    entries = _entries(running, "credit", "suspension", "resumption")
    assert [e.kind for e in entries] == ["suspension", "resumption"]
    recorded = [json.loads(e.public) for e in entries]
    assert recorded[0]["reason"] == "drift alert on the approval rate"
    assert recorded[1]["reason"] == "model retrained and re-audited"
    assert recorded[0]["by"] == change["by"] and recorded[0]["status"] == "suspended"
    assert [e.sequence for e in entries] == [
        change["ledger"]["sequence"],
        resumed.json()["ledger"]["sequence"],
    ]
    verified = running.client.get("/v1/ledger/verification", headers=running.headers["officer"])
    assert verified.status_code == 200 and verified.json()["ok"] is True, verified.text


def test_a_suspended_system_with_a_fallback_answers_with_it_and_still_holds_it(
    service: Callable[..., Service],
) -> None:
    running = service()
    running.register("credit", risk_tier="limited", fallback={"outcome": "declined"})
    assert _suspend(running).status_code == 201
    held = running.decide("credit", APPLICANT)
    assert held.status_code == 201, held.text
    decision = held.json()
    assert (decision["outcome"], decision["scored_by"]) == ("declined", "fallback")
    assert decision["review"]["status"] == "pending_review"
    assert decision["review"]["reason"] == "the system is suspended; a person decides"
    assert decision["explanation"] == {
        "method": "fallback",
        "text": suspension.SUSPENDED_FALLBACK_TEXT,
    }
    assert decision["final"] is False


def test_suspending_twice_or_resuming_an_active_system_is_a_conflict(
    service: Callable[..., Service],
) -> None:
    running = service()
    running.register("credit")
    not_suspended = _resume(running)
    assert not_suspended.status_code == 409
    assert not_suspended.json()["error"]["message"] == "system 'credit' is already active"
    assert _suspend(running).status_code == 201
    again = _suspend(running)
    assert again.status_code == 409
    assert again.json()["error"]["message"] == "system 'credit' is already suspended"
    assert len(_entries(running, "credit", "suspension", "resumption")) == 1


def test_a_suspension_needs_a_reason_and_an_existing_system(
    service: Callable[..., Service],
) -> None:
    running = service()
    running.register("credit")
    for body in ({}, {"reason": ""}):
        response = running.client.post(
            "/v1/systems/credit/suspension", json=body, headers=running.headers["officer"]
        )
        assert response.status_code == 422, response.text
        assert "reason" in response.json()["error"]["message"]
    blank = _suspend(running, reason="   ")
    assert blank.status_code == 422 and "needs a reason" in blank.json()["error"]["message"]
    missing = _suspend(running, "no-such-system")
    assert missing.status_code == 404
    system = running.client.get("/v1/systems/credit", headers=running.headers["officer"])
    assert system.json()["status"] == "active"


def test_the_service_functions_run_as_writer_jobs_from_python(
    service: Callable[..., Service],
) -> None:
    running = service()
    running.register("credit")
    writer = state_of(running.app).gateway.writer
    change = writer.run(
        lambda batch: suspension.suspend(
            batch, system_id="credit", reason="incident 42", by="user:ops"
        )
    )
    assert (change.status, change.by) == ("suspended", "user:ops")
    with pytest.raises(ConflictError, match="already suspended"):
        writer.run(
            lambda batch: suspension.suspend(batch, system_id="credit", reason="again", by="x")
        )
    resumed = writer.run(
        lambda batch: suspension.resume(batch, system_id="credit", reason="fixed", by="user:ops")
    )
    assert resumed.status == "active"
    with state_of(running.app).sessions() as session:
        assert session.get(System, "credit").status == "active"  # type: ignore[union-attr]


def test_the_cli_suspends_and_resumes_a_system(
    service: Callable[..., Service], database_url: str
) -> None:
    running = service()
    running.register("credit", risk_tier="limited")
    base = ["systems", "suspend", "credit", "--database", database_url]
    result = runner.invoke(cli, [*base, "--reason", "regulator's request"])
    assert result.exit_code == 0, result.output
    assert "suspended" in result.output
    again = runner.invoke(cli, [*base, "--reason", "twice"])
    assert again.exit_code == 2 and "already suspended" in again.output
    # The running gateway reloads the system on its next refresh; make that now.
    state_of(running.app).gateway.forget_system("credit")
    held = running.decide("credit", APPLICANT).json()
    assert held["review"]["status"] == "pending_review"
    resumed = runner.invoke(
        cli,
        ["systems", "resume", "credit", "--reason", "cleared", "--database", database_url],
    )
    assert resumed.exit_code == 0, resumed.output
    entries = _entries(running, "credit", "suspension", "resumption")
    assert [json.loads(e.public)["by"] for e in entries] == ["cli", "cli"]
