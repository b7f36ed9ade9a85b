"""Customers' concerns about their decisions: reported, listed, resolved, sealed and erased."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest
from service_testing import Service, bearer
from sqlalchemy import select, text

from ethica.ledger import ErasedError, KeyRing
from ethica.service.app import state_of
from ethica.service.ledger.store import SqlKeyStore, row_entry
from ethica.service.ledger.tables import LedgerEntry

WORDS = "Zyxwv: I was declined although my income doubled last spring."
ANSWER = "Qwpoi: a reviewer re-checked your file with your new income."


def _customer(running: Service, subject: str) -> dict[str, str]:
    response = running.client.post(
        f"/v1/subjects/{subject}/links", json={}, headers=running.headers["admin"]
    )
    assert response.status_code == 201, response.text
    return bearer(response.json()["token"])


def _decision(running: Service, subject: str) -> str:
    body = {"subject_id": subject, "features": {"income": 10.0, "housing": "rent"}, "score": 0.2}
    response = running.decide("credit", body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _report(running: Service, subject: str, decision_id: str, words: str = WORDS) -> Any:
    return running.client.post(
        f"/v1/me/decisions/{decision_id}/concerns",
        json={"text": words},
        headers=_customer(running, subject),
    )


def _open_concerns(running: Service) -> list[dict[str, Any]]:
    response = running.client.get("/v1/concerns", headers=running.headers["officer"])
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def _entry(running: Service, kind: str) -> LedgerEntry:
    with state_of(running.app).sessions() as session:
        return session.scalars(select(LedgerEntry).where(LedgerEntry.kind == kind)).one()


def _opened(running: Service, entry: LedgerEntry) -> dict[str, Any]:
    master = base64.b64decode(running.settings.ledger.master_key.get_secret_value())
    with state_of(running.app).sessions() as session:
        return KeyRing(master, store=SqlKeyStore(session)).open(row_entry(entry))


def test_a_customer_reports_a_concern_and_reads_the_officers_response(
    service: Callable[..., Service],
) -> None:
    running = service()
    running.register("credit")
    decision_id = _decision(running, "alice")
    reported = _report(running, "alice", decision_id)
    assert reported.status_code == 201, reported.text
    concern = reported.json()
    assert (concern["status"], concern["text"], concern["response"]) == ("open", WORDS, None)
    assert concern["decision_id"] == decision_id and concern["subject_id"] == "alice"

    listed = _open_concerns(running)
    assert [(c["id"], c["text"]) for c in listed] == [(concern["id"], WORDS)]

    resolved = running.client.post(
        f"/v1/concerns/{concern['id']}/resolution",
        json={"response": ANSWER},
        headers=running.headers["officer"],
    )
    assert resolved.status_code == 201, resolved.text
    assert resolved.json()["status"] == "resolved"
    assert (resolved.json()["text"], resolved.json()["response"]) == (WORDS, ANSWER)
    assert resolved.json()["resolved_by"].startswith("user:")
    assert _open_concerns(running) == []

    mine = running.client.get("/v1/me/concerns", headers=_customer(running, "alice"))
    assert mine.status_code == 200, mine.text
    assert [(c["status"], c["text"], c["response"]) for c in mine.json()["items"]] == [
        ("resolved", WORDS, ANSWER)
    ]
    everything = running.client.get(
        "/v1/concerns", params={"status": "resolved"}, headers=running.headers["officer"]
    )
    assert [c["response"] for c in everything.json()["items"]] == [ANSWER]
    listed_all = running.client.get(
        "/v1/concerns", params={"status": "all"}, headers=running.headers["officer"]
    )
    assert listed_all.json()["total"] == 1
    wrong = running.client.get(
        "/v1/concerns", params={"status": "closed"}, headers=running.headers["officer"]
    )
    assert wrong.status_code == 422 and "status" in wrong.json()["error"]["message"]

    again = running.client.post(
        f"/v1/concerns/{concern['id']}/resolution",
        json={"response": "twice"},
        headers=running.headers["officer"],
    )
    assert again.status_code == 409
    assert "already resolved" in again.json()["error"]["message"]


def test_the_words_are_sealed_in_the_ledger_and_nowhere_in_the_clear(
    service: Callable[..., Service],
) -> None:
    running = service()
    running.register("credit")
    decision_id = _decision(running, "bob")
    concern = _report(running, "bob", decision_id).json()
    running.client.post(
        f"/v1/concerns/{concern['id']}/resolution",
        json={"response": ANSWER},
        headers=running.headers["officer"],
    )
    reported, resolution = _entry(running, "concern"), _entry(running, "concern_resolution")
    assert reported.chain == resolution.chain == "credit"
    assert json.loads(reported.public)["decision_id"] == decision_id
    assert json.loads(resolution.public)["concern_id"] == concern["id"]
    assert _opened(running, reported) == {"text": WORDS}
    assert _opened(running, resolution) == {"response": ANSWER}
    with state_of(running.app).sessions() as session:
        tables = ("ledger_entries", "concerns", "decisions")
        stored = [session.execute(text(f"SELECT * FROM {t}")).all() for t in tables]
    assert "Zyxwv" not in repr(stored) and "Qwpoi" not in repr(stored)
    verified = running.client.get("/v1/ledger/verification", headers=running.headers["officer"])
    assert verified.json()["ok"] is True, verified.text


def test_only_the_customer_of_a_decision_can_report_a_concern_about_it(
    service: Callable[..., Service],
) -> None:
    running = service()
    running.register("credit")
    decision_id = _decision(running, "carol")
    others = _report(running, "dave", decision_id)
    assert others.status_code == 404
    assert _report(running, "carol", "no-such-decision").status_code == 404
    for words in ("", "   "):
        empty = _report(running, "carol", decision_id, words)
        assert empty.status_code == 422, empty.text
        assert "text" in empty.json()["error"]["message"]
    assert _open_concerns(running) == []
    mine = running.client.get("/v1/me/concerns", headers=_customer(running, "dave")).json()
    assert mine["total"] == 0
    unknown = running.client.post(
        "/v1/concerns/no-such-concern/resolution",
        json={"response": ANSWER},
        headers=running.headers["officer"],
    )
    assert unknown.status_code == 404


def test_erasing_the_customer_deletes_their_concerns_and_shreds_the_words(
    service: Callable[..., Service],
) -> None:
    running = service()
    running.register("credit")
    erin, frank = _decision(running, "erin"), _decision(running, "frank")
    assert _report(running, "erin", erin).status_code == 201
    assert _report(running, "frank", frank, "Frank's own concern.").status_code == 201
    erased = running.client.post("/v1/subjects/erin/erasure", headers=running.headers["officer"])
    assert erased.status_code == 201, erased.text
    assert erased.json()["result"]["concerns_deleted"] == 1
    assert [c["subject_id"] for c in _open_concerns(running)] == ["frank"]
    mine = running.client.get("/v1/me/concerns", headers=_customer(running, "erin")).json()
    assert mine["items"] == []
    with state_of(running.app).sessions() as session:
        entries = session.scalars(select(LedgerEntry).where(LedgerEntry.kind == "concern")).all()
    erins = [e for e in entries if json.loads(e.public)["decision_id"] == erin]
    with pytest.raises(ErasedError):
        _opened(running, erins[0])
    verified = running.client.get("/v1/ledger/verification", headers=running.headers["officer"])
    assert verified.json()["ok"] is True, verified.text
