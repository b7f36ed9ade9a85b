"""Monitoring alerts live in the system's ledger chain: raised, acknowledged, resolved, and a
critical rule that says so suspends the system. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from service_testing import Service

from ethica.errors import InputError
from ethica.monitoring._alerts import Alert, AlertRule
from ethica.service.app import state_of
from ethica.service.errors import ConflictError
from ethica.service.ledger.service import verify_ledger
from ethica.service.ledger.store import SqlEntryStore
from ethica.service.monitoring.alerts import get_alert, list_alerts, move_alert, raise_alerts
from ethica.service.systems.tables import System

GAP = Alert("selection-gap-sex", "warning", "sex", "female", "selection_rate", -0.12, 0.05)
CRITICAL = Alert(
    "selection-gap-sex-critical", "critical", "sex", "female", "selection_rate", -0.12, 0.10
)
RULES = [
    AlertRule("selection-gap-sex", "fairness_gap", "sex", "selection_rate", 0.05),
    AlertRule(
        "selection-gap-sex-critical",
        "fairness_gap",
        "sex",
        "selection_rate",
        0.10,
        severity="critical",
        suspend=True,
    ),
]


def test_an_alert_is_raised_acknowledged_and_resolved_in_the_ledger(
    service: Callable[..., Service],
) -> None:
    running = service()
    running.register("credit", risk_tier="limited")
    writer = state_of(running.app).gateway.writer
    [sequence] = writer.run(
        lambda batch: raise_alerts(
            batch, system_id="credit", alerts=[GAP], rules=RULES, window_end="2026-11-30"
        )
    )
    acknowledged = writer.run(
        lambda batch: move_alert(
            batch,
            system_id="credit",
            sequence=sequence,
            to="acknowledged",
            who="officer@bank.example",
            why="looking at the week's applications",
        )
    )
    assert acknowledged.state == "acknowledged"
    with pytest.raises(ConflictError, match="cannot become open"):
        writer.run(
            lambda batch: move_alert(
                batch, system_id="credit", sequence=sequence, to="open", who="x", why="y"
            )
        )
    with pytest.raises(InputError, match="who"):
        writer.run(
            lambda batch: move_alert(
                batch, system_id="credit", sequence=sequence, to="resolved", who=" ", why="y"
            )
        )
    writer.run(
        lambda batch: move_alert(
            batch,
            system_id="credit",
            sequence=sequence,
            to="resolved",
            who="officer@bank.example",
            why="threshold moved back; model retrained",
        )
    )
    with state_of(running.app).sessions() as session:
        alert = get_alert(session, system_id="credit", sequence=sequence)
        assert alert.state == "resolved" and alert.value == -0.12
        assert [h["state"] for h in alert.history] == ["acknowledged", "resolved"]
        assert alert.history[1]["by"] == "officer@bank.example"
        assert session.get(System, "credit").status == "active"  # type: ignore[union-attr]
        kinds = [e.kind for e in SqlEntryStore(session).entries("credit")]
        assert kinds.count("monitoring_alert") == 1 and kinds.count("monitoring_alert_state") == 2
        # The whole ledger still verifies: chains, heads, seals, and rows against entries.
        assert verify_ledger(session, settings=running.settings).ok


def test_a_critical_rule_that_may_suspend_suspends_the_system(
    service: Callable[..., Service],
) -> None:
    running = service()
    running.register("credit", risk_tier="high")
    writer = state_of(running.app).gateway.writer
    writer.run(
        lambda batch: raise_alerts(
            batch,
            system_id="credit",
            alerts=[CRITICAL, GAP],
            rules=RULES,
            window_end="2026-11-30",
        )
    )
    with state_of(running.app).sessions() as session:
        assert session.get(System, "credit").status == "suspended"  # type: ignore[union-attr]
        alerts = list_alerts(session, system_id="credit")
        assert {a.severity for a in alerts} == {"critical", "warning"}
        assert all(a.state == "open" for a in alerts)
        kinds = [e.kind for e in SqlEntryStore(session).entries("credit")]
        assert kinds.count("suspension") == 1
