"""The signed webhook: each customer notification is POSTed to the business's endpoint, so its
own channels (e-mail, SMS, app) can tell the customer; so is each monitoring alert (type
``monitoring_alert``, with the alert's ledger sequence and a summary), for the officers on
call. No e-mail server is assumed.

The body is JSON; the ``Ethica-Signature`` header is ``t=<unix time>,v1=<hex>``, where the hex
is the HMAC-SHA256, keyed with the shared secret, of ``"<unix time>." + body`` (the timestamp
lets the receiver refuse replays). A 2xx answer delivers the notification; anything else is
retried with exponential backoff (:func:`.service.backoff`) up to a number of attempts, and
every attempt is logged (``webhook_attempts``). Receivers deduplicate by the notification id:
a delivery whose answer was lost is sent again.

Sending runs in a thread every few seconds (:func:`start_schedule`), outside any transaction:
the due notifications are read, each is POSTed, and each result is recorded in a short
transaction of its own, so a slow endpoint never holds the database.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from ethica.service.db import unit_of_work, utcnow
from ethica.service.notifications import service
from ethica.service.notifications.tables import Notification
from ethica.service.settings import NotificationSettings

log = logging.getLogger("ethica.service.notifications")

SIGNATURE_HEADER = "Ethica-Signature"
#: POST(url, body, headers, timeout) -> HTTP status; raises OSError when there is no answer.
Poster = Callable[[str, bytes, dict[str, str], float], int]


def payload(row: Notification) -> bytes:
    """The JSON body sent for a notification (keys sorted, so it is byte-for-byte stable)."""
    body: dict[str, str | int | None] = {
        "id": row.id,
        "type": row.kind,
        "subject_id": row.subject_id,
        "decision_id": row.decision_id,
        "system_id": row.system_id,
        "outcome": row.outcome,
        "created_at": row.created_at.isoformat(),
    }
    if row.alert_sequence is not None:  # a monitoring alert: its ledger entry, and what fired
        body["alert_sequence"] = row.alert_sequence
        body["summary"] = row.outcome
        del body["outcome"]
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def signature(secret: bytes, *, timestamp: int, body: bytes) -> str:
    """The ``Ethica-Signature`` header value of ``body`` sent at ``timestamp``."""
    digest = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: bytes, header: str, body: bytes, *, now: int, tolerance: int = 300) -> bool:
    """Whether ``header`` signs ``body`` with ``secret``, within ``tolerance`` seconds of now.

    What a receiver runs on each delivery (constant-time comparison; replays are refused).
    """
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    expected = signature(secret, timestamp=timestamp, body=body)
    return hmac.compare_digest(expected, header.strip())


def post_json(url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
    """POST ``body`` with the standard library; the status code, also of an HTTP error."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310 (configured URL)
            return int(answer.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


@dataclass(frozen=True)
class DeliveryReport:
    """What one run of :func:`deliver_due` did."""

    delivered: int
    retrying: int
    failed: int


def deliver_due(
    sessions: sessionmaker[Session],
    settings: NotificationSettings,
    *,
    now: datetime | None = None,
    post: Poster = post_json,
) -> DeliveryReport:
    """Send every due notification once; log each attempt; schedule retries with backoff.

    Does nothing when no webhook URL is configured (the notifications wait, and the portal
    shows them regardless).
    """
    url, secret = settings.webhook_url, settings.webhook_secret
    if url is None or secret is None:
        return DeliveryReport(0, 0, 0)
    moment = now or utcnow()
    with sessions() as session:
        due = [(row.id, payload(row)) for row in service.due_for_webhook(session, now=moment)]
    counts = {service.DELIVERED: 0, service.PENDING: 0, service.FAILED: 0}
    key = secret.get_secret_value().encode()
    for notification_id, body in due:
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "ethica-webhook",
            "Ethica-Notification-Id": notification_id,
            SIGNATURE_HEADER: signature(key, timestamp=int(moment.timestamp()), body=body),
        }
        status_code: int | None = None
        error: str | None = None
        try:
            status_code = post(url, body, headers, settings.webhook_timeout_seconds)
        except OSError as failure:  # refused, unreachable, timed out: retried later
            error = f"{type(failure).__name__}: {failure}"
        with unit_of_work(sessions) as session:
            row = service.record_attempt(
                session,
                notification_id=notification_id,
                url=url,
                at=moment,
                status_code=status_code,
                error=error,
                max_attempts=settings.webhook_max_attempts,
                first_backoff_seconds=settings.webhook_backoff_seconds,
            )
            counts[row.webhook_status] += 1
            if row.webhook_status == service.FAILED:
                log.warning("webhook gave up on notification %s after %s attempts", row.id,
                            row.webhook_attempts)  # fmt: skip
    return DeliveryReport(
        counts[service.DELIVERED], counts[service.PENDING], counts[service.FAILED]
    )


def start_schedule(
    sessions: sessionmaker[Session], settings: NotificationSettings
) -> asyncio.Task[None] | None:
    """Run :func:`deliver_due` in a thread every ``webhook_interval_seconds``; ``None`` when no
    webhook is configured or the interval is 0."""
    if settings.webhook_url is None or settings.webhook_interval_seconds <= 0:
        return None
    return asyncio.get_running_loop().create_task(_every(sessions, settings))


async def _every(sessions: sessionmaker[Session], settings: NotificationSettings) -> None:
    while True:
        await asyncio.sleep(settings.webhook_interval_seconds)
        try:
            await asyncio.to_thread(deliver_due, sessions, settings)
        except Exception:  # a failed run is retried at the next interval
            log.exception("webhook delivery run failed")
