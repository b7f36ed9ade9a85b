"""The review workflow as its people click it, at 390 and 1280 px (issue 16, items 1-5 and 9).

Each test sets its scene through the API, then reads and clicks the pages as the customer, a
reviewer or an officer would, and asserts what the pages say.
"""

from __future__ import annotations

from typing import Any

from scenes import (
    appeal_on_portal,
    as_customer,
    decide,
    enter_portal,
    held_decline,
    override_to_approved,
    register_credit,
    review_step,
    staff_api,
    text_of,
)

from conftest import LiveService, sign_in, staff_page


def test_item1_the_notice_after_an_approved_override_says_a_person_approved_it(
    live_service: LiveService, sized: Any, shot: Any
) -> None:
    url = live_service.url
    decision, reasons = held_decline(url)
    review_step(url, "reviewer@bank.example", decision, "decision", override_to_approved())
    enter_portal(sized, url, "cust-7")
    # Item 3: while the proposal waits for a second reviewer, the customer does not see it.
    sized.goto(f"{url}/portal/decisions/{decision}")
    waiting = text_of(sized)
    assert "A person is reviewing this decision" in waiting
    assert "Declined" in sized.get_by_role("heading", level=1).inner_text()
    review = sized.get_by_role("region", name="Human review").inner_text()
    assert "approved" not in review.lower() and "No person has reviewed" in review
    assert "to approved" not in waiting and "propos" not in waiting.lower()
    assert sized.get_by_role("link", name="Read the formal notice").count() == 0

    review_step(url, "second@bank.example", decision, "approval", {"comment": "Agreed."})
    sized.reload()
    page = text_of(sized)
    assert "Approved" in sized.get_by_role("heading", level=1).inner_text()
    assert "A person made this decision, after reviewing an AI system's recommendation." in page
    assert "A person reviewed this decision and made it: approved." in page
    assert "The AI system's reasons for its overruled recommendation" in page
    assert "What would have changed the decision" not in page
    assert "a second reviewer checked and approved the change" in page
    shot(sized, "decision-after-override")

    sized.get_by_role("link", name="Read the formal notice").click()
    sized.wait_for_url(f"**/portal/decisions/{decision}/notice")
    notice = text_of(sized)
    assert "Decision: approved." in notice
    assert (
        "A person reviewed the automated system's recommendation and made this decision" in notice
    )
    assert "made with an automated system" not in notice
    assert not any(reason in notice for reason in reasons)
    assert "would have" not in notice and "principal reasons" not in notice
    shot(sized, "notice-after-override")


def test_item2_a_suspended_systems_fallback_reads_pending_to_customer_and_reviewer(
    live_service: LiveService, sized: Any, browser: Any, shot: Any
) -> None:
    url = live_service.url
    with staff_api(url) as api:
        register_credit(api, risk_tier="limited", fallback={"outcome": "declined"})
        suspended = api.post("/v1/systems/credit/suspension", json={"reason": "drift alert"})
        assert suspended.status_code == 201, suspended.text
        made = decide(api, "cust-3", income=95.0, housing="own")  # a strong applicant
    assert (made["outcome"], made["scored_by"]) == ("declined", "fallback")
    enter_portal(sized, url, "cust-3")
    listed = text_of(sized)
    assert "Pending — a person will decide" in listed and "Declined" not in listed
    sized.goto(f"{url}/portal/decisions/{made['id']}")
    page = text_of(sized)
    assert "Pending — a person will decide" in sized.get_by_role("heading", level=1).inner_text()
    assert "No AI model decided this: a person will decide" in page
    assert "Declined" not in page and "No profile of you was used" not in page
    shot(sized, "customer-pending")

    with staff_page(browser, url, "reviewer@bank.example", sized) as reviewer:
        reviewer.goto(f"{url}/console/cases/{made['id']}")
        case = text_of(reviewer)
        assert "No model decided this case" in case
        assert "Pending — a person will decide" in case
        assert "The system's fallback Declined" in case
        assert "The model's recommendation" not in case
        shot(reviewer, "reviewer-pending")


