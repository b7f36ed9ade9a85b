"""The customer portal in a real browser: the link, a declined decision, why, human review."""

from __future__ import annotations

import re
from typing import Any

from scenes import (
    appeal_on_portal,
    as_customer,
    decide,
    enter_portal,
    override_to_approved,
    register_credit,
    review_step,
    staff_api,
    text_of,
)

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

    appeal_on_portal(
        page, live_service.url, decision, "My income went up last month; I can send payslips."
    )
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


def test_a_decision_answered_on_appeal_says_so_and_offers_no_second_appeal(
    live_service: LiveService, sized: Any, shot: Any
) -> None:
    url = live_service.url
    with staff_api(url) as api:
        register_credit(api)
        kept = decide(api, "cust-7", income=12.5)["id"]
        changed = decide(api, "cust-9", income=12.5)["id"]
    # cust-7 appeals on the page and a reviewer keeps the decline; cust-9's decline is changed
    # on appeal, and a second reviewer approves the change (four eyes on a high-risk system).
    enter_portal(sized, url, "cust-7")
    appeal_on_portal(sized, url, kept, "My income went up last month.")
    review_step(url, "reviewer@bank.example", kept, "decision", {"action": "confirm"})
    appealed = as_customer(
        url, "cust-9", f"/v1/me/decisions/{changed}/appeal", {"statement": "A new payslip."}
    )
    assert appealed.status_code == 201, appealed.text
    review_step(url, "reviewer@bank.example", changed, "decision", override_to_approved())
    review_step(url, "second@bank.example", changed, "approval", {"comment": "Agreed."})

    sized.goto(f"{url}/portal/decisions/{kept}")
    page = text_of(sized)
    answer = " ".join(sized.locator("#appeal-answer").inner_text().split())
    assert re.fullmatch(
        r"A person decided your appeal on \d\d \w{3} \d{4}, \d\d:\d\d UTC: declined\. The "
        r"reviewer looked at your case again, with your view, and kept the decision\. This was "
        r"the review by a person that you asked for, so this decision cannot be appealed "
        r"again\. If you still disagree, report a concern below; you will see our answer on "
        r"this page\.",
        answer,
    ), answer
    assert "A person has decided your appeal" in page
    for offer in ("Ask for a person to review", "You can ask for a person", "Request human review"):
        assert offer not in page, offer
    assert sized.get_by_role("button", name="Request human review").count() == 0
    sized.get_by_role("link", name="report a concern").click()
    assert sized.get_by_label("Report a concern about this decision").is_visible()
    shot(sized, "decided-on-appeal-kept")

    enter_portal(sized, url, "cust-9")
    sized.goto(f"{url}/portal/decisions/{changed}")
    answer = " ".join(sized.locator("#appeal-answer").inner_text().split())
    assert answer.startswith("A person decided your appeal on ") and ": approved. " in answer
    assert "The reviewer changed the decision you appealed." in answer
    assert "cannot be appealed again" in answer
    assert "Ask for a person to review" not in text_of(sized)
    shot(sized, "decided-on-appeal-changed")
