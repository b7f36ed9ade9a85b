"""Evidence gathered from the service's database for a system's obligations register.

Each record is computed now from what the service holds, never typed in: the verification of the
system's ledger chains (Art. 12, 19), the oversight design in force with what reviewers did in the
last 30 days (Art. 14, 26(2)), how many of that period's decisions were explained (Art. 86,
GDPR Art. 22), the live audit of decisions with outcomes (Art. 10, 15; see
:mod:`ethica.service.governance.audits`), the latest monitoring windows and their alerts
(Art. 72; see :mod:`ethica.service.governance.monitoring`), and the serious-incident log with
its reporting clocks (Art. 73). Breaking the thing itself (a tampered entry, review of adverse
decisions turned off, decisions without reasons, an audit gone stale, monitoring stopped, an
incident past its deadline) is what changes the status.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import String, cast, func, select
from sqlalchemy.orm import Session

from ethica.governance import (
    Evidence,
    ExplanationRecord,
    LedgerRef,
    LedgerVerification,
    OversightRecord,
    SystemSpec,
    incident_log,
)
from ethica.service.decisions.tables import Decision
from ethica.service.governance.audits import decision_audit_evidence
from ethica.service.governance.incidents import incidents_of
from ethica.service.governance.monitoring import monitoring_evidence
from ethica.service.ledger.service import verify_ledger
from ethica.service.ledger.store import SqlEntryStore
from ethica.service.reviews.clocks import is_adverse
from ethica.service.reviews.tables import Review
from ethica.service.settings import Settings

WINDOW = timedelta(days=30)
"""The period whose operation the oversight and explanation records describe."""
DECIDING_ACTIONS = ("confirm", "override", "decide")
"""Review actions that decide a held case (an approval completes a four-eyes override; a
case no model decided is decided directly)."""


def gather_evidence(
    session: Session, *, settings: Settings, spec: SystemSpec, now: datetime
) -> list[Evidence]:
    """Every record the database supports for ``spec`` on ``now``, each observed at ``now``."""
    records: list[Evidence] = [
        ledger_evidence(session, settings=settings, system_id=spec.id, now=now),
        oversight_evidence(session, spec=spec, now=now),
    ]
    explained = explanation_evidence(session, spec=spec, now=now)
    if explained is not None:
        records.append(explained)
    records.extend(decision_audit_evidence(session, settings=settings, spec=spec, now=now))
    monitored = monitoring_evidence(session, spec=spec, now=now)
    if monitored is not None:
        records.append(monitored)
    records.append(incident_log(incidents_of(session, system_id=spec.id), now=now))
    return records


def system_chains(session: Session, system_id: str) -> list[str]:
    """The system's ledger chains: its own and its writers' partitions (``id/<shard>``)."""
    return [c for c in SqlEntryStore(session).chains() if c.split("/")[0] == system_id]


def ledger_evidence(
    session: Session, *, settings: Settings, system_id: str, now: datetime
) -> LedgerVerification:
    """Verify the system's chains against the signed heads now; cite the chain's head."""
    chains = system_chains(session, system_id)
    report = verify_ledger(session, settings=settings, chains=chains)
    head = SqlEntryStore(session).head(system_id) if system_id in chains else None
    return LedgerVerification.from_report(
        report, observed_at=now, head=None if head is None else LedgerRef.of(head)
    )


def oversight_evidence(session: Session, *, spec: SystemSpec, now: datetime) -> OversightRecord:
    """The oversight policy in force and the last 30 days of reviewers' decisions."""
    since = now - WINDOW
    reviewers, decided, overridden = session.execute(
        select(
            func.count(func.distinct(Review.reviewer_id)),
            func.count(),
            func.count().filter(Review.action == "override"),
        )
        .join(Decision, Decision.id == Review.decision_id)
        .where(
            Decision.system_id == spec.id,
            Review.action.in_(DECIDING_ACTIONS),
            Review.created_at >= since,
        )
    ).one()
    held = session.scalar(
        select(func.count())
        .select_from(Decision)
        .where(Decision.system_id == spec.id, Decision.review_status == "pending_review")
    )
    return OversightRecord(
        observed_at=now,
        oversight=spec.oversight,
        reviewers=int(reviewers),
        decided=int(decided),
        held=int(held or 0),
        override_rate=(overridden / decided) if decided else None,
    )


def explanation_evidence(
    session: Session, *, spec: SystemSpec, now: datetime
) -> ExplanationRecord | None:
    """How many of the last 30 days' decisions (seeded cases aside) carry an explanation.

    ``None`` when the system made no decision in the period: there is nothing to show either way.
    """
    since = now - WINDOW
    # JSON null and SQL NULL both mean "no explanation" (SQLAlchemy stores None as JSON null).
    explained = (
        Decision.explanation.is_not(None) & (cast(Decision.explanation, String) != "null")
    ).label("explained")
    rows: Sequence[tuple[str, bool, int]] = [
        (str(outcome), bool(flag), int(n))
        for outcome, flag, n in session.execute(
            select(Decision.outcome, explained, func.count())
            .where(
                Decision.system_id == spec.id,
                Decision.created_at >= since,
                Decision.seeded.is_(False),
            )
            .group_by(Decision.outcome, explained)
        )
    ]
    if not rows:
        return None
    adverse = [(flag, n) for outcome, flag, n in rows if is_adverse(spec, outcome)]
    return ExplanationRecord(
        observed_at=now,
        period_start=since.date(),
        period_end=now.date(),
        decisions=sum(n for *_, n in rows),
        explained=sum(n for _, flag, n in rows if flag),
        adverse=sum(n for _, n in adverse),
        adverse_explained=sum(n for flag, n in adverse if flag),
    )
