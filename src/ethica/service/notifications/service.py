"""Use cases of customer notifications: record a change of a case, list and read them, and keep
the webhook's delivery state (the sending itself is in :mod:`.webhooks`).

:func:`notify` runs inside the review or concern step that made the change (often a job on the
ledger writer), so the notification commits with the change or not at all.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from ethica.service.db import new_id, utcnow
from ethica.service.decisions.tables import Decision
from ethica.service.notifications.schemas import (
    NotificationKind,
    NotificationRead,
    WebhookAttemptPage,
    WebhookAttemptRead,
)
from ethica.service.notifications.tables import Notification, WebhookAttempt

PENDING = "pending"
DELIVERED = "delivered"
FAILED = "failed"


def notify(
    session: Session,
    *,
    decision: Decision,
    kind: NotificationKind,
    outcome: str | None = None,
    once_since: datetime | None = None,
) -> Notification | None:
    """Tell the decision's customer (and the business's webhook) that their case changed.

    Nothing is recorded for a decision about no customer or a seeded case. With
    ``once_since``, nothing is recorded when the same kind was already recorded since then
    (a review that starts, stops and starts again is told once).
    """
    if decision.subject_id is None or decision.seeded:
        return None
    if once_since is not None and session.scalar(
        select(Notification.id).where(
            Notification.decision_id == decision.id,
            Notification.kind == kind,
            Notification.created_at >= once_since,
        )
    ):
        return None
    now = utcnow()
    row = Notification(
        id=new_id(),
        subject_id=decision.subject_id,
        decision_id=decision.id,
        system_id=decision.system_id,
        kind=kind,
        outcome=outcome,
        created_at=now,
        read_at=None,
        webhook_status=PENDING,
        webhook_attempts=0,
        webhook_next_at=now,
    )
    session.add(row)
    return row


def notify_alert(
    session: Session, *, system_id: str, alert_sequence: int, summary: str
) -> Notification:
    """Queue a monitoring alert for the business's webhook (no customer is told).

    Runs in the writer job that records the alert, so it is sent if and only if the alert is in
    the ledger. ``summary`` (at most 200 characters) says what fired, in a sentence.
    """
    now = utcnow()
    row = Notification(
        id=new_id(),
        subject_id=None,
        decision_id=None,
        system_id=system_id,
        kind="monitoring_alert",
        outcome=summary[:200],
        created_at=now,
        read_at=None,
        webhook_status=PENDING,
        webhook_attempts=0,
        webhook_next_at=now,
        alert_sequence=alert_sequence,
    )
    session.add(row)
    return row


def notification_read(row: Notification) -> NotificationRead:
    """The API's view of a notification."""
    return NotificationRead.model_validate(
        {
            "id": row.id,
            "decision_id": row.decision_id,
            "system_id": row.system_id,
            "kind": row.kind,
            "outcome": row.outcome,
            "created_at": row.created_at,
            "read": row.read_at is not None,
        }
    )


def list_notifications(
    session: Session, *, subject_id: str, limit: int = 50, offset: int = 0
) -> tuple[list[Notification], int]:
    """A customer's notifications, newest first, and how many they have in all."""
    query = select(Notification).where(Notification.subject_id == subject_id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(Notification.created_at.desc(), Notification.id).limit(limit).offset(offset)
    )
    return list(rows), int(total)


def unread_count(session: Session, *, subject_id: str) -> int:
    """How many of a customer's notifications they have not read."""
    return int(
        session.scalar(
            select(func.count()).where(
                Notification.subject_id == subject_id, Notification.read_at.is_(None)
            )
        )
        or 0
    )


def mark_read(session: Session, *, subject_id: str) -> int:
    """Mark every notification of a customer read; returns how many were unread."""
    result = session.execute(
        update(Notification)
        .where(Notification.subject_id == subject_id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    return int(getattr(result, "rowcount", 0) or 0)


def erase_notifications(session: Session, *, subject_id: str) -> int:
    """Delete a customer's notifications and their delivery log (erasure); returns how many.

    A notification names its customer and their outcome in plain text: nothing of it is kept
    as proof, since the decision itself (unlinked) and its ledger entries are.
    """
    theirs = select(Notification.id).where(Notification.subject_id == subject_id)
    session.execute(delete(WebhookAttempt).where(WebhookAttempt.notification_id.in_(theirs)))
    result = session.execute(delete(Notification).where(Notification.subject_id == subject_id))
    return int(getattr(result, "rowcount", 0) or 0)


def due_for_webhook(session: Session, *, now: datetime, limit: int = 100) -> list[Notification]:
    """Notifications the webhook has not received yet whose next attempt is due, oldest first."""
    return list(
        session.scalars(
            select(Notification)
            .where(Notification.webhook_status == PENDING, Notification.webhook_next_at <= now)
            .order_by(Notification.created_at, Notification.id)
            .limit(limit)
        )
    )


def backoff(attempts: int, *, first_seconds: float) -> timedelta:
    """The wait before the next attempt after ``attempts`` failed ones: doubling each time."""
    return timedelta(seconds=first_seconds * 2 ** max(0, attempts - 1))


def record_attempt(
    session: Session,
    *,
    notification_id: str,
    url: str,
    at: datetime,
    status_code: int | None,
    error: str | None,
    max_attempts: int,
    first_backoff_seconds: float,
) -> Notification:
    """Log one delivery attempt and move the notification on: delivered, retried later, failed.

    A 2xx answer delivers it; anything else (another status, no answer) is retried after
    :func:`backoff`, until ``max_attempts`` attempts have failed.
    """
    row = session.get_one(Notification, notification_id)
    delivered = status_code is not None and 200 <= status_code < 300
    row.webhook_attempts += 1
    session.add(
        WebhookAttempt(
            id=new_id(),
            notification_id=row.id,
            attempt=row.webhook_attempts,
            at=at,
            url=url,
            status_code=status_code,
            error=None if error is None else error[:500],
            delivered=delivered,
        )
    )
    if delivered:
        row.webhook_status, row.webhook_next_at = DELIVERED, None
    elif row.webhook_attempts >= max_attempts:
        row.webhook_status, row.webhook_next_at = FAILED, None
    else:
        row.webhook_next_at = at + backoff(
            row.webhook_attempts, first_seconds=first_backoff_seconds
        )
    session.flush()
    return row


def delivery_log(session: Session, *, limit: int = 100, offset: int = 0) -> WebhookAttemptPage:
    """Every webhook delivery attempt, newest first, with where its notification stands."""
    total = session.scalar(select(func.count()).select_from(WebhookAttempt)) or 0
    rows = session.execute(
        select(WebhookAttempt, Notification)
        .join(Notification, Notification.id == WebhookAttempt.notification_id)
        .order_by(WebhookAttempt.at.desc(), WebhookAttempt.attempt.desc())
        .limit(limit)
        .offset(offset)
    )
    return WebhookAttemptPage(
        items=[
            WebhookAttemptRead.model_validate(
                {
                    "notification_id": a.notification_id,
                    "kind": n.kind,
                    "attempt": a.attempt,
                    "at": a.at,
                    "url": a.url,
                    "status_code": a.status_code,
                    "error": a.error,
                    "delivered": a.delivered,
                    "webhook_status": n.webhook_status,
                }
            )
            for a, n in rows
        ],
        total=int(total),
    )
