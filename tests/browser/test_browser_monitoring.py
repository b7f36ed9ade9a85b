"""An officer in a real browser follows a monitoring alert: sees it, opens its decisions,
acknowledges it, resolves it; the page's accuracy, drift and gap panels say what the history holds.

The scene: five weeks of a high-risk credit system's decisions replayed through the gateway
(dated by the demo's replay clock); from week 5 women's scores fall, so the monitor raises the
selection-gap alerts. axe-core finds nothing serious or critical at 390 and 1280 px.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import httpx
import numpy as np
from page_checks import serious_violations, sideways

from conftest import PASSWORD, LiveService, sign_in
from ethica.demo._bank_history import ReplayClock
from ethica.service.decisions.gateway import Gateway
from ethica.service.decisions.schemas import DecisionCreate
from ethica.service.decisions.service import record_outcome
from ethica.service.monitoring.job import MonitorPass, monitor_system

SPEC = {
    "name": "Credit limit",
    "purpose": "finance",
    "risk_tier": "high",
    "decision": {"kind": "binary", "threshold": 0.5, "favourable_truth": "repaid"},
    "features": [{"name": "income", "type": "number", "data_category": "user.financial"}],
    "protected_attributes": [{"name": "sex", "categories": ["Female", "Male"]}],
    "owner": "risk@bank.example",
}
DAYS, PER_DAY, GAP_DAY = 35, 24, 28
WIDTHS = (390, 1280)


def _replay(service: LiveService, today: datetime) -> list[Any]:
    """Five weeks of decisions, the oldest first; from day 28 women's scores fall by 40%."""
    state = service.state
    rng = np.random.default_rng(7)
    clock = ReplayClock()
    gateway = Gateway(state.sessions, state.settings, seed=7, writer=state.writer, clock=clock)
    made = []
    try:
        for day in range(DAYS):
            clock.start_day(today - timedelta(days=DAYS - day), PER_DAY)
            futures = []
            for i in range(PER_DAY):
                sex = "Female" if i % 2 == 0 else "Male"
                score = float(rng.beta(4, 3)) * (0.6 if sex == "Female" and day >= GAP_DAY else 1)
                request = DecisionCreate(
                    subject_id=f"s{day}-{i}",
                    features={"income": 40.0},
                    protected={"sex": sex},
                    score=score,
                )
                futures.append((gateway.submit("credit", request), score))
            made += [(future.result(), score) for future, score in futures]
    finally:
        gateway.close()
    return made


def _outcomes_of_the_first_weeks(service: LiveService, made: list[Any]) -> None:
    rng = np.random.default_rng(8)
    known = [(d, s) for d, s in made[: 14 * PER_DAY]]

    def job(batch: Any) -> None:
        for decision, score in known:
            outcome = "repaid" if rng.uniform() < score else "defaulted"
            record_outcome(batch, decision_id=decision.id, outcome=outcome)

    service.state.writer.run(job)


def _monitor(service: LiveService, today: datetime) -> MonitorPass:
    state = service.state
    done: MonitorPass = state.writer.run(
        partial(
            monitor_system,
            system_id="credit",
            database_url=state.settings.database.url,
            master_key=state.settings.ledger.master_key_bytes,
            until=today,
            now=datetime.now(UTC),
        )
    )
    return done


