"""Alerts of a system's monitoring, kept in its ledger chain: raised, acknowledged, resolved.

The ledger is the record: an alert is a ``monitoring_alert`` entry, each change of its state a
``monitoring_alert_state`` entry naming the alert's sequence, who and why; the current state is
read back from those entries. Each alert raised is also queued for the business's signed webhook
(in the same job, so it is sent if and only if it is recorded). A critical rule that may
suspend the system suspends it in the same writer job (the existing kill switch, with the alert
as its reason).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ethica.errors import InputError
from ethica.monitoring._alerts import TRANSITIONS, Alert, AlertRule, State
from ethica.monitoring._report import alert_figure
from ethica.service.errors import ConflictError, NotFoundError
from ethica.service.ledger.store import row_entry
from ethica.service.ledger.tables import LedgerEntry
from ethica.service.ledger.writer import Batch
from ethica.service.notifications.service import notify_alert
from ethica.service.systems.service import get_system
from ethica.service.systems.suspension import ACTIVE, suspend

RAISED = "monitoring_alert"
MOVED = "monitoring_alert_state"


@dataclass(frozen=True)
class StoredAlert:
    """An alert as the ledger holds it, with its current state."""

    sequence: int
    rule: str
    severity: str
    subject: str
    group: str
    metric: str
    value: float
    threshold: float
    state: State
    history: list[dict[str, str]]
    window_end: str = ""
    #: A drift alert's test score and the threshold it was judged by (see ``Observation``).
    score: float | None = None
    score_threshold: float | None = None


def raise_alerts(
    batch: Batch,
    *,
    system_id: str,
    alerts: Sequence[Alert],
    rules: Sequence[AlertRule],
    window_end: str,
) -> list[int]:
    """Record each alert in the system's chain; suspend for a critical rule that says so."""
    get_system(batch.session, system_id=system_id)
    by_name = {rule.name: rule for rule in rules}
    sequences = []
    for alert in alerts:
        entry = batch.ledger.append(
            RAISED,
            chain=system_id,
            public={
                "system_id": system_id,
                "rule": alert.rule,
                "severity": alert.severity,
                "subject": alert.subject,
                "group": alert.group,
                "metric": alert.metric,
                "value": alert.value,
                "threshold": alert.threshold,
                "window_end": window_end,
                **(
                    {"score": alert.score, "score_threshold": alert.score_threshold}
                    if alert.score is not None
                    else {}
                ),
            },
        )
        sequences.append(entry.sequence)
        notify_alert(
            batch.session,
            system_id=system_id,
            alert_sequence=entry.sequence,
            summary=f"{alert.severity}: {alert.rule} ({alert_figure(alert)}) "
            f"in the days before {window_end[:10]}",
        )
        rule = by_name.get(alert.rule)
        system = get_system(batch.session, system_id=system_id)
        if rule is not None and rule.suspend and system.status == ACTIVE:
            suspend(
                batch,
                system_id=system_id,
                reason=f"monitoring alert {entry.sequence}: {alert.rule} ({alert_figure(alert)})",
                by="monitor",
            )
    return sequences


def move_alert(
    batch: Batch, *, system_id: str, sequence: int, to: State, who: str, why: str
) -> StoredAlert:
    """Acknowledge or resolve an alert (open -> acknowledged -> resolved); a writer job."""
    current = get_alert(batch.session, system_id=system_id, sequence=sequence)
    if to not in TRANSITIONS[current.state]:
        raise ConflictError(f"alert {sequence} is {current.state}; it cannot become {to}")
    if not who.strip() or not why.strip():
        raise InputError("say who acknowledges or resolves an alert, and why")
    batch.ledger.append(
        MOVED,
        chain=system_id,
        public={"alert": sequence, "state": to, "by": who.strip(), "reason": why.strip()},
    )
    # The entry's row is inserted when the writer's group commits: answer from the move itself.
    step = {"state": to, "by": who.strip(), "why": why.strip()}
    return StoredAlert(**{**current.__dict__, "state": to, "history": [*current.history, step]})


def get_alert(session: Session, *, system_id: str, sequence: int) -> StoredAlert:
    """One alert and its current state, from the ledger."""
    found = [a for a in list_alerts(session, system_id=system_id) if a.sequence == sequence]
    if not found:
        raise NotFoundError(f"system {system_id!r} has no alert {sequence}")
    return found[0]


def list_alerts(session: Session, *, system_id: str) -> list[StoredAlert]:
    """Every alert of a system with its current state, newest first."""
    rows = session.scalars(
        select(LedgerEntry)
        .where(LedgerEntry.chain == system_id, LedgerEntry.kind.in_((RAISED, MOVED)))
        .order_by(LedgerEntry.sequence)
    )
    alerts: dict[int, StoredAlert] = {}
    for row in rows:
        entry = row_entry(row)
        fields = entry.public
        if entry.kind == RAISED:
            alerts[entry.sequence] = StoredAlert(
                sequence=entry.sequence,
                rule=str(fields["rule"]),
                severity=str(fields["severity"]),
                subject=str(fields["subject"]),
                group=str(fields["group"]),
                metric=str(fields["metric"]),
                value=float(fields["value"]),
                threshold=float(fields["threshold"]),
                state="open",
                history=[],
                window_end=str(fields.get("window_end", "")),
                score=_number(fields.get("score")),
                score_threshold=_number(fields.get("score_threshold")),
            )
            continue
        alert = alerts.get(int(fields["alert"]))
        if alert is not None:
            alert.history.append(
                {
                    "state": str(fields["state"]),
                    "by": str(fields["by"]),
                    "why": str(fields["reason"]),
                }
            )
            alerts[alert.sequence] = StoredAlert(
                **{**alert.__dict__, "state": _state(str(fields["state"]))}
            )
    return sorted(alerts.values(), key=lambda a: a.sequence, reverse=True)


def _state(text: str) -> State:
    if text == "acknowledged":
        return "acknowledged"
    return "resolved" if text == "resolved" else "open"


def _number(value: object) -> float | None:
    return None if value is None else float(str(value))
