"""An officer in a real browser: the dashboard, a system's fairness snapshot, the kill switch."""

from __future__ import annotations

from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest

from conftest import PASSWORD, LiveService, sign_in
from ethica.scoring import dump_model

SPEC = {
    "name": "Credit limit",
    "purpose": "finance",
    "risk_tier": "limited",
    "decision": {"kind": "binary", "threshold": 0.5},
    "features": [{"name": "income", "type": "number", "data_category": "user.financial"}],
    "protected_attributes": [{"name": "sex"}],
    "owner": "risk@bank.example",
}
#: Approvals out of 40 per group: a gap the snapshot must show.
APPROVED = {"Female": 12, "Male": 28}


def _decide(api: httpx.Client, subject: str, sex: str, score: float) -> dict[str, Any]:
    body = {
        "subject_id": subject,
        "features": {"income": 40.0},
        "protected": {"sex": sex},
        "score": score,
    }
    made = api.post("/v1/systems/credit/decisions", json=body)
    assert made.status_code == 201, made.text
    return dict(made.json())


def test_an_officer_reads_a_fairness_snapshot_and_suspends_a_system(
    live_service: LiveService, page: Any, screenshot: Any
) -> None:
    with httpx.Client(base_url=live_service.url, timeout=30) as api:
        signed = api.post(
            "/v1/auth/token", json={"email": "admin@bank.example", "password": PASSWORD}
        )
        api.headers["Authorization"] = f"Bearer {signed.json()['token']}"
        assert api.put("/v1/systems/credit", json=SPEC).status_code == 201
        for sex, approved in APPROVED.items():
            for i in range(40):
                _decide(api, f"{sex}-{i}", sex, 0.9 if i < approved else 0.1)

        sign_in(page, live_service.url, "officer@bank.example")
        page.wait_for_url("**/dashboard")
        assert page.get_by_role("heading", level=1).inner_text() == "Officer dashboard"
        row = page.get_by_role("row").filter(has_text="Credit limit")
        line = " ".join(row.inner_text().split())
        assert "active" in line and "40 approved" in line and "40 declined" in line
        # Keys read as words: the purpose by its taxonomy name, the kind, the tier.
        assert "Approves or declines" in line and "Finance" in line and "Limited risk" in line
        assert "binary" not in line and "credit ·" not in line
        page.get_by_role("link", name="Verify the ledger now").click()  # htmx, in place
        page.get_by_text("The ledger verifies").wait_for()
        assert page.url.endswith("/dashboard")
        screenshot(page, "dashboard")

        page.get_by_role("link", name="Credit limit").click()
        page.wait_for_url("**/dashboard/systems/credit")
        assert page.get_by_role("heading", level=1).inner_text().startswith("Credit limit")
        facts = " ".join(page.locator("dl.facts").first.inner_text().split())
        assert "Purpose Finance" in facts and "Decision Approves or declines" in facts
        assert "System id credit (for the API and the command line)" in facts
        female = page.get_by_role("row").filter(has_text="Female").first
        assert "30.0%" in female.inner_text()
        assert page.locator("figure svg[role=img]").count() >= 1
        page.get_by_label("Period").select_option("7")
        page.get_by_role("button", name="Show").click()
        page.get_by_text("80 decisions in the last 7 days").wait_for()
        screenshot(page, "system")

        page.get_by_label("Why suspend it?").fill("approval gap between groups under review")
        page.get_by_role("button", name="Suspend this system").click()
        status = page.get_by_role("status").filter(has_text="The system is suspended")
        status.wait_for()
        assert "Recorded in the ledger as credit #" in status.inner_text()
        assert (
            "approval gap between groups under review" in page.locator("#last-change").inner_text()
        )
        assert page.get_by_role("button", name="Resume this system").is_visible()
        screenshot(page, "suspended")

        held = _decide(api, "Female-99", "Female", 0.9)
        assert held["review"]["status"] == "pending_review"
        assert held["outcome"] == "pending"
        page.goto(f"{live_service.url}/dashboard")
        row = page.get_by_role("row").filter(has_text="Credit limit")
        assert "suspended" in row.inner_text()


def _credit_model() -> bytes:
    """A small LightGBM model that approves on income (the only feature of :data:`SPEC`)."""
    lightgbm = pytest.importorskip("lightgbm")

    income = np.random.default_rng(0).random(400) * 100
    frame = pd.DataFrame({"income": income})
    model = lightgbm.LGBMClassifier(n_estimators=20, verbose=-1).fit(frame, income > 50)
    return dump_model(model, "lightgbm")


def test_an_officer_adds_a_seeded_case_and_a_reviewer_finds_it_in_the_queue(
    live_service: LiveService, page: Any, screenshot: Any
) -> None:
    with httpx.Client(base_url=live_service.url, timeout=30) as api:
        signed = api.post(
            "/v1/auth/token", json={"email": "admin@bank.example", "password": PASSWORD}
        )
        api.headers["Authorization"] = f"Bearer {signed.json()['token']}"
        assert api.put("/v1/systems/credit", json=SPEC).status_code == 201
        uploaded = api.post(
            "/v1/systems/credit/models",
            params={"version": "1", "format": "lightgbm"},
            content=_credit_model(),
        )
        assert uploaded.status_code == 201, uploaded.text

    sign_in(page, live_service.url, "officer@bank.example")
    page.wait_for_url("**/dashboard")
    page.goto(f"{live_service.url}/dashboard/systems/credit")
    assert page.locator("#seeded-tally").inner_text().strip() == "No seeded cases yet."
    page.get_by_label("Income").fill("12")
    page.get_by_label("Known correct outcome").select_option("approved")
    screenshot(page, "seeded-form")
    page.get_by_role("button", name="Add the seeded case").click()
    added = page.get_by_role("status").filter(has_text="is in the review queue")
    added.wait_for()
    case_id = added.locator("strong").inner_text()
    assert "1 seeded case; 0 decided" in page.locator("#seeded-tally").inner_text()
    screenshot(page, "seeded-added")

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, live_service.url, "reviewer@bank.example")
    page.wait_for_url("**/console")
    page.locator(f'a[href="/console/cases/{case_id}"]').first.click()
    page.wait_for_url(f"**/console/cases/{case_id}")
    assert "seeded" not in page.content().lower()