def test_an_officer_follows_an_alert_from_the_dashboard_to_its_decisions_and_resolves_it(
    live_service: LiveService, page: Any, screenshot: Any
) -> None:
    with httpx.Client(base_url=live_service.url, timeout=30) as api:
        signed = api.post(
            "/v1/auth/token", json={"email": "admin@bank.example", "password": PASSWORD}
        )
        api.headers["Authorization"] = f"Bearer {signed.json()['token']}"
        assert api.put("/v1/systems/credit", json=SPEC).status_code == 201
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    made = _replay(live_service, today)
    _outcomes_of_the_first_weeks(live_service, made)
    done = _monitor(live_service, today)
    assert len(done.run.built) == DAYS
    assert len(done.raised) == 4  # women and men, each past the warning and critical gaps
    women = done.raised[0]  # most severe first: the critical rule, women (then men)
    last_week = (today - timedelta(days=7)).date().isoformat()

    # The first reading of the stored windows audits every week (seconds on a loaded machine).
    page.set_default_navigation_timeout(120_000)
    sign_in(page, live_service.url, "officer@bank.example")
    page.wait_for_url("**/dashboard")
    page.goto(f"{live_service.url}/dashboard/systems/credit/monitoring")
    assert page.get_by_role("heading", level=1).inner_text() == "Monitoring of Credit limit"
    assert (
        page.locator("#history-summary")
        .inner_text()
        .startswith(f"{DAYS * PER_DAY} decisions in 5 counted weeks")
    )
    row = page.locator(f"#alert-{women}")
    text = row.inner_text()
    assert "critical" in text and "Female (sex)" in text and "open" in text
    assert "Selection-rate gap by sex" in text  # the rule in words; its id in small print
    assert "selection-gap-sex-critical" in text and today.date().isoformat() in text

    # Accuracy: estimated every week, realised for the two weeks whose outcomes are known.
    accuracy = page.locator("#accuracy-table tbody tr")
    assert accuracy.count() == 5
    assert "not yet known" not in accuracy.nth(0).inner_text()
    assert "not yet known" in accuracy.nth(4).inner_text()
    assert page.locator("#accuracy-chart svg[role=img] title").text_content() == (
        "Estimated and realised accuracy by week"
    )
    # Drift: week 5 against the first four; the score shifted, and each cell says so in words.
    drift = page.locator("#drift-map tbody tr")
    assert drift.count() == 1
    cells = drift.nth(0).locator("td")
    assert cells.count() == 3  # score, decision, sex
    assert cells.nth(0).inner_text().endswith("drifted")
    assert cells.nth(2).inner_text().endswith("stable")  # as many women as before
    assert "Selection-rate gap of sex = Female to all customers, by week" in page.content()

    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        assert serious_violations(page) == [], width
        assert sideways(page, boxes_may_scroll=True) == [], width
        screenshot(page, f"monitoring-{width}")
    page.set_viewport_size({"width": 1280, "height": 900})

    # From the alert, its decisions: the women's decisions of the week its rule read.
    row.get_by_role("link", name="Open its decisions").click()
    page.wait_for_url(f"**/monitoring/alerts/{women}/decisions")
    assert page.get_by_role("heading", level=1).inner_text() == f"Decisions behind alert {women}"
    scope = page.locator("#alert-scope").inner_text()
    assert "Selection-rate gap by sex, Female (sex)" in scope and f"from {last_week}" in scope
    listed = page.locator("#alert-decisions tbody tr")
    assert listed.count() == 7 * PER_DAY // 2
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        assert serious_violations(page) == [], width
        screenshot(page, f"alert-decisions-{width}")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.go_back()

    # Acknowledge, then resolve, each with the reason the page records beside who did it.
    row = page.locator(f"#alert-{women}")
    row.get_by_label("Why").fill("reviewing the week's declined applications")
    row.get_by_role("button", name="Acknowledge").click()
    page.wait_for_url(f"**/monitoring#alert-{women}")
    row = page.locator(f"#alert-{women}")
    text = row.inner_text()
    assert "acknowledged by user:" in text
    assert "“reviewing the week's declined applications”" in text
    assert row.get_by_role("button", name="Acknowledge").count() == 0
    row.get_by_label("Why").fill("score cut-off for the new plan recalibrated")
    row.get_by_role("button", name="Resolve").click()
    page.wait_for_url(f"**/monitoring#alert-{women}")
    row = page.locator(f"#alert-{women}")
    text = row.inner_text()
    assert "resolved by user:" in text and "“score cut-off for the new plan recalibrated”" in text
    assert row.locator("form").count() == 0  # a resolved alert has nothing left to act on
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        assert serious_violations(page) == [], width
        screenshot(page, f"monitoring-resolved-{width}")
