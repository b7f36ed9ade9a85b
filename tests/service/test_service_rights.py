"""Data subjects' rights: access export, erasure by crypto-shredding, deadlines, retention."""

from __future__ import annotations

import base64
import subprocess
import time
from collections.abc import Callable
from concurrent.futures import Future
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from service_testing import Service, bearer
from sqlalchemy import select, text, update
from typer.testing import CliRunner

from ethica.cli import app as cli
from ethica.ledger import ErasedError, KeyRing
from ethica.service.app import state_of
from ethica.service.db import unit_of_work
from ethica.service.decisions.idempotency import Waiting
from ethica.service.decisions.protected import session_cipher
from ethica.service.decisions.record import PreparedDecision
from ethica.service.decisions.retention import months_before
from ethica.service.decisions.schemas import DecisionCreate
from ethica.service.decisions.tables import Decision, ProtectedValue
from ethica.service.ledger.store import SqlKeyStore, row_entry
from ethica.service.ledger.tables import LedgerEntry
from ethica.service.reviews.history import case_history
from ethica.service.reviews.tables import Review
from ethica.service.subjects import service as subjects

INCOME = 987654.321
ORIGIN = "Zyxwv-origin"


def _customer(running: Service, subject: str) -> dict[str, str]:
    response = running.client.post(
        f"/v1/subjects/{subject}/links", json={}, headers=running.headers["admin"]
    )
    assert response.status_code == 201, response.text
    return bearer(response.json()["token"])