def test_item3_a_second_reviewer_rejects_a_proposal_and_it_returns_to_the_queue(
    live_service: LiveService, sized: Any, shot: Any
) -> None:
    url = live_service.url
    decision, _ = held_decline(url)
    review_step(url, "reviewer@bank.example", decision, "decision", override_to_approved())
    sign_in(sized, url, "second@bank.example")
    sized.wait_for_url("**/console")
    sized.goto(f"{url}/console/cases/{decision}")
    sized.get_by_role("button", name="Claim this case").click()
    assert sized.get_by_role("button", name="Approve the override").is_visible()
    sized.get_by_label("Why the override should not take effect").fill("The payslip is unsigned.")
    shot(sized, "proposal")
    sized.get_by_role("button", name="Reject the override").click()
    status = sized.get_by_role("status").first.inner_text()
    assert "You rejected the override: the case is back in the queue" in status
    case = text_of(sized)
    assert "Override proposed" in case and "Override rejected: back in the queue" in case
    assert "The payslip is unsigned." in case
    assert "Awaiting review" in case  # open again for anyone to decide
    shot(sized, "rejected")


def test_item4_an_appeal_goes_first_and_its_first_reviewer_is_refused(
    live_service: LiveService, sized: Any, shot: Any
) -> None:
    url = live_service.url
    decision, _ = held_decline(url)
    with staff_api(url) as api:
        others = [decide(api, f"cust-{n}", income=10.0 + n)["id"] for n in range(20, 24)]
    review_step(url, "reviewer@bank.example", decision, "decision", {"action": "confirm"})
    enter_portal(sized, url, "cust-7")
    appeal_on_portal(sized, url, decision, "My income rose last month.")
    sized.context.clear_cookies()

    sign_in(sized, url, "reviewer@bank.example")
    sized.wait_for_url("**/console")
    rows = sized.locator("tbody tr")
    assert rows.count() == len(others) + 1
    first = rows.nth(0).inner_text()
    assert decision[:8] in first and "Customer appeal" in first
    shot(sized, "queue-appeal-first")
    sized.get_by_role("link", name=decision[:8]).click()
    case = text_of(sized)
    assert "You reviewed this case before the customer appealed it" in case
    assert "a different reviewer must decide the appeal" in case
    assert sized.get_by_role("button", name="Claim this case").count() == 0
    shot(sized, "appeal-refused")


def test_item5_an_objection_case_is_decided_directly_by_a_person(
    live_service: LiveService, sized: Any, browser: Any, shot: Any
) -> None:
    url = live_service.url
    with staff_api(url) as api:
        register_credit(api, oversight={"review_adverse": True, "blind_first": True})
        objected = api.post("/v1/subjects/cust-5/objections", json={"kind": "automated_decision"})
        assert objected.status_code in (200, 201), objected.text
        made = decide(api, "cust-5", income=60.0)
    assert (made["outcome"], made["scored_by"]) == ("pending", "none")
    sign_in(sized, url, "reviewer@bank.example")
    sized.wait_for_url("**/console")
    sized.goto(f"{url}/console/cases/{made['id']}")
    case = text_of(sized)
    assert "No model decided this case" in case and "Pending — a person will decide" in case
    assert "differs from the model" not in case and "blind-first" not in case
    sized.get_by_role("button", name="Claim this case").click()
    assert sized.get_by_role("button", name="Confirm the outcome").count() == 0
    assert sized.get_by_role("button", name="Override the outcome").count() == 0
    sized.get_by_label("Your decision").select_option("approved")
    sized.get_by_role("button", name="Record my decision").click()
    assert "Your decision is recorded" in sized.get_by_role("status").first.inner_text()
    assert "Decided by a person" in text_of(sized)
    shot(sized, "objection-decided")

    sized.goto(f"{url}/console/stats")
    stats = text_of(sized)
    assert "Cases decided directly 1 (no model decided them: not counted in agreement)" in stats
    assert "Cases decided 0" in stats
    shot(sized, "stats")


