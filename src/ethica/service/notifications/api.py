"""Routes of customer notifications: a customer's own list, and the webhook's delivery log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from ethica.service.answers import ERROR_ANSWERS
from ethica.service.auth import Principal
from ethica.service.deps import SessionDep, requires
from ethica.service.notifications import service
from ethica.service.notifications.schemas import NotificationPage, WebhookAttemptPage
from ethica.service.paging import Offset

router = APIRouter(tags=["notifications"], responses=ERROR_ANSWERS)


@router.get(
    "/v1/me/notifications", operation_id="list_my_notifications", response_model=NotificationPage
)
def my_notifications(
    session: SessionDep,
    customer: Annotated[Principal, requires("self:read")],
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Offset = 0,
) -> NotificationPage:
    """What changed in your cases (a review started, a decision, an answer), newest first."""
    subject = customer.subject or ""
    rows, total = service.list_notifications(
        session, subject_id=subject, limit=limit, offset=offset
    )
    return NotificationPage(
        items=[service.notification_read(r) for r in rows],
        total=total,
        unread=service.unread_count(session, subject_id=subject),
    )


@router.post(
    "/v1/me/notifications/read",
    operation_id="mark_my_notifications_read",
    response_model=NotificationPage,
)
def mark_my_notifications_read(
    session: SessionDep, customer: Annotated[Principal, requires("self:write")]
) -> NotificationPage:
    """Mark all your notifications read; answers the list as it is now."""
    subject = customer.subject or ""
    service.mark_read(session, subject_id=subject)
    rows, total = service.list_notifications(session, subject_id=subject)
    return NotificationPage(
        items=[service.notification_read(r) for r in rows], total=total, unread=0
    )


@router.get(
    "/v1/webhooks/deliveries",
    operation_id="list_webhook_deliveries",
    response_model=WebhookAttemptPage,
)
def webhook_deliveries(
    session: SessionDep,
    _: Annotated[Principal, requires("webhooks:read")],
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Offset = 0,
) -> WebhookAttemptPage:
    """Every attempt to deliver a notification to the webhook, newest first (the delivery log)."""
    return service.delivery_log(session, limit=limit, offset=offset)
