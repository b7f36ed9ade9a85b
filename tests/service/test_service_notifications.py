"""Customer notifications, on SQLite and PostgreSQL: the portal's list with its unread count, and
the signed webhook (HMAC-SHA256, retries with exponential backoff, a delivery log).

The webhook is delivered to a real HTTP server on a local port, which answers as it is told.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from review_testing import customer, override, reviewer, step
from service_testing import Service
from sqlalchemy import select
from web_testing import customer_token, viewing_as

from ethica.monitoring._alerts import Alert, AlertRule
from ethica.service.app import state_of
from ethica.service.db import utcnow
from ethica.service.monitoring.alerts import raise_alerts
from ethica.service.notifications import webhooks
from ethica.service.notifications.tables import Notification

SECRET = "a-shared-webhook-secret-for-the-tests"


class _Receiver:
    """A local endpoint that records each POST and answers the next status from a script."""

    def __init__(self, answers: list[int]) -> None:
        self.answers = answers
        self.received: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((dict(self.headers), body))
                status = receiver.answers.pop(0) if receiver.answers else 200
                self.send_response(status)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/ethica"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver() -> Iterator[_Receiver]:
    made = _Receiver([])
    yield made
    made.server.shutdown()
    made.server.server_close()


def _settings(receiver: _Receiver, **changes: Any) -> dict[str, Any]:
    return {
        "notifications": {
            "webhook_url": receiver.url,
            "webhook_secret": SECRET,
            "webhook_interval_seconds": 0,  # the test sends, at the times it chooses
            "webhook_backoff_seconds": 30,
            "webhook_max_attempts": 4,
            **changes,
        }
    }


def _held(running: Service, subject: str = "cust-1") -> dict[str, Any]:
    made = running.decide(
        "leads",
        {"subject_id": subject, "features": {"income": 4.0, "housing": "rent"}, "score": 0.1},
    )
    assert made.status_code == 201, made.text
    return dict(made.json())


def _mine(running: Service, subject: str = "cust-1") -> dict[str, Any]:
    got = running.client.get("/v1/me/notifications", headers=customer(running, subject))
    assert got.status_code == 200, got.text
    return dict(got.json())


def test_the_customer_is_told_when_a_review_starts_ends_and_a_concern_is_answered(
    service: Callable[..., Service],
) -> None:
    running = service()
    running.register("leads", risk_tier="limited", oversight={"review_adverse": True})
    made = _held(running)
    other = _held(running, "cust-2")
    first = running.headers["reviewer"]
    assert _mine(running) == {"items": [], "total": 0, "unread": 0}

    for _ in range(2):  # claimed, released and claimed again: one review started
        assert step(running, made["id"], "claim", first).status_code == 200
        assert step(running, made["id"], "release", first).status_code == 200
    assert step(running, made["id"], "decision", first, override()).status_code == 201
    concern = running.client.post(
        f"/v1/me/decisions/{made['id']}/concerns",
        json={"text": "Why was I declined?"},
        headers=customer(running, "cust-1"),
    )
    assert concern.status_code == 201, concern.text
    resolved = running.client.post(
        f"/v1/concerns/{concern.json()['id']}/resolution",
        json={"response": "A person looked again and approved it."},
        headers=running.headers["officer"],
    )
    assert resolved.status_code in (200, 201), resolved.text

    page = _mine(running)
    assert [(n["kind"], n["outcome"], n["read"]) for n in page["items"]] == [
        ("concern_answered", None, False),
        ("decided", "approved", False),
        ("review_started", None, False),
    ]
    assert (page["total"], page["unread"]) == (3, 3)
    assert _mine(running, "cust-2")["total"] == 0  # only their own cases
    assert other["id"] not in str(page)

    # The appeal of the reviewed decision is answered by another reviewer.
    appealed = running.client.post(
        f"/v1/me/decisions/{made['id']}/appeal",
        json={"statement": "Please look again."},
        headers=customer(running, "cust-1"),
    )
    assert appealed.status_code == 201, appealed.text
    second = reviewer(running, "second")
    assert step(running, made["id"], "decision", second, {"action": "confirm"}).status_code == 201
    assert _mine(running)["items"][0]["kind"] == "appeal_answered"

    # The portal shows the list and the count, and reading it marks everything read.
    token = customer_token("cust-1", secret=running.settings.app.secret_key.get_secret_value())
    with viewing_as(running.client, token) as client:
        menu = client.get("/portal").text
        assert "Notifications <span" in menu and "4 unread" in menu
        listed = client.get("/portal/notifications").text
        assert "4 new since you last looked" in listed
        assert "A person started reviewing your decision about Credit limit." in listed
        assert "A person decided your case about Credit limit: approved." in listed
        assert "We answered your concern about your decision on Credit limit." in listed
        assert "A person answered your request for a review of Credit limit: approved." in listed
        assert "unread" not in client.get("/portal").text
    assert _mine(running)["unread"] == 0


def test_the_webhook_is_signed_retried_with_backoff_and_logged(
    service: Callable[..., Service], receiver: _Receiver
) -> None:
    running = service(**_settings(receiver))
    running.register("leads", risk_tier="limited", oversight={"review_adverse": True})
    made = _held(running)
    assert step(running, made["id"], "claim", running.headers["reviewer"]).status_code == 200
    sessions = state_of(running.app).sessions
    settings = running.settings.notifications
    receiver.answers[:] = [500, 503]  # the endpoint fails twice, then takes it

    start = utcnow()
    first = webhooks.deliver_due(sessions, settings, now=start)
    assert (first.delivered, first.retrying, first.failed) == (0, 1, 0)
    # Not due again before the backoff: 30 s after the first failure, then 60 s.
    assert webhooks.deliver_due(sessions, settings, now=start + timedelta(seconds=29)).retrying == 0
    assert webhooks.deliver_due(sessions, settings, now=start + timedelta(seconds=30)).retrying == 1
    assert webhooks.deliver_due(sessions, settings, now=start + timedelta(seconds=89)).retrying == 0
    third = webhooks.deliver_due(sessions, settings, now=start + timedelta(seconds=90))
    assert (third.delivered, third.retrying) == (1, 0)
    assert webhooks.deliver_due(sessions, settings, now=start + timedelta(hours=1)).delivered == 0

    assert len(receiver.received) == 3
    headers, body = receiver.received[-1]
    assert {k.lower(): v for k, v in headers.items()}["content-type"] == "application/json"
    signed = {k.lower(): v for k, v in headers.items()}["ethica-signature"]
    timestamp = signed.split(",")[0].removeprefix("t=")
    expected = hmac.new(SECRET.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    assert signed == f"t={timestamp},v1={expected.hexdigest()}"
    assert webhooks.verify(SECRET.encode(), signed, body, now=int(timestamp))
    assert not webhooks.verify(b"another secret", signed, body, now=int(timestamp))
    assert not webhooks.verify(SECRET.encode(), signed, body + b" ", now=int(timestamp))
    assert not webhooks.verify(SECRET.encode(), signed, body, now=int(timestamp) + 3600)
    assert b'"type":"review_started"' in body and made["id"].encode() in body

    log = running.client.get("/v1/webhooks/deliveries", headers=running.headers["officer"])
    assert log.status_code == 200, log.text
    attempts = log.json()["items"]
    assert [(a["attempt"], a["status_code"], a["delivered"]) for a in attempts] == [
        (3, 200, True),
        (2, 503, False),
        (1, 500, False),
    ]
    assert {a["webhook_status"] for a in attempts} == {"delivered"}
    refused = running.client.get("/v1/webhooks/deliveries", headers=running.headers["reviewer"])
    assert refused.status_code == 403


def test_the_webhook_gives_up_after_its_attempts_and_logs_an_unreachable_endpoint(
    service: Callable[..., Service], receiver: _Receiver
) -> None:
    unreachable = receiver.url.replace(str(receiver.server.server_address[1]), "9")  # discard port
    running = service(**_settings(receiver, webhook_url=unreachable, webhook_max_attempts=2))
    running.register("leads", risk_tier="limited", oversight={"review_adverse": True})
    made = _held(running)
    assert step(running, made["id"], "claim", running.headers["reviewer"]).status_code == 200
    sessions, settings = state_of(running.app).sessions, running.settings.notifications
    start = utcnow()
    assert webhooks.deliver_due(sessions, settings, now=start).retrying == 1
    assert webhooks.deliver_due(sessions, settings, now=start + timedelta(seconds=30)).failed == 1
    assert webhooks.deliver_due(sessions, settings, now=start + timedelta(days=1)).failed == 0
    log = running.client.get("/v1/webhooks/deliveries", headers=running.headers["officer"]).json()
    assert [(a["attempt"], a["status_code"]) for a in log["items"]] == [(2, None), (1, None)]
    assert all(a["error"] and a["webhook_status"] == "failed" for a in log["items"])
    assert receiver.received == []


def test_a_webhook_url_needs_a_secret() -> None:
    from pydantic import ValidationError

    from ethica.service.settings import Settings

    with pytest.raises(ValidationError, match="WEBHOOK_SECRET"):
        Settings(notifications={"webhook_url": "https://bank.example/hooks"})
    with pytest.raises(ValidationError):
        Settings(notifications={"webhook_url": "ftp://bank.example/hooks", "webhook_secret": "x"})


def test_an_erasure_deletes_the_customers_notifications_and_their_delivery_log(
    service: Callable[..., Service], receiver: _Receiver
) -> None:
    running = service(**_settings(receiver))
    running.register("leads", risk_tier="limited", oversight={"review_adverse": True})
    erased, kept = _held(running, "cust-gone"), _held(running, "cust-kept")
    for made in (erased, kept):
        assert step(running, made["id"], "claim", running.headers["reviewer"]).status_code == 200
    sessions, settings = state_of(running.app).sessions, running.settings.notifications
    assert webhooks.deliver_due(sessions, settings, now=utcnow()).delivered == 2
    assert _mine(running, "cust-gone")["total"] == 1

    done = running.client.post("/v1/subjects/cust-gone/erasure", headers=running.headers["officer"])
    assert done.status_code == 201, done.text
    assert done.json()["result"]["notifications_deleted"] == 1
    log = running.client.get("/v1/webhooks/deliveries", headers=running.headers["officer"]).json()
    assert [a["notification_id"] for a in log["items"]] == [
        n["id"] for n in _mine(running, "cust-kept")["items"]
    ]
    with sessions() as session:
        left = session.execute(select(Notification.subject_id, Notification.decision_id)).all()
    assert [tuple(r) for r in left] == [("cust-kept", kept["id"])]


def test_a_monitoring_alert_is_sent_signed_to_the_webhook_once_it_is_in_the_ledger(
    service: Callable[..., Service], receiver: _Receiver
) -> None:
    running = service(**_settings(receiver))
    running.register("credit", risk_tier="high")
    gap = Alert("selection-gap-sex", "warning", "sex", "female", "selection_rate", -0.12, 0.05)
    rules = [AlertRule("selection-gap-sex", "fairness_gap", "sex", "selection_rate", 0.05)]
    writer = state_of(running.app).gateway.writer

    def failing(batch: Any) -> None:
        raise_alerts(batch, system_id="credit", alerts=[gap], rules=rules, window_end="2026-11-30")
        raise RuntimeError("the pass fails after raising")

    with pytest.raises(RuntimeError):
        writer.run(failing)  # neither the alert nor its delivery is kept
    sessions = state_of(running.app).sessions
    settings = running.settings.notifications
    assert webhooks.deliver_due(sessions, settings, now=utcnow()).delivered == 0

    [sequence] = writer.run(
        lambda batch: raise_alerts(
            batch, system_id="credit", alerts=[gap], rules=rules, window_end="2026-11-30"
        )
    )
    receiver.answers[:] = [200]
    sent = webhooks.deliver_due(sessions, settings, now=utcnow())
    assert (sent.delivered, sent.retrying, sent.failed) == (1, 0, 0)
    [(headers, body)] = receiver.received
    signed = {k.lower(): v for k, v in headers.items()}["ethica-signature"]
    timestamp = int(signed.split(",")[0].removeprefix("t="))
    assert webhooks.verify(SECRET.encode(), signed, body, now=timestamp)
    sent_alert = json.loads(body)
    assert sent_alert["type"] == "monitoring_alert" and sent_alert["system_id"] == "credit"
    assert sent_alert["alert_sequence"] == sequence
    assert sent_alert["subject_id"] is None and sent_alert["decision_id"] is None
    assert sent_alert["summary"] == (
        "warning: selection-gap-sex (sex = female, selection_rate gap -0.120, threshold 0.05) "
        "in the days before 2026-11-30"
    )
    # No customer is told: the alert is about a system (one row, for the business only).
    with sessions() as session:
        rows = session.scalars(select(Notification)).all()
    assert [(r.kind, r.subject_id, r.alert_sequence) for r in rows] == [
        ("monitoring_alert", None, sequence)
    ]
