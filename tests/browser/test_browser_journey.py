"""The whole story of issue #6 in one browser session, as the people involved would click it.

A customer opens a declined decision, reads why and asks for a person to review it; a reviewer
overrides it with a reason; a second reviewer approves (four eyes on a high-risk adverse
decision); the customer sees the new outcome; an officer suspends the system and the next
decision goes to a person.
"""

from __future__ import annotations

from typing import Any

from scenes import appeal_on_portal, decide, register_credit, staff_api

from conftest import LiveService, sign_in


def _context(browser: Any) -> tuple[Any, Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    opened.set_default_timeout(15_000)
    return context, opened


def test_appeal_override_four_eyes_new_outcome_and_kill_switch(
    live_service: LiveService, browser: Any, screenshot: Any
) -> None:
    url = live_service.url
    with staff_api(url) as api:
        register_credit(api)
        made = decide(api, "cust-7", income=12.5)
        assert (made["outcome"], made["review"]["status"]) == ("declined", "automatic")
        link = api.post("/v1/subjects/cust-7/links", json={}).json()["token"]
    decision = made["id"]
    customer_context, customer = _context(browser)
    reviewer_context, reviewer = _context(browser)
    second_context, second = _context(browser)
    officer_context, officer = _context(browser)
    try:
        # The customer reads why and asks for a person.
        customer.goto(f"{url}/portal/enter?token={link}")
        customer.get_by_role("link", name="Why?").click()
        customer.wait_for_url(f"**/portal/decisions/{decision}")
        assert "Declined" in customer.get_by_role("heading", level=1).inner_text()
        reasons = customer.locator("ol.reasons").inner_text()
        assert all(r["text"] in reasons for r in made["explanation"]["reasons"])
        appeal_on_portal(
            customer, url, decision, "My income doubled last month; I can send payslips."
        )
        assert "Your request is recorded" in customer.get_by_role("status").inner_text()
        screenshot(customer, "1-customer-asked-for-review")

        # A reviewer sees the appeal in the queue, reads the customer's view, overrides.
        sign_in(reviewer, url, "reviewer@bank.example")
        reviewer.wait_for_url("**/console")
        reviewer.get_by_role("link", name=decision[:8]).click()
        assert "My income doubled last month" in reviewer.locator("main").inner_text()
        reviewer.get_by_role("button", name="Claim this case").click()
        reviewer.get_by_label("New outcome").select_option("approved")
        reviewer.get_by_label("Reason (required)").select_option("new_information")
        reviewer.get_by_label("Explain the override").fill("Payslips confirm a higher income.")
        reviewer.get_by_role("button", name="Override the outcome").click()
        assert "second reviewer approves" in reviewer.get_by_role("status").first.inner_text()
        assert reviewer.get_by_role("button", name="Approve the override").count() == 0
        screenshot(reviewer, "2-reviewer-proposed-override")

        # Until a second reviewer agrees, the customer still sees the decision under review.
        customer.reload()
        assert "Declined" in customer.get_by_role("heading", level=1).inner_text()

        # A second reviewer approves: four eyes.
        sign_in(second, url, "second@bank.example")
        second.goto(f"{url}/console/cases/{decision}")
        second.get_by_role("button", name="Claim this case").click()
        second.get_by_role("button", name="Approve the override").click()
        assert "The decision is final" in second.get_by_role("status").first.inner_text()
        screenshot(second, "3-second-reviewer-approved")

        # The customer sees the new outcome.
        customer.reload()
        assert "Approved" in customer.get_by_role("heading", level=1).inner_text()
        screenshot(customer, "4-customer-sees-new-outcome")

        # An officer suspends the system; the next decision goes to a person.
        sign_in(officer, url, "officer@bank.example")
        officer.wait_for_url("**/dashboard")
        officer.get_by_role("link", name="Credit limit").click()
        officer.get_by_label("Why suspend it?").fill("drift in approvals under investigation")
        officer.get_by_role("button", name="Suspend this system").click()
        officer.get_by_role("status").filter(has_text="The system is suspended").wait_for()
        screenshot(officer, "5-officer-suspended-the-system")
    finally:
        for context in (customer_context, reviewer_context, second_context, officer_context):
            context.close()
    with staff_api(url) as api:
        after = decide(api, "cust-9", income=95.0, housing="own")
    assert after["review"]["status"] == "pending_review"
    assert "suspended" in after["review"]["reason"]
