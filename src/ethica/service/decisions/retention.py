"""Retention: decisions older than their system's ``retention_months`` stop being personal data.

For each such decision the protected attributes are deleted and the link to the subject is
removed; outcome, score and time stay, so audits over the past keep their counts. The ledger
entries stay too (deleting them would break the chains).

Known limitation: a decision's input values are sealed in its ledger entry with the subject's
one data key, which also seals their newer decisions. Shredding the inputs of old decisions
alone would need a key per subject *and period* (rotated, e.g., monthly, and destroyed when the
period falls out of retention); until then, old inputs become unreadable only when the subject
is erased.
"""

from __future__ import annotations

import asyncio
import calendar
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update

from ethica.governance import parse_spec
from ethica.service.db import utcnow
from ethica.service.decisions.tables import Decision, ProtectedValue
from ethica.service.ledger.shredding import destroy_expired_keys
from ethica.service.ledger.writer import Batch
from ethica.service.scheduled import JobWriter, start_every
from ethica.service.systems.tables import System

log = logging.getLogger("ethica.service.decisions.retention")

RETENTION_CHAIN = "retention"
"""The ledger chain that records each retention run that removed something (no personal data)."""


@dataclass(frozen=True)
class RetentionReport:
    """What retention did to one system's decisions."""

    system_id: str
    retention_months: int
    cutoff: datetime
    protected_values_deleted: int
    decisions_unlinked: int
    keys_destroyed: int = 0


def months_before(moment: datetime, months: int) -> datetime:
    """The same day and time ``months`` calendar months earlier (clamped to the month's end)."""
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def apply_retention(batch: Batch, *, now: datetime | None = None) -> list[RetentionReport]:
    """Apply every system's retention period at ``now``; one report per system that has one.

    A ledger-writer job (``writer.submit(lambda batch: apply_retention(batch))``): besides
    unlinking expired decisions it destroys the keys of the system's fully expired months,
    which shreds those decisions' sealed inputs and explanations in the ledger.
    """
    session = batch.session
    now = now or utcnow()
    reports = []
    for system in session.execute(select(System.id, System.spec)).all():
        system_id: str = system.id
        months = parse_spec(system.spec).retention_months
        if months is None:
            continue
        cutoff = months_before(now, months)
        expired = select(Decision.id).where(
            Decision.system_id == system_id, Decision.created_at < cutoff
        )
        deleted = session.execute(
            delete(ProtectedValue)
            .where(ProtectedValue.decision_id.in_(expired))
            .execution_options(synchronize_session=False)
        )
        unlinked = session.execute(
            update(Decision)
            .where(
                Decision.system_id == system_id,
                Decision.created_at < cutoff,
                Decision.subject_id.is_not(None),
            )
            .values(subject_id=None, explanation=None)
            .execution_options(synchronize_session=False)
        )
        report = RetentionReport(
            system_id=system_id,
            retention_months=months,
            cutoff=cutoff,
            protected_values_deleted=_rowcount(deleted),
            decisions_unlinked=_rowcount(unlinked),
            keys_destroyed=destroy_expired_keys(batch, system_id, before_month=f"{cutoff:%Y-%m}"),
        )
        if report.protected_values_deleted or report.decisions_unlinked or report.keys_destroyed:
            # The record that explains to verification the keys and values that are gone.
            batch.ledger.append(
                "retention",
                chain=RETENTION_CHAIN,
                public={
                    "system_id": system_id,
                    "cutoff": cutoff.isoformat(),
                    "protected_values_deleted": report.protected_values_deleted,
                    "decisions_unlinked": report.decisions_unlinked,
                    "keys_destroyed": report.keys_destroyed,
                },
            )
        reports.append(report)
    return reports


def start_schedule(writer: JobWriter, *, hours: float) -> asyncio.Task[None] | None:
    """Apply retention every ``hours`` on the running event loop; ``None`` when ``hours`` is 0."""
    return start_every(
        writer, apply_retention, seconds=hours * 3600.0, name="retention", report=_log_reports
    )


def _log_reports(reports: list[RetentionReport]) -> None:
    for r in reports:
        log.info(
            "retention %s (%d months): %d decisions unlinked, %d protected values deleted",
            r.system_id,
            r.retention_months,
            r.decisions_unlinked,
            r.protected_values_deleted,
        )


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
