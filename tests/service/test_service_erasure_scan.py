"""Erasure leaves nothing recoverable: no file, log or dump opens an erased subject's data.

The attacker of :mod:`erasure_scan` holds the master key and the current key file. Before the
erasure the same scan opens the subject's entries (so it can see keys where they are); after
it, nothing of the subject opens and none of their words is left in plain text, while a
surviving subject's key is still found and opens.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from erasure_scan import Blob, containing, openers, postgresql_blobs, sqlite_blobs
from service_testing import Service, bearer
from sqlalchemy import select

from ethica.ledger import Entry, KeyFile
from ethica.service.app import state_of
from ethica.service.decisions.protected import protected_cipher
from ethica.service.ledger.store import key_file_of, row_entry
from ethica.service.ledger.tables import KeyEpoch, LedgerEntry, SubjectKey

pytestmark = pytest.mark.slow  # the PostgreSQL scan reads the server's whole data directory


def _customer(running: Service, subject: str) -> dict[str, str]:
    response = running.client.post(
        f"/v1/subjects/{subject}/links", json={}, headers=running.headers["admin"]
    )
    assert response.status_code == 201, response.text
    return bearer(response.json()["token"])


def _history(running: Service, subject: str, words: dict[str, str]) -> str:
    """A decision, an appeal, a reviewer's comment quoting the customer, and a concern."""
    made = running.decide(
        "credit",
        {
            "subject_id": subject,
            "features": {"income": 10.0, "housing": "rent"},
            "protected": {"sex": words["protected"]},
            "score": 0.7,
        },
    )
    assert made.status_code == 201, made.text
    decision = made.json()["id"]
    customer = _customer(running, subject)
    appealed = running.client.post(
        f"/v1/me/decisions/{decision}/appeal",
        json={"statement": words["statement"]},
        headers=customer,
    )
    assert appealed.status_code == 201, appealed.text
    reviewer = running.headers["reviewer"]
    running.client.post(f"/v1/reviews/{decision}/claim", headers=reviewer)
    confirmed = running.client.post(
        f"/v1/reviews/{decision}/decision",
        json={"action": "confirm", "comment": words["comment"]},
        headers=reviewer,
    )
    assert confirmed.status_code == 201, confirmed.text
    concern = running.client.post(
        f"/v1/me/decisions/{decision}/concerns", json={"text": words["concern"]}, headers=customer
    )
    assert concern.status_code == 201, concern.text
    return str(decision)


def _words(name: str) -> dict[str, str]:
    return {
        "statement": f"Appeal-{name}: my income doubled.",
        "comment": f"Called {name} about the income.",
        "concern": f"Concern-{name}: nobody called me back.",
        "protected": f"sex-{name}",
    }


def _sealed_entries(running: Service, subject: str) -> list[Entry]:
    with state_of(running.app).sessions() as session:
        rows = session.scalars(
            select(LedgerEntry).where(
                LedgerEntry.subject.like(f"{subject}#%"), LedgerEntry.key_id.is_not(None)
            )
        )
        return [row_entry(row) for row in rows]


def _scan(running: Service, database_url: str) -> list[Blob]:
    engine = state_of(running.app).engine
    if database_url.startswith("sqlite"):
        return sqlite_blobs(engine)
    return postgresql_blobs(engine, database_url)


def _key_file(running: Service) -> KeyFile | None:
    with state_of(running.app).sessions() as session:
        return key_file_of(session)


@pytest.mark.parametrize("erasures", [1, 2])
def test_nothing_of_an_erased_subject_opens_from_any_file_log_or_dump(
    service: Callable[..., Service], database_url: str, tmp_path: Any, erasures: int
) -> None:
    running = service(ledger={"key_file": str(tmp_path / "keys.json")})
    running.register("credit")
    tag = uuid.uuid4().hex[:10]
    erased, kept = f"gone-{tag}", f"kept-{tag}"
    erased_words = _words(f"Zelda Qux{tag}")
    _history(running, erased, erased_words)
    _history(running, kept, _words(f"Yann Vex{tag}"))
    entries, survivors = _sealed_entries(running, erased), _sealed_entries(running, kept)
    assert {e.kind for e in entries} >= {"decision", "appeal", "concern"}
    master = running.settings.ledger.master_key_bytes
    key_file = _key_file(running)
    assert key_file is not None
    before = _scan(running, database_url)
    assert openers(before, entries, master_key=master, key_file=key_file)  # the scan sees keys
    old_file = key_file.path.read_bytes()

    for round_ in range(erasures):
        subject = erased if round_ == 0 else f"other-{tag}"
        response = running.client.post(
            f"/v1/subjects/{subject}/erasure", headers=running.headers["officer"]
        )
        assert response.status_code == 201, response.text
    time.sleep(1.0)  # "a short wait": nothing below may depend on a background job
    after = _scan(running, database_url)

    assert openers(after, entries, master_key=master, key_file=key_file) == []
    assert openers(after, survivors, master_key=master, key_file=key_file)
    for words in erased_words.values():
        assert containing(after, words.encode()) == [], words
    # Protected values are sealed deterministically (the live audit counts by ciphertext),
    # with a key derived from the master key. PostgreSQL keeps the erased subject's in pg_wal,
    # and in a table's file while an older snapshot holds the row (docs/erasure.md).
    sealed = protected_cipher(master).seal("sex", erased_words["protected"]).encode()
    assert containing(before, sealed)
    left = containing(after, sealed)
    if database_url.startswith("sqlite"):
        assert left == []
    else:
        assert "pg_dump" not in left
    with state_of(running.app).sessions() as session:
        epochs = list(session.scalars(select(KeyEpoch.id)))
        assert len(epochs) == 1 and epochs == key_file.epochs()
        assert set(session.scalars(select(SubjectKey.kek_epoch))) == set(epochs)
    retired = [kek.encode() for kek in json.loads(old_file)["epochs"].values()]
    for kek in retired:  # the old epoch's key is gone from the key file and every database file
        assert kek not in key_file.path.read_bytes()
        assert containing(after, kek) == []
    verification = running.client.get(
        "/v1/ledger/verification", headers=running.headers["officer"]
    ).json()
    assert verification["ok"], verification["problems"]
