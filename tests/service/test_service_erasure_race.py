"""An erasure in another process while the gateway is writing: no value is left unopenable.

The gateway seals a decision's protected values when its write job runs, under the epoch its
key file names then. ``ethica subjects erase`` in another process may, before that write
commits, re-seal every stored value under a new epoch and destroy the old one's key. The
writer checks inside its transaction that the epochs it sealed under are still listed (with a
lock on PostgreSQL) and otherwise runs the group again under the current epoch.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from service_testing import Service
from sqlalchemy import create_engine, select

from ethica.service.app import state_of
from ethica.service.decisions.protected import session_cipher
from ethica.service.decisions.record import PreparedDecision
from ethica.service.decisions.tables import ProtectedValue
from ethica.service.ledger.tables import KeyEpoch

WAIT = 120.0


def _wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_a_value_sealed_before_another_process_s_erasure_is_sealed_again_under_the_new_epoch(
    service: Callable[..., Service],
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key_path = tmp_path / "keys.json"
    running = service(ledger={"key_file": str(key_path)})
    running.register("credit")
    for subject in ("race-gone", "race-kept"):  # both have their keys: the race is the value's
        made = running.decide("credit", {"subject_id": subject, "score": 0.7})
        assert made.status_code == 201, made.text
    with state_of(running.app).sessions() as session:
        (old_epoch,) = session.scalars(select(KeyEpoch.id)).all()

    sealed, release = threading.Event(), threading.Event()
    record = PreparedDecision.record

    def held(self: PreparedDecision, batch: Any) -> Any:
        """The decision's job, its values sealed, waits before the group writes them."""
        result = record(self, batch)
        if not release.is_set():
            sealed.set()
            release.wait(WAIT)
        return result

    monkeypatch.setattr(PreparedDecision, "record", held)
    answer: list[Any] = []
    body = {"subject_id": "race-kept", "protected": {"sex": "race-value"}, "score": 0.7}
    deciding = threading.Thread(target=lambda: answer.append(running.decide("credit", body)))
    deciding.start()
    assert sealed.wait(WAIT)

    environment = {
        **os.environ,
        "ETHICA__LEDGER__MASTER_KEY": running.settings.ledger.master_key.get_secret_value(),
        "ETHICA__LEDGER__KEY_FILE": str(key_path),
    }
    command = [Path(sys.executable).with_name("ethica"), "subjects", "erase", "race-gone"]
    erasing = subprocess.Popen(  # another process: its own key file object and connections
        [*map(str, command), "--yes", "--database", database_url],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    observer = create_engine(database_url)
    try:

        def retired() -> bool:
            with observer.connect() as connection:
                listed = connection.execute(select(KeyEpoch.id)).scalars().all()
            return old_epoch not in listed and erasing.poll() in (None, 0)

        _wait_for(retired, "the erasure to delete the old epoch")
    finally:
        observer.dispose()
        release.set()  # the gateway's group now writes a value sealed under a retired epoch
    deciding.join(WAIT)
    output, _ = erasing.communicate(timeout=WAIT)
    assert erasing.returncode == 0, output.decode()
    assert answer and answer[0].status_code == 201, answer

    with state_of(running.app).sessions() as session:
        values = session.scalars(
            select(ProtectedValue.value).where(ProtectedValue.subject_id == "race-kept")
        ).all()
        (epoch,) = session.scalars(select(KeyEpoch.id)).all()
        cipher = session_cipher(session, running.settings.ledger.master_key_bytes)
        assert [cipher.open("sex", value) for value in values] == ["race-value"]
    assert epoch != old_epoch and values[0].startswith(f"{epoch}:")
    verification = running.client.get(
        "/v1/ledger/verification", headers=running.headers["officer"]
    ).json()
    assert verification["ok"], verification["problems"]