def _decide(
    running: Service,
    subject: str,
    *,
    income: float = 10.0,
    origin: str = "a",
    system: str = "credit",
) -> dict[str, Any]:
    response = running.decide(
        system,
        {
            "subject_id": subject,
            "features": {"income": income, "housing": "rent"},
            "protected": {"sex": origin},
            "score": 0.7,
        },
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_the_export_holds_appeals_in_the_customers_words_reviews_and_concerns(
    service: Callable[..., Service],
) -> None:
    running = service()
    running.register("credit")
    made = _decide(running, "alice")
    customer = _customer(running, "alice")
    appealed = running.client.post(
        f"/v1/me/decisions/{made['id']}/appeal",
        json={"statement": "My income doubled in March."},
        headers=customer,
    )
    assert appealed.status_code in (200, 201), appealed.text
    reviewer = running.headers["reviewer"]
    assert (
        running.client.post(f"/v1/reviews/{made['id']}/claim", headers=reviewer).status_code == 200
    )
    confirmed = running.client.post(
        f"/v1/reviews/{made['id']}/decision",
        json={"action": "confirm", "comment": "Income checked: unchanged."},
        headers=reviewer,
    )
    assert confirmed.status_code == 201, confirmed.text
    concern = running.client.post(
        f"/v1/me/decisions/{made['id']}/concerns",
        json={"text": "Nobody called me back."},
        headers=customer,
    )
    assert concern.status_code == 201, concern.text

    export = running.client.get("/v1/me/export", headers=customer).json()
    steps = [(r["kind"], r["decision_id"]) for r in export["reviews"]]
    assert steps == [("appeal", made["id"]), ("confirm", made["id"])]
    assert export["reviews"][0]["statement"] == "My income doubled in March."
    assert export["reviews"][1]["comment"] == "Income checked: unchanged."
    assert "reviewer_id" not in export["reviews"][1] and "actor" not in export["reviews"][1]
    assert [(c["text"], c["status"]) for c in export["concerns"]] == [
        ("Nobody called me back.", "open")
    ]
    page = running.client.get("/v1/me/export", params={"format": "html"}, headers=customer)
    assert "My income doubled in March." in page.text and "Nobody called me back." in page.text


def _open_inputs(running: Service, decision: dict[str, Any]) -> dict[str, Any]:
    """Open a decision's sealed inputs from the ledger, as an independent reader would."""
    state = state_of(running.app)
    master = base64.b64decode(state.settings.ledger.master_key.get_secret_value())
    with state.sessions() as session:
        row = session.get(
            LedgerEntry, (decision["ledger"]["chain"], decision["ledger"]["sequence"])
        )
        assert row is not None
        return KeyRing(master, store=SqlKeyStore(session)).open(row_entry(row))


def _raw_database(running: Service, database_url: str) -> bytes:
    """Every byte the database keeps: the SQLite file after a checkpoint, or a PostgreSQL dump."""
    engine = state_of(running.app).engine
    if database_url.startswith("sqlite"):
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        path = Path(database_url.removeprefix("sqlite:///"))
        wal = path.with_name(path.name + "-wal")
        return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
    dump = subprocess.run(
        ["pg_dump", "--dbname", database_url], capture_output=True, check=True, timeout=60
    )
    return dump.stdout


def test_access_export_holds_everything_about_the_subject_and_nobody_else(
    service: Callable[..., Service],
) -> None:
    running = service()
    running.register("credit")
    first = _decide(running, "alice", income=INCOME, origin=ORIGIN)
    second = _decide(running, "alice", income=42.5)
    _decide(running, "bob", income=1.0, origin="<script>alert(1)</script>")
    recorded = running.client.post(
        f"/v1/decisions/{first['id']}/outcome",
        json={"outcome": "repaid"},
        headers=running.headers["admin"],
    )
    assert recorded.status_code == 200, recorded.text

    response = running.client.get("/v1/me/export", headers=_customer(running, "alice"))
    assert response.status_code == 200, response.text
    export = response.json()
    assert export["subject_id"] == "alice"
    by_id = {d["id"]: d for d in export["decisions"]}
    assert set(by_id) == {first["id"], second["id"]}
    assert by_id[first["id"]]["inputs"] == {"income": INCOME, "housing": "rent"}
    assert by_id[second["id"]]["inputs"] == {"income": 42.5, "housing": "rent"}
    assert by_id[first["id"]]["protected_attributes"] == {"sex": ORIGIN}
    for field in ("outcome", "score", "model_version", "explanation", "data", "review", "ledger"):
        assert by_id[first["id"]][field] == first[field]
    assert export["outcomes"] == [
        {
            "decision_id": first["id"],
            "true_outcome": "repaid",
            "recorded_at": export["outcomes"][0]["recorded_at"],
        }
    ]
    assert export["outcomes"][0]["recorded_at"] is not None
    assert "consent" in export
    assert (export["reviews"], export["concerns"]) == ([], [])
    assert [(r["kind"], r["status"]) for r in export["requests"]] == [("access", "completed")]

    officer = running.client.get("/v1/subjects/alice/export", headers=running.headers["officer"])
    assert officer.status_code == 200, officer.text
    assert {d["id"]: d["inputs"] for d in officer.json()["decisions"]} == {
        k: v["inputs"] for k, v in by_id.items()
    }

    page = running.client.get(
        "/v1/subjects/bob/export", params={"format": "html"}, headers=running.headers["officer"]
    )
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "<script>alert" not in page.text
    mine = running.client.get(
        "/v1/me/export", params={"format": "html"}, headers=_customer(running, "alice")
    )
    assert str(INCOME) in mine.text and ORIGIN in mine.text
    assert "Concerns you reported" in mine.text


def test_erasure_shreds_inputs_deletes_protected_values_and_the_ledger_still_verifies(
    service: Callable[..., Service], database_url: str
) -> None:
    running = service()
    running.register("credit")
    erased = _decide(running, "carol", income=INCOME, origin=ORIGIN)
    kept = _decide(running, "dave", income=55.0, origin="d")
    assert _open_inputs(running, erased)["features"]["income"] == INCOME
    master = base64.b64decode(running.settings.ledger.master_key.get_secret_value())
    with state_of(running.app).sessions() as session:
        sealed_origin = session_cipher(session, master).seal("sex", ORIGIN).encode()
    assert sealed_origin in _raw_database(running, database_url)  # the scan can see values

    response = running.client.post("/v1/me/erasure", headers=_customer(running, "carol"))
    assert response.status_code == 201, response.text
    request = response.json()
    assert (request["kind"], request["status"], request["subject_id"]) == (
        "erasure",
        "completed",
        "carol",
    )
    assert request["result"]["key_destroyed"] is True
    assert request["result"]["decisions_unlinked"] == 1
    assert request["result"]["protected_values_deleted"] == 1
    assert request["result"]["ledger"]["chain"] == "subjects"

    raw = _raw_database(running, database_url)
    assert ORIGIN.encode() not in raw and sealed_origin not in raw
    assert str(INCOME).encode() not in raw
    with pytest.raises(ErasedError):
        _open_inputs(running, erased)
    assert _open_inputs(running, kept)["features"]["income"] == 55.0

    verification = running.client.get(
        "/v1/ledger/verification", headers=running.headers["officer"]
    ).json()
    assert verification["ok"], verification["problems"]
    decision = running.client.get(
        f"/v1/decisions/{erased['id']}", headers=running.headers["admin"]
    ).json()
    assert decision["subject_id"] is None
    assert (decision["outcome"], decision["score"], decision["created_at"]) == (
        erased["outcome"],
        erased["score"],
        erased["created_at"],
    )
    export = running.client.get("/v1/me/export", headers=_customer(running, "carol")).json()
    assert export["decisions"] == []

    again = running.client.post(
        "/v1/subjects/carol/erasure", headers=running.headers["officer"]
    ).json()
    assert again["result"]["key_destroyed"] is False
    assert again["result"]["decisions_unlinked"] == 0


def test_erasure_reaches_a_decision_queued_in_the_same_group(
    service: Callable[..., Service],
) -> None:
    # A long group wait puts a decision's job and the erasure in one writer group: the
    # decision's rows are still queued, not inserted, when the erasure runs.
    running = service(gateway={"group_commit_wait_ms": 2000})
    running.register("credit")
    state = state_of(running.app)
    gateway = state.gateway
    request = DecisionCreate(
        subject_id="erin",
        features={"income": 10.0, "housing": "rent"},
        protected={"sex": "a"},
        score=0.7,
    )
    (prepared,) = gateway._prepare_many("credit", [(Waiting("credit", request, Future()), "")])
    assert isinstance(prepared, PreparedDecision)
    decided = gateway.writer.submit(prepared.record, savepoint=False, keys=prepared.sealing_keys)
    erasure = gateway.writer.run(
        lambda batch: subjects.erase_subject(batch, subject_id="erin", requested_by="test")
    )
    answer = decided.result(timeout=30).model_dump(mode="json")
    assert erasure.result is not None and erasure.result["decisions_unlinked"] == 1
    with state.sessions() as session:
        assert session.scalars(select(Decision.subject_id)).all() == [None]
        assert session.scalars(select(ProtectedValue)).all() == []
    with pytest.raises(ErasedError):
        _open_inputs(running, answer)


def test_requests_carry_a_one_month_deadline_and_an_overdue_flag(
    service: Callable[..., Service],
) -> None:
    running = service()
    state = state_of(running.app)
    long_ago = datetime.now(UTC) - timedelta(days=40)
    with unit_of_work(state.sessions) as session:
        subjects.open_request(
            session, kind="objection", subject_id="frank", requested_by="test", now=long_ago
        )
        subjects.open_request(session, kind="rectification", subject_id="gina", requested_by="t")
    assert running.client.post("/v1/me/erasure", headers=_customer(running, "hana")).is_success

    listed = running.client.get("/v1/requests", headers=running.headers["officer"]).json()
    assert listed["total"] == 3
    flags = {r["subject_id"]: (r["kind"], r["status"], r["overdue"]) for r in listed["items"]}
    hana = KeyRing(running.settings.ledger.master_key_bytes).pseudonym("hana")
    assert flags == {  # the erasure's own request names its subject by pseudonym only
        "frank": ("objection", "open", True),
        "gina": ("rectification", "open", False),
        hana: ("erasure", "completed", False),
    }
    for item in listed["items"]:
        received = datetime.fromisoformat(item["received_at"])
        assert datetime.fromisoformat(item["due_at"]) - received == timedelta(days=30)
    open_only = running.client.get(
        "/v1/requests", params={"status": "open"}, headers=running.headers["officer"]
    ).json()
    assert {r["subject_id"] for r in open_only["items"]} == {"frank", "gina"}
    assert open_only["items"][0]["subject_id"] == "frank"  # nearest deadline first


def _pseudonym(running: Service, subject: str) -> str:
    return KeyRing(running.settings.ledger.master_key_bytes).pseudonym(subject)


def _backdate(running: Service, decision_ids: list[str], *, days: int) -> None:
    with unit_of_work(state_of(running.app).sessions) as session:
        session.execute(
            update(Decision)
            .where(Decision.id.in_(decision_ids))
            .values(created_at=datetime.now(UTC) - timedelta(days=days))
        )


def _linked(running: Service) -> dict[str, tuple[str | None, int]]:
    """Each decision's subject and how many protected values it still has."""
    with state_of(running.app).sessions() as session:
        rows = session.execute(
            text(
                "SELECT d.id, d.subject_id, COUNT(p.name) FROM decisions d "
                "LEFT JOIN protected_values p ON p.decision_id = d.id GROUP BY d.id, d.subject_id"
            )
        ).all()
    return {r[0]: (r[1], int(r[2])) for r in rows}


def test_retention_run_unlinks_only_decisions_past_their_systems_period(
    service: Callable[..., Service], database_url: str
) -> None:
    running = service()
    running.register("credit", retention_months=12)
    running.register("keep")
    old = _decide(running, "ivan")
    recent = _decide(running, "ivan")
    old_kept = _decide(running, "ivan", system="keep")
    _backdate(running, [old["id"], old_kept["id"]], days=400)

    result = CliRunner().invoke(cli, ["retention", "run", "--database", database_url])
    assert result.exit_code == 0, result.output
    assert "credit" in result.output and "keep" not in result.output
    assert _linked(running) == {
        old["id"]: (None, 0),
        recent["id"]: ("ivan", 1),
        old_kept["id"]: ("ivan", 1),
    }
    future = (datetime.now(UTC) + timedelta(days=400)).isoformat()
    later = CliRunner().invoke(
        cli, ["retention", "run", "--database", database_url, "--now", future]
    )
    assert later.exit_code == 0, later.output
    assert _linked(running)[recent["id"]] == (None, 0)
    assert _linked(running)[old_kept["id"]] == ("ivan", 1)
    # The keys of the credit system's expired months are destroyed: those decisions' sealed
    # inputs are shredded in the ledger; the other system's stay readable.
    assert _sealed_inputs(running, recent) is None
    assert _sealed_inputs(running, old_kept) == {"income": 10.0, "housing": "rent"}
    verification = running.client.get(
        "/v1/ledger/verification", headers=running.headers["officer"]
    ).json()
    assert verification["ok"]


def _sealed_inputs(running: Service, decision: dict[str, Any]) -> dict[str, Any] | None:
    """The decision's inputs opened from its ledger entry, or None once its key is destroyed."""
    state = state_of(running.app)
    master = base64.b64decode(state.settings.ledger.master_key.get_secret_value())
    with unit_of_work(state.sessions) as session:
        entry = session.get(
            LedgerEntry, (decision["ledger"]["chain"], decision["ledger"]["sequence"])
        )
        assert entry is not None
        try:
            opened = KeyRing(master, store=SqlKeyStore(session)).open(row_entry(entry))
        except ErasedError:
            return None
    features: dict[str, Any] = opened["features"]
    return features


def test_the_service_applies_retention_on_its_schedule(service: Callable[..., Service]) -> None:
    running = service(gateway={"retention_interval_hours": 0.1 / 3600})  # every 0.1 s
    running.register("credit", retention_months=1)
    old = _decide(running, "jane")
    _backdate(running, [old["id"]], days=70)
    deadline = time.monotonic() + 10
    while _linked(running)[old["id"]] != (None, 0):
        assert time.monotonic() < deadline, "the scheduled retention did not run"
        time.sleep(0.05)


def test_months_before_counts_calendar_months_and_clamps_to_the_month_end() -> None:
    assert months_before(datetime(2024, 3, 31, 12, tzinfo=UTC), 1) == datetime(
        2024, 2, 29, 12, tzinfo=UTC
    )
    assert months_before(datetime(2025, 1, 15, tzinfo=UTC), 13) == datetime(
        2023, 12, 15, tzinfo=UTC
    )
    assert months_before(datetime(2025, 5, 31, tzinfo=UTC), 3) == datetime(2025, 2, 28, tzinfo=UTC)


def test_cli_erasure_and_the_service_share_the_erasure_chain(
    service: Callable[..., Service], database_url: str
) -> None:
    running = service()
    running.register("credit")
    first = running.client.post("/v1/subjects/kim/erasure", headers=running.headers["officer"])
    assert first.status_code == 201  # the service's writer now holds the chain's head
    made = _decide(running, "lena", income=INCOME)

    result = CliRunner().invoke(
        cli, ["subjects", "erase", "lena", "--yes", "--database", database_url]
    )
    assert result.exit_code == 0, result.output
    assert "1 decisions unlinked" in result.output
    with pytest.raises(ErasedError):
        _open_inputs(running, made)
    # The service's cached head of the chain is stale now: its next erasure must still land.
    again = running.client.post("/v1/subjects/mia/erasure", headers=running.headers["officer"])
    assert again.status_code == 201, again.text
    verification = running.client.get(
        "/v1/ledger/verification", headers=running.headers["officer"]
    ).json()
    assert verification["ok"], verification["problems"]
    assert verification["heads"]["subjects"] == 5  # three erasures, each with its request


def test_a_subject_id_of_the_longest_allowed_length_is_sealed_and_erased(
    service: Callable[..., Service],
) -> None:
    running = service()
    running.register("credit")
    subject = "s" * 100
    decision = _decide(running, subject)
    assert _sealed_inputs(running, decision) == {"income": 10.0, "housing": "rent"}
    erased = running.client.post(
        f"/v1/subjects/{subject}/erasure", headers=running.headers["officer"]
    )
    assert erased.status_code in (200, 201), erased.text
    assert erased.json()["result"]["key_destroyed"] is True
    assert _sealed_inputs(running, decision) is None
    refused = running.decide("credit", {"subject_id": "a#b", "features": {"income": 1.0}})
    assert refused.status_code == 422 and "subject_id" in refused.text


def test_erasure_leaves_proof_under_a_pseudonym_and_no_reviewer_comment_about_them(
    service: Callable[..., Service],
) -> None:
    running = service()
    running.register("credit")
    made = _decide(running, "ines")
    customer = _customer(running, "ines")
    for path, body in (
        ("/v1/me/consent", {"data_use": "finance", "status": "withdrawn"}),
        ("/v1/me/objections", {"kind": "profiling"}),
        (f"/v1/me/decisions/{made['id']}/appeal", {"statement": "Please look again."}),
    ):
        response = running.client.post(path, json=body, headers=customer)
        assert response.status_code == 201, response.text
    reviewer = running.headers["reviewer"]
    running.client.post(f"/v1/reviews/{made['id']}/claim", headers=reviewer)
    confirmed = running.client.post(
        f"/v1/reviews/{made['id']}/decision",
        json={"action": "confirm", "comment": "Spoke to Ines Oyelaran-Kwt."},
        headers=reviewer,
    )
    assert confirmed.status_code == 201, confirmed.text
    assert confirmed.json()["comment"] == "Spoke to Ines Oyelaran-Kwt."
    state = state_of(running.app)
    with state.sessions() as session:
        assert session.scalars(select(Review.comment)).one() is None  # sealed, not in the row
    export = running.client.get("/v1/me/export", headers=customer).json()
    assert [r.get("comment") for r in export["reviews"]] == [None, "Spoke to Ines Oyelaran-Kwt."]

    erased = running.client.post("/v1/subjects/ines/erasure", headers=running.headers["officer"])
    assert erased.status_code == 201, erased.text
    pseudonym = _pseudonym(running, "ines")
    # Their requests (the erasure's own too): no row keeps the id.
    kept = {"appeals": 1, "consent_records": 1, "objections": 1, "rights_requests": 3}
    assert erased.json()["result"]["links_pseudonymised"] == sum(kept.values())
    with state.sessions() as session:
        for table, count in kept.items():
            named = f"SELECT subject_id, COUNT(*) FROM {table} GROUP BY subject_id"
            rows = session.execute(text(named)).all()
            assert {str(r[0]): int(r[1]) for r in rows} == {pseudonym: count}, table
        history = case_history(
            session,
            decision_id=made["id"],
            keyring=KeyRing(state.settings.ledger.master_key_bytes, store=SqlKeyStore(session)),
        )
    assert [(e.kind, e.comment) for e in history] == [("appeal", None), ("confirm", None)]
