"""What one erasure costs as the number of subjects' keys grows, on SQLite and PostgreSQL.

Each subject has a pseudonym key and a data key (two ``subject_keys`` rows), as the service
makes them. Each erasure re-wraps every surviving key under a new epoch's key-encryption key, then
compacts the database (docs/erasure.md). There is no peer to compare with; the floor row is a
plain delete of one key row, the cost of an erasure that leaves copies behind. The machine is
shared: CPU time (this process) is printed beside wall time.

    .venv/bin/python bench/erasure_cost.py --keys 1000,10000 [--postgresql URL]
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

from sqlalchemy import delete

from ethica.service.ledger.naming import sealing_subject
from ethica.service.ledger.tables import SubjectKey
from ethica.service.ledger.writer import Batch
from ethica.service.settings import Settings
from ethica.service.state import ServiceState, build_state
from ethica.service.subjects.service import run_erasure


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _timed(action: Callable[[], object]) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), _cpu()
    action()
    return time.perf_counter() - wall, _cpu() - cpu


def _make_keys(state: ServiceState, count: int) -> None:
    """``count`` subjects, each with a pseudonym key and one data key, as the service makes."""
    at = datetime(2026, 1, 15, tzinfo=UTC)

    def job(batch: Batch) -> None:
        keyring = batch.ledger.keyring
        assert keyring is not None
        for i in range(count):
            name = sealing_subject(keyring, f"s{i}", "credit", at)
            keyring.seal({}, subject=name, chain="bench", sequence=i, kind="k")

    state.writer.run(job)


def _case(url: str, key_file: Path, count: int) -> list[tuple[str, float, float]]:
    settings = Settings(database={"url": url}, ledger={"key_file": str(key_file)})
    state = build_state(settings, migrate=True)
    try:
        _make_keys(state, count)
        floor = _timed(
            lambda: state.writer.run(
                lambda b: b.session.execute(
                    delete(SubjectKey).where(
                        SubjectKey.subject == b.ledger.keyring.pseudonym_key_name("s1")
                    )  # type: ignore[union-attr]
                )
            )
        )
        erasure = _timed(lambda: run_erasure(state.writer, subject_id="s0", requested_by="b"))
    finally:
        state.close()
    return [("floor: delete one key row", *floor), ("erasure (rotate + compact)", *erasure)]


def _fresh_postgresql(server: str) -> str:
    import psycopg

    name = f"ethica_bench_erasure_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = server.rpartition("/")
    return f"{base}/{name}"


def _drop_postgresql(server: str, url: str) -> None:
    import psycopg

    name = url.rpartition("/")[2]
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--keys", default="1000,10000")
    parser.add_argument("--postgresql", default=None, help="server URL (a database is created)")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as directory:
        for count in (int(float(k)) for k in args.keys.split(",")):
            targets = [("sqlite", f"sqlite:///{directory}/e{count}.db")]
            if args.postgresql:
                url = _fresh_postgresql(args.postgresql).replace(
                    "postgresql://", "postgresql+psycopg://"
                )
                targets.append(("postgresql", url))
            for database, url in targets:
                key_file = Path(directory) / f"{database}-{count}.keys.json"
                try:
                    for case, wall, cpu in _case(url, key_file, count):
                        rows.append((database, count, case, wall, cpu))
                finally:
                    if database == "postgresql":
                        _drop_postgresql(args.postgresql, url)
    print(f"{'database':<11} {'keys':>7}  {'case':<28} {'wall s':>8} {'cpu s':>8}")
    for database, count, case, wall, cpu in rows:
        print(f"{database:<11} {count:>7}  {case:<28} {wall:>8.3f} {cpu:>8.3f}")


if __name__ == "__main__":
    main()
