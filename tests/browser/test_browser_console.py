"""The reviewer console in a real browser: claim, override with a reason, four eyes, stats."""

from __future__ import annotations

from typing import Any

from scenes import decide, register_credit, staff_api

from conftest import LiveService, sign_in


def _held_adverse_decision(url: str) -> str:
    """Register a high-risk credit system with a model and send a decision it declines."""
    with staff_api(url) as api:
        register_credit(api, oversight={"review_adverse": True})
        made = decide(api, "cust-7", income=12.5)
    assert (made["outcome"], made["review"]["status"]) == ("declined", "pending_review")
    return str(made["id"])


def test_a_reviewer_overrides_a_declined_credit_case_and_a_second_reviewer_approves(
    live_service: LiveService, page: Any, browser: Any, screenshot: Any
) -> None:
    decision = _held_adverse_decision(live_service.url)
    sign_in(page, live_service.url, "reviewer@bank.example")
    page.wait_for_url("**/console")
    assert page.get_by_role("heading", level=1).inner_text() == "Review queue"
    screenshot(page, "queue")

    page.get_by_role("link", name=decision[:8]).click()
    page.wait_for_url(f"**/console/cases/{decision}")
    assert "Declined" in page.get_by_role("region", name="The model's recommendation").inner_text()
    screenshot(page, "case-before")

    page.get_by_role("button", name="Claim this case").click()
    assert "You hold this case" in page.get_by_role("status").first.inner_text()
    page.get_by_label("New outcome").select_option("approved")
    page.get_by_label("Reason (required)").select_option("new_information")
    page.get_by_label("Explain the override").fill("Recent payslips show a higher income.")
    page.get_by_role("button", name="Override the outcome").click()
    assert "second reviewer approves" in page.get_by_role("status").first.inner_text()
    screenshot(page, "case-proposed")

    second = browser.new_context(viewport={"width": 1280, "height": 900})
    other = second.new_page()
    other.set_default_timeout(15_000)
    try:
        sign_in(other, live_service.url, "second@bank.example")
        other.wait_for_url("**/console")
        assert "Awaiting second approval" in other.get_by_role("table").inner_text()
        other.goto(f"{live_service.url}/console/cases/{decision}")
        other.get_by_role("button", name="Claim this case").click()
        other.get_by_label("Comment (optional)").fill("Checked the payslips.")
        other.get_by_role("button", name="Approve the override").click()
        assert "The decision is final" in other.get_by_role("status").first.inner_text()
        assert "Final outcome Approved" in " ".join(other.locator("main").inner_text().split())
        screenshot(other, "case-after")
    finally:
        second.close()

    page.get_by_role("link", name="My statistics").click()
    page.wait_for_url("**/console/stats")
    facts = " ".join(page.locator("main").inner_text().split())
    assert "Cases decided 1" in facts and "Override rate 100%" in facts
    screenshot(page, "stats")
