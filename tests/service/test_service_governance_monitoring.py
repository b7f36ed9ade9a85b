"""Post-market monitoring (Art. 72) rests on the stored monitoring windows and their alerts: met
while a window ended within the last 7 days, overdue once monitoring stops counting days, with
the alerts cited by their ledger entries and the open ones among the findings. SQLite and
PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from service_testing import Service
from test_service_governance import CREDIT
from test_service_monitoring_job import _decide_with_a_gap, _run

from ethica.governance import AuditEvidence, ObligationStatus, SystemRecord, annex_iv
from ethica.service.app import state_of
from ethica.service.governance import service as governance
from ethica.service.monitoring.alerts import list_alerts

DAY0 = datetime(2026, 11, 2, tzinfo=UTC)
BINARY = {"kind": "binary", "threshold": 0.5, "favourable_truth": "repaid"}


def test_monitoring_windows_meet_art_72_until_a_week_passes_without_a_counted_day(
    service: Callable[..., Service], database_url: str
) -> None:
    running = service()
    # Adverse decisions decided automatically, so that monitoring counts both groups' decisions.
    running.register("credit", **{**CREDIT, "oversight": {}}, decision=BINARY)
    state = state_of(running.app)

    def register(now: datetime) -> tuple[ObligationStatus, SystemRecord]:
        with state.sessions() as session:
            found = governance.register_of(
                session, settings=state.settings, system_id="credit", now=now
            )
            record = governance.system_record(
                session, settings=state.settings, system_id="credit", now=now
            )
        assert found is not None
        return found.status("ai-act-72"), record

    _decide_with_a_gap(running, DAY0)
    before, _ = register(DAY0 + timedelta(days=6, hours=1))
    assert before.status.key == "missing"
    assert "no fairness and drift monitoring" in before.reason

    assert "counted 6 new day(s)" in _run(database_url, DAY0 + timedelta(days=6))
    with state.sessions() as session:
        alerts = list_alerts(session, system_id="credit")
    assert len(alerts) == 4

    met, record = register(DAY0 + timedelta(days=6, hours=1))
    assert met.status.key == "met", met.reason
    (evidence,) = met.evidence
    assert isinstance(evidence, AuditEvidence) and evidence.scope == "monitoring"
    assert evidence.dataset == "credit's monitoring windows, 6 days from 2026-11-02 to 2026-11-07"
    assert evidence.rows == 120 and evidence.observed_at == DAY0 + timedelta(days=6)
    assert sorted(r.sequence for r in evidence.refs) == sorted(a.sequence for a in alerts)
    women = next(a for a in alerts if a.rule == "selection-gap-sex" and a.group == "f")
    assert (
        f"alert {women.sequence} (warning, open): sex = f, selection rate gap "
        f"{women.value:+.3f} past 0.050" in evidence.findings
    )
    assert met.expires == (DAY0 + timedelta(days=13)).date()
    # The technical documentation's point 9 reports it.
    document = annex_iv(record, generated_at=DAY0 + timedelta(days=6, hours=1))
    assert "credit's monitoring windows, 6 days from 2026-11-02" in document.to_json()

    # Monitoring stopped counting: a week after the newest window, Art. 72 is overdue.
    lapsed, _ = register(DAY0 + timedelta(days=14))
    assert lapsed.status.key == "overdue"
    assert lapsed.reason == "the fairness and drift monitoring of 2026-11-08 lapsed on 2026-11-15"
