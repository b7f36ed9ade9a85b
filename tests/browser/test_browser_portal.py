"""The customer portal in a real browser: the link, a declined decision, why, human review."""

from __future__ import annotations

from typing import Any

from scenes import decide, register_credit, staff_api

from conftest import LiveService


def _declined_decision_and_link(url: str) -> tuple[str, list[str], str]:
    """A credit decision declined for cust-7 (automatic), its reasons, and cust-7's link."""
    with staff_api(url) as api:
        register_credit(api)
        decide(api, "cust-8", income=90.0, housing="own")
        made = decide(api, "cust-7", income=12.5)
        assert (made["outcome"], made["review"]["status"]) == ("declined", "automatic")
        link = api.post("/v1/subjects/cust-7/links", json={}).json()["token"]
    return str(made["id"]), [r["text"] for r in made["explanation"]["reasons"]], link


def test_a_customer_reads_why_they_were_declined_and_asks_for_human_review(
    live_service: LiveService, page: Any, screenshot: Any
) -> None:
    decision, reasons, link = _declined_decision_and_link(live_service.url)
    page.goto(f"{live_service.url}/portal/enter?token={link}")
    page.wait_for_url("**/portal")
    assert page.get_by_role("heading", level=1).inner_text() == "Decisions about you"
    rows = page.get_by_role("row")
    assert rows.count() == 2  # the header and cust-7's one decision, not cust-8's
    assert "Declined" in rows.nth(1).inner_text()
    screenshot(page, "list")

    page.get_by_role("link", name="Why?").click()
    page.wait_for_url(f"**/portal/decisions/{decision}")
    assert "Declined" in page.get_by_role("heading", level=1).inner_text()
    assert page.get_by_text("An AI system made this decision.").is_visible()
    why = page.locator("ol.reasons").inner_text()
    assert reasons and all(reason in why for reason in reasons)
    assert page.get_by_role("heading", name="What would have changed the decision").is_visible()
    page.get_by_text("how much each piece of data counted").click()
    assert page.get_by_role("table", name="Contribution of each input").is_visible()
    screenshot(page, "decision")

    page.get_by_label("Ask for a person to review this decision: your view").fill(
        "My income went up last month; I can send payslips."
    )
    page.get_by_role("button", name="Request human review").click()
    page.wait_for_url(f"**/portal/decisions/{decision}?sent=appeal")
    assert "Your request is recorded" in page.get_by_role("status").inner_text()
    assert page.get_by_text("You asked for a person to review the decision.").is_visible()
    assert page.get_by_role("button", name="Request human review").count() == 0
    screenshot(page, "review-requested")

    page.get_by_role("link", name="Privacy and consent").click()
    page.wait_for_url("**/portal/privacy")
    assert page.get_by_role("heading", level=1).inner_text() == "Your privacy and consent"
    page.get_by_role(
        "button", name="I object: decisions made by an AI system alone", exact=True
    ).click()
    page.wait_for_url("**/portal/privacy?changed=objection")
    assert page.get_by_text("You object").first.is_visible()
    screenshot(page, "privacy")
