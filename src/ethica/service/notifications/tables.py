"""What customers are told about their cases, and every attempt to tell the business's webhook.

A ``notifications`` row is one change of a case a customer is part of (a review started, a
decision made, an appeal or a concern answered): the portal lists it, and its webhook state
says whether the business's endpoint has it. A monitoring alert is sent to the webhook the same
way (a row about no customer or decision, naming the alert's ledger sequence).
``webhook_attempts`` logs each delivery attempt.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ethica.service.db import ID, Base, UTCDateTime


class Notification(Base):
    """One change of a case, told to its customer (portal) and to the business (webhook)."""

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_subject_created", "subject_id", "created_at"),
        Index("ix_notifications_webhook_due", "webhook_status", "webhook_next_at"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    # None for a monitoring alert, which is about a system, not a customer's case.
    subject_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    decision_id: Mapped[str | None] = mapped_column(
        ForeignKey("decisions.id", ondelete="CASCADE"), index=True, nullable=True
    )
    system_id: Mapped[str] = mapped_column(String(63))
    kind: Mapped[str] = mapped_column(String(30))
    outcome: Mapped[str | None] = mapped_column(String(200), nullable=True)  # once decided
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    webhook_status: Mapped[str] = mapped_column(String(20))  # pending, delivered, failed
    webhook_attempts: Mapped[int] = mapped_column(Integer)
    webhook_next_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The ledger sequence of the monitoring alert this row sends (kind "monitoring_alert").
    alert_sequence: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class WebhookAttempt(Base):
    """One attempt to deliver a notification to the business's webhook: the delivery log."""

    __tablename__ = "webhook_attempts"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    notification_id: Mapped[str] = mapped_column(
        ForeignKey("notifications.id", ondelete="CASCADE"), index=True
    )
    attempt: Mapped[int] = mapped_column(Integer)  # 1 for the first
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    url: Mapped[str] = mapped_column(String(2000))
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    delivered: Mapped[bool] = mapped_column(Boolean)
