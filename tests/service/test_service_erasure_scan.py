"""Erasure leaves nothing recoverable: no file, log or dump opens an erased subject's data.

The attacker of :mod:`erasure_scan` holds the master key and the current key file. Before the
erasure the same scan opens the subject's entries (so it can see keys where they are); after
it, nothing of the subject opens and none of their words is left in plain text, while a
surviving subject's key is still found and opens.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from erasure_scan import (
    Blob,
    containing,
    opened_protected,
    openers,
    postgresql_blobs,
    sqlite_blobs,
)
from service_testing import Service, bearer, explained_features
from sqlalchemy import select

from ethica.ledger import Entry, KeyFile
from ethica.scoring import dump_model
from ethica.service.app import state_of
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
    prefix = running.key_prefix(subject)  # entries name the subject by pseudonym
    with state_of(running.app).sessions() as session:
        rows = session.scalars(
            select(LedgerEntry).where(
                LedgerEntry.subject.startswith(prefix, autoescape=True),
                LedgerEntry.key_id.is_not(None),
            )
        )
        return [row_entry(row) for row in rows]


def _no_link_to(running: Service, blobs: list[Blob], subject: str) -> None:
    """No file or dump names the erased subject's id: not the ledger, not any table.

    Only PostgreSQL keeps the row versions written before the erasure: in ``pg_wal`` until
    its segments are recycled, and in the ``decisions`` table's and its indexes' freed space
    (a plain VACUUM, not FULL, so as not to lock the gateway) until it is reused
    (docs/erasure.md).
    """
    named = containing(blobs, subject.encode())
    left = [name for name in named if not name.startswith("pg_wal/")]
    relations = _relations(running, left)
    assert set(relations.values()) <= {"decisions", "ix_decisions_subject_id"}, relations


def _relations(running: Service, files: list[str]) -> dict[str, str]:
    """The table or index each PostgreSQL data file belongs to (the file name otherwise)."""
    if not files or not all(name.startswith("base/") for name in files):
        return {name: name for name in files}
    with state_of(running.app).engine.connect() as connection:
        nodes = dict(
            connection.exec_driver_sql(
                "SELECT CAST(pg_relation_filenode(oid) AS text), relname FROM pg_class "
                "WHERE pg_relation_filenode(oid) IS NOT NULL"
            ).all()
        )
    return {name: nodes.get(re.split(r"[._]", name.rsplit("/", 1)[-1])[0], name) for name in files}


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
    assert containing(before, erased.encode())  # and ids (the decision row names them)
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
    _no_link_to(running, after, erased)
    # Protected values are sealed under the epoch's key: PostgreSQL may keep the erased
    # subject's ciphertext in pg_wal, but no key the service (or the attacker) holds opens it.
    opened = opened_protected(after, "sex", master_key=master, key_file=key_file)
    assert erased_words["protected"] not in opened.values()
    assert f"sex-Yann Vex{tag}" in opened.values()  # the survivor's, re-sealed, still opens
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


def test_an_erased_subjects_explanation_and_protected_values_open_from_no_copy(
    service: Callable[..., Service], database_url: str, tmp_path: Any, lightgbm_model: Any
) -> None:
    running = service(ledger={"key_file": str(tmp_path / "keys.json")})
    running.register("credit", features=explained_features())
    upload = running.upload("credit", dump_model(lightgbm_model, "lightgbm"), format="lightgbm")
    assert upload.status_code == 201, upload.text
    tag = uuid.uuid4().hex[:8]
    made = {}
    for name, income in (("gone", 23.4567), ("kept", 24.5678)):
        body = {
            "subject_id": f"{name}-{tag}",
            "features": {"income": income, "housing": "rent"},
            "protected": {"sex": f"sex-{name}-{tag}"},
        }
        answer = running.decide("credit", body)
        assert answer.status_code == 201, answer.text
        made[name] = answer.json()
    said = [r["text"] for r in made["gone"]["explanation"]["reasons"]]
    assert any("23.46" in text for text in said), said
    master = running.settings.ledger.master_key_bytes
    key_file = _key_file(running)
    assert key_file is not None
    officer = running.headers["officer"]
    before = _scan(running, database_url)
    for text in said:  # the explanation quotes their income: never in clear in any file
        assert containing(before, text.encode()) == [], text
    assert (
        f"sex-gone-{tag}"
        in opened_protected(before, "sex", master_key=master, key_file=key_file).values()
    )

    erased = running.client.post(f"/v1/subjects/gone-{tag}/erasure", headers=officer)
    assert erased.status_code == 201, erased.text
    time.sleep(1.0)
    after = _scan(running, database_url)

    for text in said:
        assert containing(after, text.encode()) == [], text
    _no_link_to(running, after, f"gone-{tag}")
    # An attacker with the master key and the key file as it is now: the erased subject's
    # protected value opens from no file, log or dump; the survivor's still does.
    attacker = KeyFile(key_file.path, master)
    opened = opened_protected(after, "sex", master_key=master, key_file=attacker)
    assert f"sex-gone-{tag}" not in opened.values()
    assert f"sex-kept-{tag}" in opened.values()
    shown = running.client.get(f"/v1/decisions/{made['gone']['id']}", headers=officer).json()
    assert (shown["explanation"], shown["explanation_status"]) == (None, "erased")
    kept = running.client.get(f"/v1/decisions/{made['kept']['id']}", headers=officer).json()
    assert kept["explanation_status"] == "given"
    assert kept["explanation"] == made["kept"]["explanation"]
    verification = running.client.get("/v1/ledger/verification", headers=officer).json()
    assert verification["ok"], verification["problems"]
