"""Arts. 10 and 15 rest on the live audit of decisions with outcomes, and lapse as it ages."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from service_testing import Service
from sqlalchemy import update
from test_service_governance import CREDIT

from ethica.governance import AuditEvidence
from ethica.service.app import state_of
from ethica.service.decisions.tables import Decision
from ethica.service.governance import service as governance

DAY0 = datetime(2026, 6, 1, tzinfo=UTC)
AUDITED = ("ai-act-10", "ai-act-15")


def _running(service: Callable[..., Service]) -> Service:
    running = service()
    running.register(
        "credit",
        **CREDIT,
        decision={"kind": "binary", "threshold": 0.5, "favourable_truth": "repaid"},
    )
    return running


def _decide(running: Service, n: int, *, on: datetime, outcomes: bool = True) -> int:
    """``n`` decisions made on ``on`` with their true outcomes; returns how many were right."""
    right = 0
    for i in range(n):
        score = (i * 7 % n) / n
        made = running.decide(
            "credit",
            {"subject_id": f"s{on.date()}-{i}", "protected": {"sex": "fm"[i % 2]}, "score": score},
        )
        assert made.status_code == 201, made.text
        body = made.json()
        with state_of(running.app).sessions() as session:
            session.execute(
                update(Decision)
                .where(Decision.id == body["id"])
                .values(created_at=on + timedelta(minutes=i))
            )
            session.commit()
        if not outcomes or body["outcome"] not in ("approved", "declined"):
            continue
        truth = "repaid" if i % 3 else "defaulted"
        right += (body["outcome"] == "approved") == (truth == "repaid")
        recorded = running.client.post(
            f"/v1/decisions/{body['id']}/outcome",
            json={"outcome": truth},
            headers=running.headers["admin"],
        )
        assert recorded.status_code in (200, 201), recorded.text
    return right


def _register(running: Service, now: datetime) -> Any:
    state = state_of(running.app)
    with state.sessions() as session:
        return governance.register_of(session, settings=state.settings, system_id="credit", now=now)


def test_a_recent_audit_meets_arts_10_and_15_and_an_old_one_turns_them_overdue(
    service: Callable[..., Service],
) -> None:
    running = _running(service)
    _decide(running, 12, on=DAY0, outcomes=False)
    without = _register(running, DAY0 + timedelta(days=1))
    for key in AUDITED:  # decisions without outcomes measure no accuracy: nothing to show
        assert without.status(key).status.key == "missing"

    right = _decide(running, 40, on=DAY0 + timedelta(days=1))
    recent = _register(running, DAY0 + timedelta(days=10))
    for key in AUDITED:
        status = recent.status(key)
        assert status.status.key == "met", status.reason
        assert "audited (40 rows, by sex)" in status.reason
        (audit,) = status.evidence
        assert isinstance(audit, AuditEvidence)
        assert audit.observed_at.date() == (DAY0 + timedelta(days=1)).date()
        assert audit.accuracy is not None
        assert abs(audit.accuracy - right / 40) < 1e-12
        assert {m.group for m in audit.metrics} == {"f", "m"}
    assert recent.status("ai-act-15").expires == (DAY0 + timedelta(days=91)).date()

    aged = _register(running, DAY0 + timedelta(days=93))
    for key in AUDITED:
        assert aged.status(key).status.key == "overdue"
        assert "lapsed on" in aged.status(key).reason

    # New decisions with outcomes make a new audit: the obligations are met again.
    _decide(running, 20, on=DAY0 + timedelta(days=92))
    again = _register(running, DAY0 + timedelta(days=93))
    for key in AUDITED:
        assert again.status(key).status.key == "met"
        assert "audited (20 rows, by sex)" in again.status(key).reason
