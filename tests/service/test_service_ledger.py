"""The ledger through the service: verification finds tampering made directly in the database."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest
from service_testing import Service
from sqlalchemy import delete, select, text, update

from ethica.ledger import ErasedError, KeyRing
from ethica.service.app import state_of
from ethica.service.db import unit_of_work
from ethica.service.ledger.store import SqlKeyStore, row_entry
from ethica.service.ledger.tables import LedgerEntry, SubjectKey

INCOME = 12345.678


@pytest.fixture
def recorded(service: Callable[..., Service]) -> Service:
    running = service(ledger={"checkpoint_every": 4})
    running.register("credit")
    for i in range(10):
        body = {
            "subject_id": f"cust-{i % 3}",
            "features": {"income": INCOME + i, "housing": "rent"},
            "score": 0.5 + i / 100,
        }
        assert running.decide("credit", body).status_code == 201
    return running


def _verification(running: Service) -> dict[str, Any]:
    response = running.client.get("/v1/ledger/verification", headers=running.headers["officer"])
    assert response.status_code == 200, response.text
    return dict(response.json())


def _sql(running: Service, *statements: Any) -> None:
    with unit_of_work(state_of(running.app).sessions) as session:
        for statement in statements:
            session.execute(statement)


def _broken(running: Service) -> str:
    report = _verification(running)
    assert report["ok"] is False
    assert report["problems"]
    return str(report["problems"][0])


def test_an_untouched_ledger_verifies(recorded: Service) -> None:
    report = _verification(recorded)
    assert report["ok"] is True, report
    assert report["entries_checked"] == 10
    assert report["heads"] == {"credit": 9}
    assert report["signed_heads_checked"] >= 1  # a tree head every 4 entries


def test_an_edited_entry_is_named(recorded: Service) -> None:
    with unit_of_work(state_of(recorded.app).sessions) as session:
        public = session.scalar(select(LedgerEntry.public).where(LedgerEntry.sequence == 3))
    assert public is not None and '"approved"' in public
    edited = public.replace('"approved"', '"declined"')
    _sql(recorded, update(LedgerEntry).where(LedgerEntry.sequence == 3).values(public=edited))
    assert _broken(recorded).startswith("credit#3 edited")


def test_a_deleted_entry_is_named(recorded: Service) -> None:
    _sql(recorded, delete(LedgerEntry).where(LedgerEntry.sequence == 5))
    problem = _broken(recorded)
    assert problem.startswith("credit#6 deleted") or problem.startswith("credit#5 deleted"), problem


def test_swapped_entries_are_named(recorded: Service) -> None:
    _sql(
        recorded,
        update(LedgerEntry).where(LedgerEntry.sequence == 2).values(sequence=-1),
        update(LedgerEntry).where(LedgerEntry.sequence == 6).values(sequence=2),
        update(LedgerEntry).where(LedgerEntry.sequence == -1).values(sequence=6),
    )
    assert _broken(recorded).startswith("credit#2 ")


def test_a_truncated_tail_is_named(recorded: Service) -> None:
    _sql(recorded, delete(LedgerEntry).where(LedgerEntry.sequence >= 6))
    report = _verification(recorded)
    assert report["ok"] is False
    assert any("truncated" in p and p.startswith("credit#") for p in report["problems"]), report


def test_personal_features_are_sealed_and_erasable(recorded: Service) -> None:
    with unit_of_work(state_of(recorded.app).sessions) as session:
        dump = " ".join(
            str(value)
            for row in session.execute(text("SELECT * FROM ledger_entries")).all()
            for value in row
        )
        # The income as written: "12345" alone may turn up inside a hex digest.
        assert str(INCOME) not in dump and "rent" not in dump
        master = base64.b64decode(recorded.settings.ledger.master_key.get_secret_value())
        keyring = KeyRing(master, store=SqlKeyStore(session))
        first = session.get(LedgerEntry, ("credit", 0))
        # Sealed with the key of this subject, system and month.
        assert first is not None and first.subject is not None
        name = first.subject  # the key's name: the subject's pseudonym, system and month
        assert name == f"{recorded.key_prefix('cust-0')}credit#{first.recorded_at[:7]}"
        assert keyring.open(row_entry(first)) == {"features": {"income": INCOME, "housing": "rent"}}
        session.execute(delete(SubjectKey).where(SubjectKey.subject == name))
    # Destroyed outside an erasure (no request, no erasure entry): verification names the key.
    verification = _verification(recorded)
    assert verification["ok"] is False
    assert all(f"subject_keys row {name!r}" in p for p in verification["problems"])
    with unit_of_work(state_of(recorded.app).sessions) as session:
        keyring = KeyRing(master, store=SqlKeyStore(session))
        with pytest.raises(ErasedError):
            keyring.open(row_entry(session.get(LedgerEntry, ("credit", 0))))  # type: ignore[arg-type]
        other = session.get(LedgerEntry, ("credit", 1))
        assert other is not None
        assert keyring.open(row_entry(other))["features"]["income"] == INCOME + 1
