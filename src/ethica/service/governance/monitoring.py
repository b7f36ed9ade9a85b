"""Post-market monitoring (AI Act Art. 72) as evidence: the system's latest monitoring windows
and the alerts its rules raised, read from what monitoring stored (never recounted here).

The record is the audit of the last 30 counted days (the daily windows of
:mod:`ethica.service.monitoring`, added up), dated by the end of the newest window: monitoring
that has counted no day for longer than the evidence's validity (7 days) has stopped, and the
obligation turns overdue. Every alert raised in those days, and every one still open or
acknowledged, is cited by its ledger entry; those not resolved are among the findings.
"""

from __future__ import annotations

import warnings
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ethica.errors import InputError
from ethica.fairness import MissingGroupWarning, audit
from ethica.governance import AuditEvidence, LedgerRef, SystemSpec
from ethica.monitoring._windows import merge_windows
from ethica.service.ledger.store import row_entry
from ethica.service.ledger.tables import LedgerEntry
from ethica.service.monitoring.alerts import RAISED, StoredAlert, list_alerts
from ethica.service.monitoring.service import DAY, load_windows
from ethica.service.monitoring.tables import MonitoringWindow

SPAN = timedelta(days=30)
"""The counted days one record covers, ending with the newest window."""


def monitoring_evidence(
    session: Session, *, spec: SystemSpec, now: datetime
) -> AuditEvidence | None:
    """The audit of the latest 30 counted days before ``now``, citing the span's alerts.

    ``None`` when monitoring has counted no day of the system yet (or the counts cannot be
    audited): then there is no evidence of post-market monitoring either way.
    """
    newest = session.scalar(
        select(func.max(MonitoringWindow.start)).where(
            MonitoringWindow.system_id == spec.id, MonitoringWindow.start <= now - DAY
        )
    )
    if newest is None or not spec.protected_attributes:
        return None
    end = newest.astimezone(UTC) + DAY
    windows = list(load_windows(session, system_id=spec.id, since=end - SPAN, until=end).values())
    merged = merge_windows(windows).decisions
    days = f"{windows[0].start.date()} to {(end - DAY).date()}"
    dataset = f"{spec.id}'s monitoring windows, {len(windows)} days from {days}"
    alerts, refs = _alerts(session, spec.id, since=end - SPAN)
    findings = [_finding(a) for a in alerts if a.state != "resolved"]
    if merged is None:  # no decision in the span: nothing was monitored
        return AuditEvidence(
            observed_at=end, refs=refs, scope="monitoring", dataset=dataset, rows=0,
            sensitive_features=[p.name for p in spec.protected_attributes], findings=findings,
        )  # fmt: skip
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", MissingGroupWarning)
        try:
            result = audit(merged, sensitive_features=list(merged.sensitive_features))
        except InputError:
            return None  # counts the audit cannot compare (every decision alike) show nothing
    notes = MissingGroupWarning.notes(caught)
    record = AuditEvidence.from_audit(
        result, scope="monitoring", dataset=dataset, observed_at=end, refs=refs
    )
    return record.model_copy(update={"findings": [*record.findings, *findings, *notes]})


def _alerts(
    session: Session, system_id: str, *, since: datetime
) -> tuple[list[StoredAlert], list[LedgerRef]]:
    """The alerts raised since ``since`` or not resolved, and the entries that raised them."""
    current = {a.sequence: a for a in list_alerts(session, system_id=system_id)}
    rows = session.scalars(
        select(LedgerEntry)
        .where(LedgerEntry.chain == system_id, LedgerEntry.kind == RAISED)
        .order_by(LedgerEntry.sequence)
    )
    alerts, refs = [], []
    for row in rows:
        entry = row_entry(row)
        alert = current[entry.sequence]
        if alert.state != "resolved" or entry.recorded_at >= since:
            alerts.append(alert)
            refs.append(LedgerRef.of(entry))
    return alerts, refs


def _finding(alert: StoredAlert) -> str:
    return (
        f"alert {alert.sequence} ({alert.severity}, {alert.state}): {alert.subject} = "
        f"{alert.group}, {alert.metric.replace('_', ' ')} gap {alert.value:+.3f} past "
        f"{alert.threshold:.3f}"
    )