def test_notifications_the_customer_sees_what_changed_with_an_unread_count(
    live_service: LiveService, sized: Any, shot: Any
) -> None:
    url = live_service.url
    decision, _ = held_decline(url)
    review_step(url, "reviewer@bank.example", decision, "claim")
    review_step(url, "reviewer@bank.example", decision, "decision", {"action": "confirm"})
    enter_portal(sized, url, "cust-7")
    if sized.get_by_role("button", name="Menu").is_visible():  # a phone: the menu is folded
        sized.get_by_role("button", name="Menu").click()
    link = sized.get_by_role("link", name="Notifications")
    assert "2 unread" in link.inner_text()
    link.click()
    sized.wait_for_url("**/portal/notifications")
    page = text_of(sized)
    assert "2 new since you last looked." in page
    assert "A person started reviewing your decision about Credit limit." in page
    assert "A person decided your case about Credit limit: declined." in page
    shot(sized, "notifications")
    sized.get_by_role("link", name="See the decision").first.click()
    sized.wait_for_url(f"**/portal/decisions/{decision}")
    assert "unread" not in sized.locator("header").inner_text()


def test_item9_an_override_needs_words_and_an_officer_follows_a_concern_to_its_decision(
    live_service: LiveService, sized: Any, browser: Any, shot: Any
) -> None:
    url = live_service.url
    decision, _ = held_decline(url)
    sign_in(sized, url, "reviewer@bank.example")
    sized.wait_for_url("**/console")
    sized.goto(f"{url}/console/cases/{decision}")
    sized.get_by_role("button", name="Claim this case").click()
    comment = sized.get_by_label("Explain the override (required)")
    assert comment.get_attribute("required") is not None
    sized.get_by_label("Reason (required)").select_option("new_information")
    # The browser would stop an empty comment; send the form as a script could, without it.
    sized.evaluate("document.getElementById('override-comment').removeAttribute('required')")
    sized.get_by_role("button", name="Override the outcome").click()
    assert "an override needs a comment" in sized.get_by_role("alert").inner_text()

    raised = as_customer(url, "cust-7", f"/v1/me/decisions/{decision}/concerns", {"text": "Why?"})
    assert raised.status_code == 201, raised.text
    sized.context.clear_cookies()
    sign_in(sized, url, "officer@bank.example")
    sized.wait_for_url("**/dashboard")
    sized.goto(f"{url}/dashboard/concerns")
    sized.get_by_role("link", name=f"decision {decision[:8]}").click()
    sized.wait_for_url(f"**/dashboard/decisions/{decision}")
    page = text_of(sized)
    assert f"Decision {decision[:8]} of Credit limit" in page
    assert "Why?" in page and "Awaiting review" in page
    shot(sized, "officer-decision")


#: The queue's own refresh, as its 30 s poll sends it: the same request, target and swap.
_REFRESH = """() => new Promise(done => {
  document.body.addEventListener("htmx:afterSettle", () => done(true), {once: true});
  const queue = document.getElementById("queue");
  htmx.ajax("GET", queue.getAttribute("hx-get"), {target: "#queue", swap: "outerHTML"});
})"""


def test_item9_the_queue_refresh_keeps_the_keyboard_where_it_was(
    live_service: LiveService, sized: Any, shot: Any
) -> None:
    url = live_service.url
    with staff_api(url) as api:
        register_credit(api, oversight={"review_adverse": True})
        first, second = (decide(api, f"cust-{n}", income=11.0)["id"] for n in (7, 8))
    sign_in(sized, url, "reviewer@bank.example")
    sized.wait_for_url("**/console")
    link = sized.get_by_role("link", name=second[:8])
    link.focus()
    before = sized.locator("#queue").element_handle()
    assert sized.evaluate(_REFRESH)
    # The list was replaced (a new element), and the focus is on the same case's link in it.
    assert sized.evaluate("old => !document.body.contains(old)", before)
    assert sized.evaluate("() => document.activeElement.id") == f"case-{second}"
    assert first[:8] in text_of(sized)
    sized.keyboard.press("Enter")
    sized.wait_for_url(f"**/console/cases/{second}")
    shot(sized, "case-reached-by-keyboard")
