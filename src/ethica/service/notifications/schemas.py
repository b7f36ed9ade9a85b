"""Request and response bodies of customer notifications and the webhook's delivery log."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

NotificationKind = Literal[
    "review_started", "decided", "appeal_answered", "concern_answered", "monitoring_alert"
]
"""What changed in a case: a person started reviewing it, decided it, answered the customer's
appeal, or answered their concern; or, for the business only, a monitoring alert was raised."""
WebhookStatus = Literal["pending", "delivered", "failed"]


class NotificationRead(BaseModel):
    """One change of a case the customer is part of."""

    id: str
    decision_id: str | None
    system_id: str
    kind: NotificationKind
    outcome: str | None = Field(description="The final outcome, once a person decided.")
    created_at: datetime
    read: bool


class NotificationPage(BaseModel):
    """The customer's notifications, newest first, and how many they have not read."""

    items: list[NotificationRead]
    total: int
    unread: int


class WebhookAttemptRead(BaseModel):
    """One attempt to deliver a notification to the business's webhook."""

    notification_id: str
    kind: NotificationKind
    attempt: int
    at: datetime
    url: str
    status_code: int | None
    error: str | None
    delivered: bool
    webhook_status: WebhookStatus = Field(description="Where the notification stands now.")


class WebhookAttemptPage(BaseModel):
    """The webhook's delivery log, newest first."""

    items: list[WebhookAttemptRead]
    total: int
