"""A monitoring pass counts the new days and raises what the system's rules find, in its ledger.

By hand (``ethica monitor run``) and on the service's schedule; an alert still open or
acknowledged is not raised twice, a resolved one is raised again while its condition holds.
On SQLite and PostgreSQL.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from service_testing import Service
from sqlalchemy import update
from typer.testing import CliRunner

from ethica.cli import app as cli
from ethica.service.app import state_of
from ethica.service.decisions.tables import Decision
from ethica.service.ledger.service import verify_ledger
from ethica.service.ledger.writer import LedgerWriter
from ethica.service.monitoring import job
from ethica.service.monitoring.alerts import list_alerts, move_alert
from ethica.service.systems.tables import System

runner = CliRunner()
GROUPS = ("f", "m")


def _decide_with_a_gap(running: Service, first_day: datetime, per_day: int = 20) -> list[str]:
    """Six days of decisions where women are approved far less often than men (even: women)."""
    rng = np.random.default_rng(5)
    ids = []
    for i in range(6 * per_day):
        group = GROUPS[i % 2]
        score = float(np.clip(rng.normal(0.3 if group == "f" else 0.7, 0.15), 0.0, 1.0))
        response = running.decide(
            "credit", {"subject_id": f"s{i}", "protected": {"sex": group}, "score": score}
        )
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    with state_of(running.app).sessions() as session:
        for i, decision_id in enumerate(ids):
            moment = first_day + timedelta(days=i // per_day, minutes=5 + i % per_day)
            session.execute(
                update(Decision).where(Decision.id == decision_id).values(created_at=moment)
            )
        session.commit()
    return ids


def _running(service: Callable[..., Service], **settings: object) -> Service:
    running = service(**settings)
    running.register(
        "credit",
        risk_tier="high",
        decision={"kind": "binary", "threshold": 0.5, "favourable_truth": "repaid"},
    )
    return running


def _run(database_url: str, until: datetime) -> str:
    result = runner.invoke(
        cli, ["monitor", "run", "--until", until.isoformat(), "--database", database_url]
    )
    assert result.exit_code == 0, result.output
    return " ".join(result.output.split())  # the console wraps long lines


def test_monitor_run_raises_each_alert_once_in_the_ledger(
    service: Callable[..., Service], database_url: str
) -> None:
    running = _running(service)
    day0 = datetime(2026, 11, 2, tzinfo=UTC)
    _decide_with_a_gap(running, day0)
    until = day0 + timedelta(days=6)

    output = _run(database_url, until)
    assert "credit: counted 6 new day(s)" in output and "raised 4 alert(s)" in output
    with state_of(running.app).sessions() as session:
        alerts = list_alerts(session, system_id="credit")
        # Both groups' gaps pass both thresholds of a high-risk system (5 and 10 points).
        assert sorted((a.rule, a.group) for a in alerts) == [
            ("selection-gap-sex", "f"),
            ("selection-gap-sex", "m"),
            ("selection-gap-sex-critical", "f"),
            ("selection-gap-sex-critical", "m"),
        ]
        women = next(a for a in alerts if a.rule == "selection-gap-sex" and a.group == "f")
        assert women.value < -0.10 and women.state == "open"
        # A critical default rule does not suspend unless the spec says so.
        assert session.get(System, "credit").status == "active"  # type: ignore[union-attr]
        assert verify_ledger(session, settings=running.settings).ok

    # Nothing new counted, nothing raised twice while the alerts stand.
    assert "counted 0 new day(s)" in (again := _run(database_url, until))
    assert "raised 0 alert(s)" in again

    # Once resolved, the condition still holding raises it again; the others still stand.
    # As another process would (the CLI wrote to the chain after the service's writer did).
    writer = LedgerWriter(state_of(running.app).sessions, running.settings.ledger.master_key_bytes)
    writer.run(
        lambda batch: move_alert(
            batch,
            system_id="credit",
            sequence=women.sequence,
            to="resolved",
            who="officer@bank.example",
            why="reviewed the week",
        )
    )
    writer.close()
    assert "raised 1 alert(s)" in _run(database_url, until)
    with state_of(running.app).sessions() as session:
        alerts = list_alerts(session, system_id="credit")
        assert len(alerts) == 5 and alerts[0].rule == "selection-gap-sex"
        assert alerts[0].group == "f" and alerts[0].state == "open"
        assert verify_ledger(session, settings=running.settings).ok


def test_a_system_without_a_gap_raises_nothing(
    service: Callable[..., Service], database_url: str
) -> None:
    running = _running(service)
    day0 = datetime(2026, 11, 2, tzinfo=UTC)
    rng = np.random.default_rng(8)
    for i in range(60):
        score = float(rng.uniform())
        body = {"subject_id": f"s{i}", "protected": {"sex": GROUPS[i % 2]}, "score": score}
        assert running.decide("credit", body).status_code == 201
    with state_of(running.app).sessions() as session:
        session.execute(update(Decision).values(created_at=day0 + timedelta(hours=3)))
        session.commit()
    # Sixty decisions: below the rules' minimum count of 30 per group with a gap, or no gap.
    assert "raised 0 alert(s)" in _run(database_url, day0 + timedelta(days=2))


def test_the_service_monitors_on_its_schedule(
    service: Callable[..., Service], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Wait on the passes the schedule reports, not on the clock: a slow machine only makes
    # the test slower. The bound is a safety net for a schedule that never runs.
    passes = _Passes()
    monkeypatch.setattr(job, "_log", passes.report)
    running = _running(service, gateway={"monitoring_interval_hours": 0.2 / 3600})
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    _decide_with_a_gap(running, today - timedelta(days=6), per_day=20)
    first = passes.wait_for(lambda done: any(p.raised for p in done))
    assert first is not None, "the scheduled monitoring raised no alert"
    # A few more passes after the one that raised: none raises an alert twice.
    assert passes.wait_for(lambda done: len(done) >= first + 3) is not None
    with state_of(running.app).sessions() as session:
        alerts = list_alerts(session, system_id="credit")
        keys = [(a.rule, a.group) for a in alerts]
        assert len(keys) == len(set(keys)) and ("selection-gap-sex", "f") in keys
        assert verify_ledger(session, settings=running.settings).ok


class _Passes:
    """The passes the monitoring schedule reports, in order, for a test to wait on."""

    SAFETY_SECONDS = 300.0

    def __init__(self) -> None:
        self.done: list[job.MonitorPass] = []
        self._changed = threading.Condition()

    def report(self, passes: list[job.MonitorPass]) -> None:
        with self._changed:
            self.done.extend(p for p in passes if p.run.system_id == "credit")
            self._changed.notify_all()

    def wait_for(self, condition: Callable[[list[job.MonitorPass]], bool]) -> int | None:
        """How many passes were reported once ``condition`` held; ``None`` if it never did."""
        with self._changed:
            held = self._changed.wait_for(lambda: condition(self.done), self.SAFETY_SECONDS)
            return len(self.done) if held else None
