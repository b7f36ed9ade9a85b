"""Subject ids: checked alike on every route and command; key names never collide across ids."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from service_testing import Service
from sqlalchemy import select
from typer.testing import CliRunner

from ethica.cli import app as cli
from ethica.ledger import KeyRing, is_pseudonym
from ethica.service.app import state_of
from ethica.service.ledger.naming import key_part, key_request, sealing_subject
from ethica.service.ledger.shredding import destroy_subject_keys
from ethica.service.ledger.tables import SubjectKey


def test_an_id_with_a_hash_is_refused_on_every_route(service: Callable[..., Service]) -> None:
    running = service()
    running.register("credit")
    admin = running.headers["admin"]
    client = running.client
    answers = {
        "link": client.post("/v1/subjects/cust-b%23notes/links", json={}, headers=admin),
        "consent": client.get("/v1/subjects/cust-b%23notes/consent", headers=admin),
        "objection": client.post(
            "/v1/subjects/cust-b%23notes/objections",
            json={"kind": "profiling"},
            headers=admin,
        ),
        "export": client.get("/v1/subjects/cust-b%23notes/export", headers=admin),
        "erasure": client.post("/v1/subjects/cust-b%23notes/erasure", headers=admin),
        "requests": client.get("/v1/requests", params={"subject_id": "a#b"}, headers=admin),
        "decisions": client.get("/v1/decisions", params={"subject_id": "a#b"}, headers=admin),
        "decide": running.decide("credit", {"subject_id": "a#b", "score": 0.5}),
        "too long": client.post(f"/v1/subjects/{'x' * 101}/links", json={}, headers=admin),
    }
    for where, answer in answers.items():
        assert answer.status_code == 422, (where, answer.status_code, answer.text)
        assert "subject_id" in answer.text, where


def test_the_erase_command_refuses_such_an_id_before_asking(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["subjects", "erase", "cust-b#notes", "--database", f"sqlite:///{tmp_path}/e.db"]
    )
    assert result.exit_code == 2
    assert "cannot contain '#'" in result.output
    assert not (tmp_path / "e.db").exists()


def test_key_names_are_one_to_one_with_subjects() -> None:
    at = datetime(2026, 12, 3, tzinfo=UTC)
    assert key_request("cust-b", "credit", at) == "cust-b#credit#2026-12"  # the older names
    names = {
        key_request(subject, system, at)
        for subject, system in [("a#b", "c"), ("a", "b#c"), ("a%23b", "c"), ("a", "b")]
    }
    assert len(names) == 4
    assert "#" not in key_part("cust-b#notes#2026-12")
    assert not key_part("%p" + "0" * 32).startswith("%p")  # no id reads as a pseudonym
    keyring = KeyRing(bytes(32))
    named = {sealing_subject(keyring, s, "c", at) for s in ("a#b", "a", "a%23b", "a%p")}
    assert len(named) == 4 and all(is_pseudonym(n) for n in named)
    assert sealing_subject(keyring, "a", "c", at) in named  # the same while the key lives


def test_erasing_an_id_that_extends_another_leaves_the_other_s_keys(
    service: Callable[..., Service],
) -> None:
    running = service()
    running.register("credit")
    made = running.decide("credit", {"subject_id": "cust-b", "score": 0.5})
    assert made.status_code == 201
    writer = state_of(running.app).gateway.writer
    # Past the edge's checks (the Python API, an old row): the names still cannot collide.
    for forged in ("cust-b#credit", "cust-b#", "cust-b#credit#"):
        destroyed = writer.run(lambda batch, forged=forged: destroy_subject_keys(batch, forged))
        assert destroyed == (0, False)
    prefix = running.key_prefix("cust-b")
    with state_of(running.app).sessions() as session:
        names = session.scalars(select(SubjectKey.subject)).all()
    assert any(name.startswith(f"{prefix}credit#") for name in names)
    assert writer.run(lambda batch: destroy_subject_keys(batch, "cust-b")) == (1, True)
