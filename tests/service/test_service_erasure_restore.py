"""Restoring a backup older than an erasure: refused until `ethica subjects replay-erasures`.

The backup (a SQLite copy, or a ``pg_dump`` restored into a fresh PostgreSQL database) and the
key file's copy taken with it bring the erased subject back, openable with the master key. The
erasure journal, kept outside the database, names them: `ethica serve` refuses to start, the
replay erases them again through the erasure's own path, and `ethica ledger verify` says the
ledger is older than the heads its witness kept (docs/erasure.md).
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from service_testing import Service
from typer.testing import CliRunner

from ethica.cli import app as cli
from ethica.errors import InputError
from ethica.ledger import ErasedError, ErasureJournal, KeyRing
from ethica.service.app import create_app, state_of
from ethica.service.ledger.journal import journal_path
from ethica.service.ledger.store import SqlKeyStore, row_entry
from ethica.service.ledger.tables import LedgerEntry
from ethica.service.settings import Settings
from ethica.service.state import build_state
from ethica.service.subjects.replay import RestoredErasureError, refuse_restored_erasures

runner = CliRunner()
GONE, KEPT = "restore-gone", "restore-kept"


def _decide(running: Service, subject: str) -> dict[str, Any]:
    body = {"subject_id": subject, "features": {"income": 21.5}, "score": 0.7}
    made = running.decide("credit", body)
    assert made.status_code == 201, made.text
    return dict(made.json()["ledger"])


@contextmanager
def _restored(database_url: str, tmp_path: Path) -> Iterator[Callable[[], str]]:
    """Take a backup now; yield a function that restores it into a fresh database."""
    if database_url.startswith("sqlite"):
        copy = tmp_path / "backup.db"
        live, backup = (
            sqlite3.connect(database_url.removeprefix("sqlite:///")),
            sqlite3.connect(copy),
        )
        try:  # SQLite's online backup: a consistent copy while the service runs
            live.backup(backup)
        finally:
            live.close()
            backup.close()

        def restore_sqlite() -> str:
            target = tmp_path / "restored.db"
            shutil.copyfile(copy, target)
            return f"sqlite:///{target}"

        yield restore_sqlite
        return
    import psycopg
    from psycopg import sql

    dump = tmp_path / "backup.dump"
    subprocess.run(
        ["pg_dump", "--format=custom", "--file", str(dump), "--dbname", database_url],
        check=True,
        timeout=120,
    )
    base, _, _ = database_url.rpartition("/")
    name = f"ethica_restored_{uuid.uuid4().hex[:12]}"

    def restore_postgresql() -> str:
        with psycopg.connect(database_url, autocommit=True) as connection:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        url = f"{base}/{name}"
        subprocess.run(
            ["pg_restore", "--no-owner", "--dbname", url, str(dump)], check=True, timeout=120
        )
        return url

    try:
        yield restore_postgresql
    finally:
        with psycopg.connect(database_url, autocommit=True) as connection:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def _opens(settings: Settings, ledger: dict[str, Any]) -> bool:
    """Whether the decision's sealed fields open with the master key and the key file."""
    state = build_state(settings, migrate=False)
    try:
        with state.sessions() as session:
            row = session.get(LedgerEntry, (ledger["chain"], ledger["sequence"]))
            assert row is not None, ledger
            keyring = KeyRing(settings.ledger.master_key_bytes, store=SqlKeyStore(session))
            try:
                return bool(keyring.open(row_entry(row))["features"])
            except ErasedError:
                return False
    finally:
        state.close()


