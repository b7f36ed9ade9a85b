"""The dashboard's monitoring page: gaps with bands and their tables, alerts acknowledged and
resolved from the page (each a ledger entry naming the officer and why). On SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial

from service_testing import Service
from test_service_monitoring_job import _decide_with_a_gap, _running
from web_testing import csrf_of, token_of, viewing_as

from ethica.service.app import state_of
from ethica.service.ledger.service import verify_ledger
from ethica.service.monitoring.alerts import list_alerts
from ethica.service.monitoring.job import MonitorPass, monitor_system

DAY0 = datetime(2026, 11, 2, tzinfo=UTC)


def _monitor(running: Service, database_url: str) -> MonitorPass:
    done: MonitorPass = state_of(running.app).gateway.writer.run(
        partial(
            monitor_system,
            system_id="credit",
            database_url=database_url,
            master_key=running.settings.ledger.master_key_bytes,
            until=DAY0 + timedelta(days=6),
            now=datetime.now(UTC),
        )
    )
    return done


def test_an_officer_sees_the_gaps_and_acknowledges_then_resolves_an_alert(
    service: Callable[..., Service], database_url: str
) -> None:
    running = _running(service)
    officer = token_of(running.headers["officer"])
    with viewing_as(running.client, officer) as client:
        empty = client.get("/dashboard/systems/credit/monitoring")
    assert empty.status_code == 200, empty.text
    assert 'id="no-alerts"' in empty.text and 'id="no-windows"' in empty.text

    made = _decide_with_a_gap(running, DAY0)
    women_ids = set(made[::2])
    done = _monitor(running, database_url)
    assert len(done.raised) == 4
    women = done.raised[0]  # most severe first: the critical rule, group f
    with viewing_as(running.client, officer) as client:
        page = client.get("/dashboard/systems/credit/monitoring")
        assert page.status_code == 200, page.text
        # One chart per group, each with its title, description and table of the same numbers.
        assert page.text.count("<svg role='img'") == 2 and page.text.count("<table>") == 2
        assert "Selection-rate gap of sex = f" in page.text and "<desc id=" in page.text
        # One week of caller-scored decisions: accuracy is estimated; no outcome is known yet;
        # drift needs four reference weeks first.
        accuracy = re.search(r'<table[^>]*id="accuracy-table".*?</table>', page.text, re.S)
        assert accuracy is not None and "2026-11-02" in accuracy.group(0)
        assert "not yet known" in accuracy.group(0) and ">120<" in accuracy.group(0)
        assert 'id="no-drift"' in page.text and "120 decisions in 1 counted week" in page.text
        assert "The system is <strong>active</strong>" in page.text
        row = re.search(rf'<tr id="alert-{women}">.*?</tr>', page.text, re.S)
        assert row is not None and "critical" in row.group(0) and "2026-11-08" in row.group(0)

        # From the alert, one link to the decisions of its group in the span its rule read.
        link = f"/dashboard/systems/credit/monitoring/alerts/{women}/decisions"
        assert f'href="{link}"' in row.group(0)
        behind = client.get(link)
        assert behind.status_code == 200, behind.text
        listed = re.findall(r'href="/dashboard/decisions/([^"]+)"', behind.text)
        assert len(listed) == 60 == len(set(listed))  # every second of 120 decisions is f
        assert set(listed) == women_ids
        form = {"csrf": csrf_of(page.text), "to": "acknowledged", "why": ""}
        refused = client.post(f"/dashboard/systems/credit/monitoring/alerts/{women}", data=form)
        assert refused.status_code == 422 and 'id="alert-error"' in refused.text
        form["why"] = "reviewing the week's applications"
        acknowledged = client.post(
            f"/dashboard/systems/credit/monitoring/alerts/{women}", data=form
        )
        assert acknowledged.status_code == 200, acknowledged.text  # after the redirect
        form.update(to="resolved", why="cut-off recalibrated")
        resolved = client.post(f"/dashboard/systems/credit/monitoring/alerts/{women}", data=form)
        assert resolved.status_code == 200
        again = client.post(f"/dashboard/systems/credit/monitoring/alerts/{women}", data=form)
        assert again.status_code == 409  # a resolved alert stays resolved
    row = re.search(rf'<tr id="alert-{women}">.*?</tr>', resolved.text, re.S)
    assert row is not None and "cut-off recalibrated" in row.group(0)
    assert "<form" not in row.group(0)
    with state_of(running.app).sessions() as session:
        alert = next(a for a in list_alerts(session, system_id="credit") if a.sequence == women)
        assert alert.state == "resolved"
        assert [h["why"] for h in alert.history] == [
            "reviewing the week's applications",
            "cut-off recalibrated",
        ]
        assert verify_ledger(session, settings=running.settings).ok


def test_a_customer_cannot_see_the_monitoring_page(service: Callable[..., Service]) -> None:
    running = _running(service)
    with viewing_as(running.client, None) as client:
        anonymous = client.get("/dashboard/systems/credit/monitoring", follow_redirects=False)
    assert anonymous.status_code in (302, 303, 401)
