"""Audits of the decision log as evidence for data governance (Art. 10) and accuracy (Art. 15).

The evidence is the live audit of the system's stored decisions with their recorded true
outcomes (:func:`ethica.service.decisions.live_audit.audit_live_decisions`, aggregated in the
database on PostgreSQL), over the 90 days that end with the newest such decision. The audit is
dated by that decision: it shows how the system performed up to that day, so when no decision
with an outcome has been recorded for longer than an audit's validity (90 days) the evidence
lapses and the obligations turn back to overdue.

The same audit serves both obligations: as the audit of decisions with outcomes (overall
accuracy and its gaps by group, Art. 15) and as the examination of the data a retraining learns
from, the decisions with their outcomes, by protected group (Art. 10(2)(f)). It is not an audit
of the data the current model was trained on, which the service does not hold.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ethica.errors import InputError
from ethica.governance import (
    EVIDENCE_KINDS,
    AuditEvidence,
    BinaryDecision,
    MulticlassDecision,
    SystemSpec,
)
from ethica.service.decisions.live_audit import audit_live_decisions_noted
from ethica.service.decisions.record import PENDING
from ethica.service.decisions.tables import Decision
from ethica.service.settings import Settings

PERIOD = EVIDENCE_KINDS["decisions-audit"].validity
"""The span of decisions one audit covers, ending with the newest decision with an outcome."""
SCOPES: tuple[Literal["decisions", "training-data"], ...] = ("decisions", "training-data")


def decision_audit_evidence(
    session: Session, *, settings: Settings, spec: SystemSpec, now: datetime
) -> list[AuditEvidence]:
    """The live audit of decisions with outcomes before ``now``, for Arts. 15 and 10.

    Empty when there is nothing to audit: no protected attributes declared, a kind whose
    outcomes cannot be read (a binary system without ``favourable_truth``, a ranking), or no
    decision with a recorded outcome before ``now``.
    """
    if not _auditable(spec):
        return []
    newest = session.scalar(
        select(func.max(Decision.created_at)).where(
            Decision.system_id == spec.id,
            Decision.seeded.is_(False),
            Decision.outcome != PENDING,
            Decision.true_outcome.is_not(None),
            Decision.created_at < now,
        )
    )
    if newest is None:
        return []
    newest = newest.astimezone(UTC)
    since = newest - PERIOD
    # Customers who did not disclose an attribute are audited as the group "missing": the
    # audit says so, and the evidence keeps it among its findings.
    try:
        result, notes = audit_live_decisions_noted(
            session,
            database_url=settings.database.url,
            system_id=spec.id,
            master_key=settings.ledger.master_key_bytes,
            since=since,
            until=now,
            with_outcomes=True,
        )
    except InputError:
        # Decisions the audit cannot compare (e.g. every prediction the same) are no evidence:
        # the obligation stays missing rather than the register failing.
        return []
    period = f"{since.date()} to {newest.date()}"
    datasets = {
        "decisions": f"{spec.id}'s decisions with recorded outcomes, {period}",
        "training-data": f"{spec.id}'s decisions with their outcomes (the data a retraining "
        f"learns from), {period}",
    }
    records = []
    for scope in SCOPES:
        record = AuditEvidence.from_audit(
            result, scope=scope, dataset=datasets[scope], observed_at=newest
        )
        records.append(record.model_copy(update={"findings": [*record.findings, *notes]}))
    return records


def _auditable(spec: SystemSpec) -> bool:
    decision = spec.decision
    if not spec.protected_attributes:
        return False
    if isinstance(decision, BinaryDecision):
        return decision.favourable_truth is not None
    return isinstance(decision, MulticlassDecision)
