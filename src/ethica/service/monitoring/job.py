"""One monitoring pass over a system: count its new days, then raise what its rules find.

A writer job (``ethica monitor run`` and the service's schedule both run it): the windows are
counted through :func:`run_monitor`, the system's rules read the last span of stored windows,
and each alert that fires is recorded in the system's ledger chain by :func:`raise_alerts`.
An alert of the same rule, grouping and group that is still open or acknowledged is not raised
again; once resolved, the next pass that finds the condition raises it anew.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from ethica.governance import parse_spec
from ethica.monitoring._alerts import default_rules
from ethica.monitoring._windows import window_start
from ethica.service.ledger.writer import Batch
from ethica.service.monitoring.alerts import list_alerts, raise_alerts
from ethica.service.monitoring.service import MonitorRun, run_monitor, system_alerts
from ethica.service.scheduled import JobWriter, start_every
from ethica.service.systems.service import get_system, list_systems

log = logging.getLogger("ethica.service.monitoring")

#: The span the default rules read (days); the report evaluates its rules on the same span.
SPAN_DAYS = 7


@dataclass(frozen=True)
class MonitorPass:
    """What one pass did for a system: the days it counted and the alerts it raised."""

    run: MonitorRun
    raised: list[int] = field(default_factory=list)
    window_end: str = ""


def monitor_system(
    batch: Batch,
    *,
    system_id: str,
    database_url: str,
    master_key: bytes,
    until: datetime,
    now: datetime,
) -> MonitorPass:
    """Count the system's new whole days before ``until``, then raise its rules' new alerts."""
    run = run_monitor(
        batch.session,
        system_id=system_id,
        database_url=database_url,
        master_key=master_key,
        until=until,
        now=now,
    )
    end = window_start(until)
    system = get_system(batch.session, system_id=system_id)
    groupings = [p.name for p in parse_spec(system.spec).protected_attributes]
    rules = default_rules(system.risk_tier, groupings)
    # The longest span a rule reads (input drift reads more days than a gap).
    days = max(SPAN_DAYS, *(rule.span_days for rule in rules))
    alerts = system_alerts(
        batch.session, system_id=system_id, since=end - timedelta(days=days), until=end
    )
    standing = {
        (a.rule, a.subject, a.group)
        for a in list_alerts(batch.session, system_id=system_id)
        if a.state != "resolved"
    }
    fresh = [a for a in alerts if (a.rule, a.subject, a.group) not in standing]
    raised = raise_alerts(
        batch, system_id=system_id, alerts=fresh, rules=rules, window_end=end.isoformat()
    )
    return MonitorPass(run, raised, end.isoformat())


def monitor_all(
    batch: Batch, *, database_url: str, master_key: bytes, until: datetime, now: datetime
) -> list[MonitorPass]:
    """Run :func:`monitor_system` for every system (the scheduled job)."""
    systems, _ = list_systems(batch.session, limit=10_000)
    return [
        monitor_system(
            batch,
            system_id=system.id,
            database_url=database_url,
            master_key=master_key,
            until=until,
            now=now,
        )
        for system in systems
    ]


def start_schedule(
    writer: JobWriter, *, database_url: str, master_key: bytes, hours: float
) -> asyncio.Task[None] | None:
    """Monitor every system every ``hours`` (whole days up to the run); ``None`` when 0."""

    def job(batch: Batch) -> list[MonitorPass]:
        now = datetime.now(UTC)
        return monitor_all(
            batch, database_url=database_url, master_key=master_key, until=now, now=now
        )

    return start_every(writer, job, seconds=hours * 3600.0, name="monitoring", report=_log)


def _log(passes: list[MonitorPass]) -> None:
    for done in passes:
        log.info(
            "monitoring %s: %d day(s) counted, %d recounted, %d alert(s) raised",
            done.run.system_id,
            len(done.run.built),
            len(done.run.refreshed),
            len(done.raised),
        )
