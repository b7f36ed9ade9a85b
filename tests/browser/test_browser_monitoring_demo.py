"""The demo bank's own alerts, in a real browser: an officer opens one, follows it to the
decisions of its window (and group), and acknowledges it; the acknowledgement is a ledger entry.

The demo replays 120 days of the credit-limit system (:mod:`ethica.demo._bank_history`): from
week 9 applicants come from a new branch's postcode districts, so the monitor's run after that
week finds the postcode district drifted from the training data; from week 12 a plan popular
with women under 45 counts as debt, so the run after that week finds the debt-to-income ratio
drifted and the selection-rate gap by sex, with an alert for each sex (women fall behind, men
pull ahead). The phone acknowledges the women's gap and the postcode's drift, the laptop the
men's gap and the debt's drift, so that each width walks the whole way on alerts still open.
Who the decisions are is checked against the demo's own applicants (their sex and replayed
day), not against the page's query.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import Any

import pytest
from page_checks import serious_violations, sideways
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from conftest import DemoBank
from ethica.demo._bank_history import DISPARITY_DAY, DRIFT_DAY, PER_DAY, history_applicants
from ethica.demo._systems import CREDIT_LIMIT
from ethica.monitoring._alerts import DRIFT_SPAN_DAYS
from ethica.service.decisions.tables import Decision
from ethica.service.ledger.tables import LedgerEntry
from ethica.service.users.tables import User

pytestmark = pytest.mark.slow

OFFICER, OFFICER_PASSWORD = "officer@bank.example", "demo-officer-pass"
#: The group each width acknowledges, with the reason the officer gives.
ACKNOWLEDGED = {
    390: ("Female", "reviewing the declined applications of women under 45"),
    1280: ("Male", "checking the approvals that rose for men in the same week"),
}
#: The drifted feature each width acknowledges: its column, its words, the day it moved, why.
DRIFT_ACKNOWLEDGED = {
    390: (
        "postcode_district",
        "postcode district",
        DRIFT_DAY,
        "the new branch in NB17-NB24 opened in week 9: expected, model review booked",
    ),
    1280: (
        "debt_to_income",
        "debt to income",
        DISPARITY_DAY,
        "the pay-later plan counts as debt from week 12: checking with credit risk",
    ),
}


def _checked(page: Any, shot: Any, name: str) -> None:
    """axe-core finds nothing serious, nothing scrolls sideways; photographed."""
    width = page.viewport_size["width"]
    assert serious_violations(page) == [], f"{name} at {width} px"
    assert sideways(page, boxes_may_scroll=True) == [], f"{name} at {width} px"
    shot(page, f"{name}-{width}")


def _who_was_decided(bank: DemoBank, ids: list[str]) -> dict[str, tuple[str, int]]:
    """Each listed decision's applicant: their sex and replayed day, from the demo's own data."""
    applicants = history_applicants(seed=0).set_index("customer_id")
    engine = create_engine(f"sqlite:///{bank.database}")
    try:
        with Session(engine) as session:
            found = session.execute(
                select(Decision.id, Decision.subject_id).where(Decision.id.in_(ids))
            )
            subjects = {str(decision): str(subject) for decision, subject in found}
    finally:
        engine.dispose()
    return {
        decision: (str(applicants.at[subject, "sex"]), int(applicants.at[subject, "day"]))
        for decision, subject in subjects.items()
    }


def _acknowledgement_in_ledger(bank: DemoBank, sequence: int) -> dict[str, Any]:
    engine = create_engine(f"sqlite:///{bank.database}")
    try:
        with Session(engine) as session:
            rows = session.scalars(
                select(LedgerEntry.public).where(
                    LedgerEntry.chain == CREDIT_LIMIT, LedgerEntry.kind == "monitoring_alert_state"
                )
            ).all()
            officer = session.scalar(select(User.id).where(User.email == OFFICER))
    finally:
        engine.dispose()
    moves = [json.loads(row) for row in rows]
    mine = [move for move in moves if move["alert"] == sequence]
    assert len(mine) == 1, mine
    assert mine[0]["by"] == f"user:{officer}"
    return mine[0]


def _open_monitoring(page: Any, bank: DemoBank) -> None:
    """Sign in as the officer and open the credit system's monitoring page."""
    # The first reading of the stored windows audits every week of the 120 days.
    page.set_default_timeout(120_000)
    page.goto(f"{bank.url}/login")
    page.get_by_label("Email").fill(OFFICER)
    page.get_by_label("Password").fill(OFFICER_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/dashboard")
    page.goto(f"{bank.url}/dashboard/systems/{CREDIT_LIMIT}/monitoring")


def _acknowledged(page: Any, bank: DemoBank, sequence: int, reason: str) -> Any:
    """From an alert's decisions, back to its row: acknowledge it; the ledger and row say so."""
    page.get_by_role("link", name="Monitoring").click()
    page.wait_for_url(f"**/monitoring#alert-{sequence}")
    row = page.locator(f"#alert-{sequence}")
    row.get_by_label("Why").fill(reason)
    row.get_by_role("button", name="Acknowledge").click()
    page.wait_for_url(f"**/monitoring#alert-{sequence}")
    row = page.locator(f"#alert-{sequence}")
    entry = _acknowledgement_in_ledger(bank, sequence)
    assert entry["state"] == "acknowledged" and entry["reason"] == reason
    assert f"acknowledged by {entry['by']}: “{reason}”" in row.inner_text()
    return row


def _raised(bank: DemoBank) -> list[dict[str, Any]]:
    """Every alert the demo's monitoring passes recorded in the credit system's chain."""
    engine = create_engine(f"sqlite:///{bank.database}")
    try:
        with Session(engine) as session:
            rows = session.scalars(
                select(LedgerEntry.public)
                .where(LedgerEntry.chain == CREDIT_LIMIT, LedgerEntry.kind == "monitoring_alert")
                .order_by(LedgerEntry.sequence)
            ).all()
    finally:
        engine.dispose()
    return [json.loads(row) for row in rows]


def _week(bank: DemoBank, alert: dict[str, Any]) -> int:
    """The replayed week (1 = the first) whose end the alert's pass ran at."""
    return (datetime.fromisoformat(alert["window_end"]) - bank.history_start).days // 7


def test_the_monitor_finds_the_drift_in_week_9_and_the_disparity_in_week_12(
    demo_bank: DemoBank,
) -> None:
    """Each planted change raises its alerts at the first weekly pass after it, never before."""
    raised = _raised(demo_bank)
    first: dict[str, int] = {}
    for alert in raised:
        if alert["rule"] == "input-drift" or alert["subject"] == "sex":
            first.setdefault(alert["subject"], _week(demo_bank, alert))
    # No input drifted from the training data in weeks 1 to 8: no false alert on noise ...
    assert first == {
        "postcode_district": DRIFT_DAY // 7 + 1,  # week 9
        "debt_to_income": DISPARITY_DAY // 7 + 1,  # week 12: the plan raises women's debt
        "sex": DISPARITY_DAY // 7 + 1,
    }
    # ... and each drift alert says by how far, by its test and threshold (Evidently's).
    drifted = {a["subject"]: a for a in raised if a["rule"] == "input-drift"}
    assert set(drifted) == {"postcode_district", "debt_to_income"}
    assert drifted["postcode_district"]["group"] == "jensenshannon"
    assert drifted["debt_to_income"]["group"] == "wasserstein"
    assert all(a["score"] >= a["score_threshold"] == 0.1 for a in drifted.values())


def test_an_officer_opens_a_drift_alert_follows_it_to_its_decisions_and_acknowledges_it(
    demo_bank: DemoBank, sized: Any, screenshot: Any
) -> None:
    page = sized
    width = page.viewport_size["width"]
    feature, words, day, reason = DRIFT_ACKNOWLEDGED[width]
    end = demo_bank.history_start + timedelta(days=(day // 7 + 1) * 7)
    start = end - timedelta(days=DRIFT_SPAN_DAYS)
    _open_monitoring(page, demo_bank)

    # The heat map: the feature's cells read "drifted" from the week it moved, not before.
    headers = page.locator("#drift-map thead th").all_inner_texts()
    column = headers.index(feature)
    cells = {
        row.locator("th").inner_text(): row.locator("td").nth(column - 1).inner_text()
        for row in page.locator("#drift-map tbody tr").all()
    }
    moved = (demo_bank.history_start + timedelta(days=day)).date().isoformat()
    assert cells[moved].endswith(" drifted"), cells
    assert all(not text.endswith("drifted") for week, text in cells.items() if week < moved)

    # The alert, in the officer's words: what drifted, by how far, over which days.
    rows = (
        page.locator("section[aria-labelledby=alerts-heading] tr[id^=alert-]")
        .filter(has_text=f"Drift of {words}")
        .filter(has_text=end.date().isoformat())
    )
    assert rows.count() == 1, f"one drift alert for {feature} at the end of week {day // 7 + 1}"
    row = rows.first
    sequence = int(str(row.get_attribute("id")).removeprefix("alert-"))
    text = " ".join(row.inner_text().split())
    assert "open" in text and "All decisions" in text
    # Jensen-Shannon for the districts (categories), normalised Wasserstein for the debt ratio.
    assert re.search(
        r"distance (\(normed\) )?\d\.\d{3} from the training data \(drift from 0\.10\)", text
    )
    _checked(page, screenshot, f"demo-drift-{feature}")

    # One click to the decisions of the span its rule read: every decision of those days.
    row.get_by_role("link", name="Open its decisions").click()
    page.wait_for_url(f"**/monitoring/alerts/{sequence}/decisions")
    scope = " ".join(page.locator("#alert-scope").inner_text().split())
    assert scope.startswith(f"Drift of {words}, ")
    assert "from the training data (drift from 0.10)" in scope
    assert (
        f"from {start.date().isoformat()} up to (not including) {end.date().isoformat()}" in scope
    )
    assert "every decision of those days" in scope
    listed = page.locator("#alert-decisions tbody tr")
    made = listed.locator("td:nth-of-type(1)").all_inner_texts()
    assert made and all(start.date().isoformat() <= m[:10] < end.date().isoformat() for m in made)
    caption = page.locator("#alert-decisions caption").inner_text()
    assert caption.startswith(f"{len(made)}+"), caption  # the span holds more than are listed
    assert len(made) < DRIFT_SPAN_DAYS * PER_DAY
    _checked(page, screenshot, f"demo-drift-decisions-{feature}")

    # Back on the monitoring page: acknowledge with a reason, recorded in the ledger.
    row = _acknowledged(page, demo_bank, sequence, reason)
    assert row.get_by_role("button", name="Acknowledge").count() == 0


def test_an_officer_acknowledges_the_demo_banks_week_12_alert_from_its_decisions(
    demo_bank: DemoBank, sized: Any, screenshot: Any
) -> None:
    page = sized
    width = page.viewport_size["width"]
    group, reason = ACKNOWLEDGED[width]
    week_start = demo_bank.history_start + timedelta(days=DISPARITY_DAY)
    week_end = week_start + timedelta(days=7)
    _open_monitoring(page, demo_bank)
    # The alert of the week the disparity opened: the gap by sex, for this width's group.
    rows = (
        page.locator("section[aria-labelledby=alerts-heading] tr[id^=alert-]")
        .filter(has_text=re.compile(rf"\b{group} \(sex\)"))  # not "Female" for "Male"
        .filter(has_text="Selection-rate gap by sex")
        .filter(has_text="warning")  # the 5-point rule (the 10-point one is critical)
        .filter(has_text=week_end.date().isoformat())
    )
    assert rows.count() == 1, f"one alert for {group} at the end of week 12"
    row = rows.first
    sequence = int(str(row.get_attribute("id")).removeprefix("alert-"))
    assert "open" in row.inner_text()
    _checked(page, screenshot, "demo-monitoring")

    # One click to the decisions of that window and group.
    row.get_by_role("link", name="Open its decisions").click()
    page.wait_for_url(f"**/monitoring/alerts/{sequence}/decisions")
    assert page.get_by_role("heading", level=1).inner_text() == f"Decisions behind alert {sequence}"
    scope = page.locator("#alert-scope").inner_text()
    assert f"Selection-rate gap by sex, {group} (sex)" in scope
    assert (
        f"from {week_start.date().isoformat()} up to (not including) {week_end.date().isoformat()}"
        in scope
    )
    listed = page.locator("#alert-decisions tbody tr")
    ids = listed.locator("th").all_inner_texts()
    made = listed.locator("td:nth-of-type(1)").all_inner_texts()
    assert ids and len(made) == len(ids)
    assert all(week_start.date().isoformat() <= m[:10] < week_end.date().isoformat() for m in made)
    # Every listed decision is of an applicant of this group, replayed in week 12 ...
    who = _who_was_decided(demo_bank, ids)
    assert len(who) == len(ids)
    assert {sex for sex, _ in who.values()} == {group}
    assert {day // 7 for _, day in who.values()} == {DISPARITY_DAY // 7}
    # ... and every such applicant's decision is listed (each was decided, none is pending).
    applicants = history_applicants(seed=0)
    in_week = applicants["day"].between(DISPARITY_DAY, DISPARITY_DAY + 6)
    assert len(ids) == int((in_week & (applicants["sex"] == group)).sum())
    _checked(page, screenshot, "demo-alert-decisions")

    # Back on the monitoring page: acknowledge with a reason; who and why are shown.
    row = _acknowledged(page, demo_bank, sequence, reason)
    assert row.get_by_role("button", name="Acknowledge").count() == 0
    assert row.get_by_role("button", name="Resolve").count() == 1
    _checked(page, screenshot, "demo-alert-acknowledged")
    # The entry sits in a chain that still verifies.
    page.goto(f"{demo_bank.url}/dashboard/ledger")
    assert "The ledger verifies" in page.locator("#ledger-status").inner_text()
