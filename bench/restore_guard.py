"""What the start-up check for restored erasures costs, as the subjects held grow.

`ethica serve` refuses to start while the database holds a subject that the erasure journal
says was erased (docs/erasure.md): one query for every subject id held, one HMAC each. Each
subject here has two consent records and a rights request (three rows). The journal lists ten
erasures of subjects not held (what a healthy start finds). Beside it: the rest of a start
(``build_state``: engine, migrations checked, key file, writer) and the check with no journal
lines (no query). There is no peer; the machine is shared, so CPU time of this process is
printed beside wall time.

    .venv/bin/python bench/restore_guard.py --subjects 10000,100000 [--postgresql URL]
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert

from ethica.ledger import ErasureJournal, ErasureRecord, KeyRing
from ethica.service.consent.tables import ConsentRecord
from ethica.service.db import unit_of_work
from ethica.service.ledger.journal import journal_path
from ethica.service.settings import Settings
from ethica.service.state import build_state
from ethica.service.subjects.replay import refuse_restored_erasures
from ethica.service.subjects.tables import RightsRequest


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _timed(action: Callable[[], object]) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), _cpu()
    action()
    return time.perf_counter() - wall, _cpu() - cpu


def _fill(settings: Settings, count: int) -> None:
    at = datetime(2026, 1, 15, tzinfo=UTC)
    state = build_state(settings, migrate=True)
    consent = [
        {
            "id": uuid.uuid4().hex,
            "subject_id": f"s{i}",
            "data_use": use,
            "status": "granted",
            "source": "api",
            "recorded_at": at,
            "ledger_sequence": 0,
            "ledger_hash": "0" * 64,
        }
        for i in range(count)
        for use in ("credit", "marketing")
    ]
    requests = [
        {
            "id": uuid.uuid4().hex,
            "kind": "access",
            "subject_id": f"s{i}",
            "received_at": at,
            "due_at": at,
            "status": "completed",
            "requested_by": "customer",
        }
        for i in range(count)
    ]
    with unit_of_work(state.sessions) as session:
        session.execute(insert(ConsentRecord), consent)
        session.execute(insert(RightsRequest), requests)
    state.close()


def _case(url: str, folder: Path, count: int) -> list[tuple[str, float, float]]:
    settings = Settings(database={"url": url}, ledger={"key_file": str(folder / "keys.json")})
    _fill(settings, count)
    master = settings.ledger.master_key_bytes
    path = journal_path(settings)
    assert path is not None
    journal = ErasureJournal(path, master)
    rows = []
    wall, cpu = time.perf_counter(), _cpu()
    state = build_state(settings, migrate=True)
    rows.append(("rest of a start (build_state)", time.perf_counter() - wall, _cpu() - cpu))
    sessions = state.sessions
    wall, cpu = _timed(lambda: refuse_restored_erasures(sessions, master_key=master))
    rows.append(("check, empty journal", wall, cpu))
    for i in range(10):
        erased = KeyRing(master).pseudonym(f"gone{i}")
        now = datetime.now(UTC).isoformat()
        journal.record(ErasureRecord(erased, now, "subjects", i, "0" * 64))
    wall, cpu = _timed(lambda: refuse_restored_erasures(sessions, master_key=master))
    rows.append(("check, 10 journal lines", wall, cpu))
    state.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", default="10000,100000")
    parser.add_argument("--postgresql", default=None, help="URL of an empty database to fill")
    arguments = parser.parse_args()
    load = Path("/proc/loadavg").read_text().split()[0]
    print(f"load average {load}")
    print("| database | subjects | what | wall s | CPU s |\n|---|---:|---|---:|---:|")
    for count in (int(c) for c in arguments.subjects.split(",")):
        with tempfile.TemporaryDirectory() as folder:
            cases = [("SQLite", f"sqlite:///{folder}/ethica.db")]
            if arguments.postgresql:
                cases.append(("PostgreSQL", arguments.postgresql))
            for name, url in cases:
                if name == "PostgreSQL":
                    _empty(url)
                for what, wall, cpu in _case(url, Path(folder) / name, count):
                    print(f"| {name} | {count:,} | {what} | {wall:.3f} | {cpu:.3f} |")


def _empty(url: str) -> None:
    import psycopg

    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as connection:
        connection.execute("DROP SCHEMA public CASCADE")
        connection.execute("CREATE SCHEMA public")


if __name__ == "__main__":
    main()