def _settings_env(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    """The CLI reads its settings from the environment: the same files as ``settings``."""
    ledger = settings.ledger
    for name, value in {
        "KEY_FILE": ledger.key_file,
        "WITNESS_PATH": ledger.witness_path,
        "ERASURE_JOURNAL": ledger.erasure_journal,
    }.items():
        assert value is not None
        monkeypatch.setenv(f"ETHICA__LEDGER__{name}", value)


def test_a_restored_backup_is_refused_until_its_erasures_are_replayed(
    service: Callable[..., Service],
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key_file = tmp_path / "live" / "ethica.keys.json"
    ledger = {
        "key_file": str(key_file),
        "witness_path": str(tmp_path / "live" / "heads.jsonl"),
        "checkpoint_every": 1,  # every entry's head reaches the witness at once
    }
    running = service(ledger=ledger)
    journal = journal_path(running.settings)
    assert journal == tmp_path / "live" / "ethica.erasures.jsonl"  # beside the key file
    running.register("credit")
    gone, kept = _decide(running, GONE), _decide(running, KEPT)
    with _restored(database_url, tmp_path) as restore:
        old_keys = key_file.read_bytes()  # the key file backed up with the database
        erased = running.client.post(
            f"/v1/subjects/{GONE}/erasure", headers=running.headers["officer"]
        )
        assert erased.status_code == 201, erased.text
        lines = ErasureJournal(journal, running.settings.ledger.master_key_bytes).records()
        pseudonym = KeyRing(running.settings.ledger.master_key_bytes).pseudonym(GONE)
        assert [line.pseudonym for line in lines] == [pseudonym]
        assert GONE not in journal.read_text()

        url = restore()
        restored_keys = tmp_path / "restored" / "ethica.keys.json"
        restored_keys.parent.mkdir()
        restored_keys.write_bytes(old_keys)
        restored = Settings(
            database={"url": url},
            ledger={**ledger, "key_file": str(restored_keys), "erasure_journal": str(journal)},
        )
        _settings_env(monkeypatch, restored)
        # What the restore brought back: the erased subject's decision opens again.
        assert _opens(restored, gone) and _opens(restored, kept)

        with pytest.raises(RestoredErasureError, match="subjects replay-erasures") as refused:
            create_app(restored)
        assert GONE not in str(refused.value)
        served: list[Any] = []
        monkeypatch.setattr("uvicorn.run", lambda app, **_: served.append(app))
        serve = runner.invoke(cli, ["serve", "--database", url])
        assert serve.exit_code == 2, serve.output
        assert "ethica subjects replay-erasures" in serve.output and not served
        assert "Traceback" not in serve.output and GONE not in serve.output

        replay = runner.invoke(cli, ["subjects", "replay-erasures", "--database", url])
        assert replay.exit_code == 0, replay.output
        assert "re-applied 1 erasure" in replay.output and GONE not in replay.output
        assert not _opens(restored, gone)  # not with the master key and the key file either
        assert _opens(restored, kept)
        again = runner.invoke(cli, ["subjects", "replay-erasures", "--database", url])
        assert again.exit_code == 0 and "re-applied 0 erasure" in again.output, again.output

        serve = runner.invoke(cli, ["serve", "--database", url])
        assert serve.exit_code == 0, serve.output
        assert len(served) == 1
        state_of(served[0]).close()

        verify = runner.invoke(cli, ["ledger", "verify", "--database", url])
        assert verify.exit_code == 1, verify.output
        # The restored ledger is older than the heads its witness kept after the backup.
        said = " ".join(verify.output.split())
        # The replay's erasure took the lost erasure's place in the subjects chain ...
        assert "subjects#0 rewritten" in said and "cut back and regrown" in said, said
        # ... and the witness kept a head of the chain the restore took away.
        assert "kept by the witness, is missing from the ledger's own heads" in said, said


def test_a_subject_who_returns_after_an_erasure_is_not_erased_again(
    service: Callable[..., Service],
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key_file = str(tmp_path / "ethica.keys.json")
    monkeypatch.setenv("ETHICA__LEDGER__KEY_FILE", key_file)  # the CLI's, the same file
    running = service(ledger={"key_file": key_file})
    running.register("credit")
    _decide(running, GONE)
    erased = running.client.post(f"/v1/subjects/{GONE}/erasure", headers=running.headers["officer"])
    assert erased.status_code == 201, erased.text
    back = _decide(running, GONE)  # a returning customer, after the erasure in this database
    state = state_of(running.app)
    master = running.settings.ledger.master_key_bytes
    journal = journal_path(running.settings)
    assert journal is not None and len(ErasureJournal(journal, master).records()) == 1
    refuse_restored_erasures(state.sessions, master_key=master)  # starts: nothing restored
    replay = runner.invoke(cli, ["subjects", "replay-erasures", "--database", database_url])
    assert replay.exit_code == 0 and "re-applied 0" in replay.output, replay.output
    assert _opens(running.settings, back)


def test_an_altered_journal_is_named_not_skipped(
    service: Callable[..., Service], database_url: str, tmp_path: Path
) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("reading the journal does not depend on the database")
    running = service()
    running.register("credit")
    _decide(running, GONE)
    erased = running.client.post(f"/v1/subjects/{GONE}/erasure", headers=running.headers["officer"])
    assert erased.status_code == 201, erased.text
    journal = journal_path(running.settings)
    assert journal is not None and journal.name == "ethica.db.erasures.jsonl"
    text = journal.read_text()
    state = state_of(running.app)
    master = running.settings.ledger.master_key_bytes
    for altered, why in ((text.replace('"subjects"', '"other"'), "MAC"), (text[:-9], "cut short")):
        journal.write_text(altered)
        with pytest.raises(InputError, match=f"line 1 of the erasure journal .*{why}"):
            refuse_restored_erasures(state.sessions, master_key=master)
        replay = runner.invoke(cli, ["subjects", "replay-erasures", "--database", database_url])
        assert replay.exit_code == 2 and why in replay.output, replay.output
