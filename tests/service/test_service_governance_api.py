"""The governance API: a system's obligations register and its serious incidents as JSON, read
with ``governance:read`` alone (an auditor's key), incidents opened and stepped with
``incidents:write``; bad input answered 4xx with what to fix, and nothing written. SQLite and
PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from service_testing import Service
from test_service_governance import APPLICANT, CREDIT

from ethica.service.app import state_of
from ethica.service.db import utcnow
from ethica.service.governance import incidents
from ethica.service.ledger.store import SqlEntryStore

HARM = {"harm": "fundamental-rights", "description": "Declines clustered in one district."}


def _incident_entries(running: Service) -> int:
    with state_of(running.app).sessions() as session:
        return sum(e.kind == incidents.INCIDENT for e in SqlEntryStore(session).entries("credit"))


def test_an_auditors_key_reads_the_register_and_incidents_and_writes_nothing(
    service: Callable[..., Service],
) -> None:
    running = service()
    running.register("credit", **CREDIT)
    running.register("bare", name="No facts")
    assert running.decide("credit", APPLICANT).status_code == 201
    auditor = running.api_key("governance:read")

    register = running.client.get("/v1/systems/credit/obligations", headers=auditor)
    assert register.status_code == 200, register.text
    body = register.json()
    assert body["system"] == "credit" and body["tier"] == "high"
    assert body["today"] == utcnow().date().isoformat()
    rows = {row["obligation"]: row for row in body["obligations"]}
    twelve = rows["ai-act-12"]
    assert twelve["status"] == "met" and twelve["citation"] == "AI Act Art. 12"
    assert twelve["reason"].startswith("the ledger verifies:")
    with state_of(running.app).sessions() as session:
        head = SqlEntryStore(session).head("credit")
    assert twelve["refs"] == [{"chain": "credit", "sequence": head.sequence, "hash": head.hash}]
    assert rows["ai-act-9"]["status"] == "missing"
    assert sum(body["counts"].values()) == len(rows)

    bare = running.client.get("/v1/systems/bare/obligations", headers=auditor)
    assert bare.status_code == 404
    assert "declares no AI Act facts (ai_act); add them with PUT /v1/systems/bare" in bare.text
    unknown = running.client.get("/v1/systems/nowhere/obligations", headers=auditor)
    assert unknown.status_code == 404

    listed = running.client.get("/v1/systems/credit/incidents", headers=auditor)
    assert listed.status_code == 200 and listed.json() == {"items": [], "total": 0}
    # Least privilege: the auditor opens nothing; an officer's key scope set does not read.
    refused = running.client.post("/v1/systems/credit/incidents", json=HARM, headers=auditor)
    assert refused.status_code == 403
    reader = running.api_key("decisions:read")
    assert running.client.get("/v1/systems/credit/obligations", headers=reader).status_code == 403
    assert _incident_entries(running) == 0


def test_an_officer_opens_an_incident_reports_it_and_the_register_follows(
    service: Callable[..., Service],
) -> None:
    running = service()
    running.register("credit", **CREDIT)
    officer = running.headers["officer"]
    aware = (utcnow() - timedelta(days=3)).replace(microsecond=0)

    opened = running.client.post(
        "/v1/systems/credit/incidents",
        json={**HARM, "harm": "widespread-infringement", "aware_at": aware.isoformat()},
        headers=officer,
    )
    assert opened.status_code == 201, opened.text
    incident = opened.json()
    assert incident["id"] == f"credit-{aware:%Y%m%d}-1"
    assert incident["overdue"] is True and incident["clock"].startswith("overdue by 1 days")
    assert incident["deadline"].startswith((aware + timedelta(days=2)).date().isoformat())
    assert incident["report_fields"]["authority notified"] is None
    assert [e["step"] for e in incident["events"]] == ["opened"]
    assert incident["events"][0]["ref"]["chain"] == "credit"
    auditor = running.api_key("governance:read")
    row = _row(running, "ai-act-73", auditor)
    assert row["status"] == "overdue" and incident["id"] in row["reason"]

    stepped = running.client.post(
        f"/v1/systems/credit/incidents/{incident['id']}/steps",
        json={"step": "report", "note": "sent to the authority"},
        headers=officer,
    )
    assert stepped.status_code == 201, stepped.text
    assert stepped.json()["clock"].endswith("UTC (late)")
    closed = running.client.post(
        f"/v1/systems/credit/incidents/{incident['id']}/steps",
        json={"step": "closed"},
        headers=officer,
    )
    assert closed.status_code == 201 and closed.json()["closed"] is True
    listed = running.client.get("/v1/systems/credit/incidents", headers=auditor).json()
    assert listed["total"] == 1
    assert [e["step"] for e in listed["items"][0]["events"]] == ["opened", "report", "closed"]
    assert [e["by"] for e in listed["items"][0]["events"]][0].startswith("user:")
    assert _incident_entries(running) == 3


def _row(running: Service, key: str, headers: dict[str, str]) -> dict[str, object]:
    body = running.client.get("/v1/systems/credit/obligations", headers=headers).json()
    return next(row for row in body["obligations"] if row["obligation"] == key)


def test_bad_incidents_are_refused_with_what_to_fix_and_nothing_is_written(
    service: Callable[..., Service],
) -> None:
    running = service()
    running.register("credit", **CREDIT)
    officer = running.headers["officer"]
    post = running.client.post
    future = (utcnow() + timedelta(days=1)).isoformat()
    cases = [
        ({**HARM, "harm": "boredom"}, 422, "unknown harm 'boredom'; use one of: death, health"),
        ({**HARM, "source": "alert"}, 422, "an incident opened from a alert names it"),
        ({**HARM, "description": ""}, 422, "description"),
        ({**HARM, "description": "   "}, 422, "say what happened"),
        ({**HARM, "aware_at": future}, 422, "is in the future"),
        ({**HARM, "aware_at": "2026-12-01T10:00:00"}, 422, "timezone"),
        ({**HARM, "source": "rumour"}, 422, "source"),
        ({**HARM, "extra": 1}, 422, "extra"),
    ]
    for body, status, words in cases:
        answer = post("/v1/systems/credit/incidents", json=body, headers=officer)
        assert answer.status_code == status, (body, answer.text)
        assert words in answer.text, (body, answer.text)
    unknown = post("/v1/systems/nowhere/incidents", json=HARM, headers=officer)
    assert unknown.status_code == 404
    assert _incident_entries(running) == 0

    opened = post("/v1/systems/credit/incidents", json=HARM, headers=officer).json()
    steps = f"/v1/systems/credit/incidents/{opened['id']}/steps"
    assert post(steps, json={"step": "opened"}, headers=officer).status_code == 422
    missing = post(
        "/v1/systems/credit/incidents/none/steps", json={"step": "report"}, headers=officer
    )
    assert missing.status_code == 404 and "credit has no incident 'none'" in missing.text
    assert post(steps, json={"step": "closed"}, headers=officer).status_code == 201
    again = post(steps, json={"step": "report"}, headers=officer)
    assert again.status_code == 422 and "is closed; open a new one" in again.text
    assert _incident_entries(running) == 2


def test_the_governance_routes_are_documented_in_openapi(service: Callable[..., Service]) -> None:
    running = service()
    schema = running.client.get("/openapi.json").json()
    paths = schema["paths"]
    register = paths["/v1/systems/{system_id}/obligations"]["get"]
    assert register["operationId"] == "get_obligations_register"
    assert "404 when the system is unknown" in register["description"]
    assert register["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/RegisterRead"
    )
    opened = paths["/v1/systems/{system_id}/incidents"]["post"]
    assert "201" in opened["responses"] and "422" in opened["responses"]
    harm = schema["components"]["schemas"]["IncidentCreate"]["properties"]["harm"]
    assert "death, health, critical-infrastructure" in harm["description"]
