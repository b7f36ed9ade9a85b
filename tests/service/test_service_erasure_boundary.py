"""The epoch boundary: entries written before pseudonyms name the customer by id.

An older version named a decision's key, and its entry's ``subject``, ``<id>#<system>#<month>``.
Those entries cannot be rewritten (every hash and witnessed head covers them). After the
customer's erasure (docs/erasure.md, "The epoch boundary"): keys of both forms are destroyed,
no sealed field of either entry opens, the chain verifies, the newer entry can no longer be
tied to the id, and the older entry still shows the id, which is what erasure cannot unlink.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from service_testing import Service
from sqlalchemy import select

from ethica.ledger import ErasedError, KeyRing
from ethica.service.app import state_of
from ethica.service.decisions import record
from ethica.service.ledger import writer
from ethica.service.ledger.store import SqlKeyStore, row_entry
from ethica.service.ledger.tables import LedgerEntry, SubjectKey


def _entry_of(running: Service, made: dict[str, Any]) -> Any:
    with state_of(running.app).sessions() as session:
        row = session.get(LedgerEntry, (made["ledger"]["chain"], made["ledger"]["sequence"]))
        assert row is not None
        return row_entry(row)


def _opens(running: Service, entry: Any) -> dict[str, Any]:
    with state_of(running.app).sessions() as session:
        keyring = KeyRing(running.settings.ledger.master_key_bytes, store=SqlKeyStore(session))
        return keyring.open(entry)


def test_an_erasure_across_the_boundary_shreds_both_and_leaves_only_the_older_id(
    service: Callable[..., Service], monkeypatch: pytest.MonkeyPatch
) -> None:
    running = service()
    running.register("credit")
    body = {"subject_id": "boundary-cust", "features": {"income": 10.0}, "score": 0.7}
    with monkeypatch.context() as older:  # the older version: keys named by the id
        for module in (writer, record):
            older.setattr(module, "resolve_request", lambda keyring, request, **_: request)
        made = running.decide("credit", body)
    assert made.status_code == 201, made.text
    old = _entry_of(running, made.json())
    # Later entries of the same customer and month go under their pseudonym.
    newer = running.decide("credit", body)
    assert newer.status_code == 201, newer.text
    new = _entry_of(running, newer.json())
    assert old.subject.startswith("boundary-cust#credit#"), old.subject
    assert new.subject.startswith("%p") and "boundary-cust" not in new.subject, new.subject
    assert _opens(running, old)["features"] == _opens(running, new)["features"]
    officer = running.headers["officer"]
    assert running.client.get("/v1/ledger/verification", headers=officer).json()["ok"]

    erased = running.client.post("/v1/subjects/boundary-cust/erasure", headers=officer)
    assert erased.status_code == 201, erased.text

    for entry in (old, new):  # no sealed field of either side opens
        with pytest.raises(ErasedError):
            _opens(running, entry)
    with state_of(running.app).sessions() as session:
        names = list(session.scalars(select(SubjectKey.subject)))
        keyring = KeyRing(running.settings.ledger.master_key_bytes, store=SqlKeyStore(session))
        # Given the id, nobody can compute the newer entries' pseudonym any more ...
        with pytest.raises(ErasedError):
            keyring.subject_pseudonym("boundary-cust", create=False)
        # ... and no key of either form is left.
        assert not [n for n in names if n.startswith(("boundary-cust#", new.subject))], names
        # What erasure cannot unlink: the older entry still names the id.
        kept = session.get(LedgerEntry, (old.chain, old.sequence))
        assert kept is not None and kept.subject == old.subject
    verification = running.client.get("/v1/ledger/verification", headers=officer).json()
    assert verification["ok"], verification["problems"]
