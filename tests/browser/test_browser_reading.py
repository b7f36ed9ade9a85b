"""What the pages say, read as their reader reads them, at 390 and 1280 px (issue 16).

The customer's list of decisions, the formal notice in each state a decision passes through
(automated, confirmed by a person, under appeal, appeal answered, waiting while the system is
suspended), the erasure page before and after, and the reviewer's queue and case: each is
opened in Chromium, checked with axe-core, photographed, and its words asserted.
"""

from __future__ import annotations

from typing import Any

from scenes import (
    appeal_on_portal,
    decide,
    enter_portal,
    held_decline,
    review_step,
    staff_api,
    text_of,
)

from conftest import LiveService, sign_in

#: The credit system's purpose as its spec says it (the portal shows it, not a taxonomy key).
DESCRIPTION = "Approves or declines a customer's request for a higher credit limit."


def _notice(page: Any, url: str, decision: str) -> str:
    page.goto(f"{url}/portal/decisions/{decision}/notice")
    assert page.get_by_role("heading", level=1).inner_text() == "Notice of the decision"
    return text_of(page)


def _words(text: str) -> str:
    return " ".join(text.split())


def _rights(page: Any) -> list[str]:
    """The rights the notice on ``page`` lists (its last list)."""
    listed = page.locator(".adverse-action-notice ul").last.locator("li").all_inner_texts()
    return [_words(right) for right in listed]


#: What the notice lists of the customer's rights before an appeal, and once it is decided.
ASK_FOR_A_PERSON = (
    "You may ask for a person to review this decision and give your point of view, on this "
    "decision's page in the customer portal."
)
SEE_THE_DATA = (
    "You may see the information used about you on this decision's page in the customer portal, "
    "and, if any of it is wrong, ask there for it to be corrected by reporting a concern."
)
APPEAL_DECIDED = (
    "A person has already reviewed this decision on your appeal. If you still disagree, you may "
    "report a concern about it on this decision's page in the customer portal; you will see our "
    "answer there."
)


def test_the_formal_notice_follows_the_decision_through_every_state(
    live_service: LiveService, sized: Any, shot: Any
) -> None:
    url = live_service.url
    decision, reasons = held_decline(url, description=DESCRIPTION)
    with staff_api(url) as api:
        approved = decide(api, "cust-7", income=95.0, housing="own")
    assert (approved["outcome"], approved["review"]["status"]) == ("approved", "automatic")
    enter_portal(sized, url, "cust-7")

    automated = _notice(sized, url, approved["id"])
    assert "Notice of decision: Credit limit" in automated
    assert "Decision: approved. This decision was made with an automated system." in automated
    assert _rights(sized) == [ASK_FOR_A_PERSON, SEE_THE_DATA]
    shot(sized, "notice-automated")

    pending = _notice(sized, url, decision)
    assert "Credit limit: there is no notice yet" in pending
    assert "An AI system recommended this decision; a person is reviewing it." in pending
    assert "is given once a person has decided" in pending
    assert not any(_words(reason) in _words(pending) for reason in reasons)
    shot(sized, "notice-pending")

    review_step(url, "reviewer@bank.example", decision, "decision", {"action": "confirm"})
    confirmed = _notice(sized, url, decision)
    assert "Decision: declined. A person reviewed this decision and confirmed it." in confirmed
    headings = sized.locator("main h3").all_inner_texts()
    assert "The principal reasons for this decision" in headings and "Your rights" in headings
    assert not [h for h in headings if h.rstrip().endswith(":")], headings
    # A number and its unit are held together by a no-break space, which the page may render
    # as a plain one: compare words.
    assert reasons and all(_words(reason) in _words(confirmed) for reason in reasons)
    assert "made with an automated system" not in confirmed
    assert _rights(sized) == [ASK_FOR_A_PERSON, SEE_THE_DATA]
    shot(sized, "notice-confirmed")

    # The decision's page, where the notice sends the customer, offers what it said.
    sized.goto(f"{url}/portal/decisions/{decision}")
    assert "You can ask for a person to review it, give your view, and see what data was used." in (
        text_of(sized)
    )
    appeal_on_portal(sized, url, decision, "My income rose last month.")
    assert sized.get_by_role("link", name="Read the formal notice").count() == 0
    assert "A person is reviewing this decision. You will see the result here." in text_of(sized)
    appealed = _notice(sized, url, decision)
    assert "Credit limit: there is no notice yet" in appealed and "Decision:" not in appealed
    assert (
        "The formal notice of the decision, with its reasons and your rights, is given once a "
        "person has decided. You will find it here, and on the decision's page." in appealed
    )
    shot(sized, "notice-under-appeal")

    review_step(url, "second@bank.example", decision, "decision", {"action": "confirm"})
    answered = _notice(sized, url, decision)
    assert "Decision: declined. A person reviewed this decision and confirmed it." in answered
    assert _rights(sized) == [APPEAL_DECIDED, SEE_THE_DATA]
    assert "ask for a person" not in answered and "point of view" not in answered
    shot(sized, "notice-after-appeal")
    sized.goto(f"{url}/portal/decisions/{decision}")
    concern = "If you still disagree, report a concern below; you will see our answer on this page."
    assert concern in text_of(sized)
    assert sized.get_by_label("Report a concern about this decision").is_visible()

    with staff_api(url) as api:
        suspended = api.post("/v1/systems/credit/suspension", json={"reason": "drift alert"})
        assert suspended.status_code == 201, suspended.text
        waiting = decide(api, "cust-7", income=95.0, housing="own")
    assert waiting["scored_by"] in ("fallback", "none")
    while_suspended = _notice(sized, url, waiting["id"])
    assert "Credit limit: there is no notice yet" in while_suspended
    assert "No AI model decided this: a person will decide" in while_suspended
    assert "Decision:" not in while_suspended
    shot(sized, "notice-while-suspended")


def test_the_customers_list_of_decisions_reads_in_plain_words(
    live_service: LiveService, sized: Any, shot: Any
) -> None:
    url = live_service.url
    decision, _ = held_decline(url, description=DESCRIPTION)
    enter_portal(sized, url, "cust-7")
    assert sized.get_by_role("heading", level=1).inner_text() == "Decisions about you"
    listed = text_of(sized)
    assert "1 decision about you" in listed
    row = " ".join(sized.locator("tbody tr").first.inner_text().split())
    assert "Credit limit" in row and f"Purpose: {DESCRIPTION}" in row
    assert "Declined" in row and "A person is reviewing this decision" in row
    assert "Finance" not in listed and "finance" not in listed  # no taxonomy names
    shot(sized, "decision-list")

    sized.get_by_role("link", name="Why?").click()
    sized.wait_for_url(f"**/portal/decisions/{decision}")
    page = text_of(sized)
    assert f"Purpose {DESCRIPTION}" in page
    assert "this decision is not final until a person has acted" in page
    assert "A person is reviewing this decision. You will see the result here." in page
    shot(sized, "decision-held")


def test_erasure_says_what_goes_and_what_stays_before_and_after(
    live_service: LiveService, sized: Any, shot: Any
) -> None:
    url = live_service.url
    held_decline(url, description=DESCRIPTION)
    enter_portal(sized, url, "cust-7")
    sized.goto(f"{url}/portal/privacy/erasure")
    before = text_of(sized)
    assert sized.get_by_role("heading", level=1).inner_text() == "Erase my data"
    assert "The data each decision used about you, and the explanations that quote it." in before
    assert "What is kept, and why" in before
    assert "Erasure cannot be undone, and it signs you out of this portal." in before
    shot(sized, "erasure-before")

    sized.get_by_label("I understand: erase my personal data.").check()
    sized.get_by_role("button", name="Erase my data").click()
    assert sized.get_by_role("heading", level=1).inner_text() == "Your data is erased"
    after = text_of(sized)
    assert "We erased your personal data on" in after and "You are signed out." in after
    assert "can no longer be read by anyone" in after
    assert "1 decision no longer linked to you." in after
    assert "Reference of your request:" in after
    shot(sized, "erasure-after")
    sized.goto(f"{url}/portal")
    assert "/portal" not in sized.url or "Decisions about you" not in text_of(sized)


def test_the_reviewer_reads_the_queue_and_a_case_by_the_systems_name(
    live_service: LiveService, sized: Any, shot: Any
) -> None:
    url = live_service.url
    decision, reasons = held_decline(url, description=DESCRIPTION)
    sign_in(sized, url, "reviewer@bank.example")
    sized.wait_for_url("**/console")
    queue = text_of(sized)
    assert "1 case awaiting review" in queue
    row = " ".join(sized.locator("tbody tr").first.inner_text().split())
    assert decision[:8] in row and "Credit limit high risk" in row
    assert "Adverse outcome of a high-risk system" in row and "Not claimed" in row
    assert sized.get_by_label("System").locator("option").all_inner_texts() == [
        "All systems",
        "Credit limit",
    ]
    # The search box is whole (USWDS draws a search box without its right border) and stands
    # level with the menus beside it; a deadline's badge keeps to one line.
    search = sized.get_by_label("Case, customer or decision id")
    assert search.evaluate("e => getComputedStyle(e).borderRightWidth") == "1px"
    bottoms = {
        round(box["y"] + box["height"])
        for box in (f.bounding_box() for f in (search, sized.get_by_label("System")))
        if box
    }
    assert len(bottoms) == 1 or sized.viewport_size["width"] < 600, bottoms
    badge = sized.locator("tbody td .badge").first
    assert badge.evaluate("e => getComputedStyle(e).whiteSpace") == "nowrap"
    shot(sized, "queue")

    sized.get_by_role("link", name=decision[:8]).click()
    case = text_of(sized)
    assert "System Credit limit (high risk, high priority)" in case
    assert "Reason held Adverse outcome of a high-risk system" in case
    assert "The model's recommendation Outcome Declined" in case
    # The reviewer reads about the customer (third person), never the customer's "Your ...".
    told = " ".join(sized.locator("ol.reasons").inner_text().split())
    assert reasons and all(reason.startswith("Your ") for reason in reasons)
    # The spec's unit follows every value: never a bare "12.5".
    said = [" ".join(reason.split()) for reason in reasons]
    assert any(r.startswith("Your yearly income: 12.5 thousand EUR.") for r in said), said
    assert "The customer's yearly income: 12.5 thousand EUR." in told and "Your " not in told
    assert "Yearly income 12.5 thousand EUR" in case and "Housing rent" in case
    assert "Claim the case to work on it" in case
    shot(sized, "case")


def test_the_api_docs_buttons_stay_on_a_phones_screen(
    live_service: LiveService, browser: Any
) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        page.goto(f"{live_service.url}/docs")
        page.locator(".opblock-summary", has_text="Apply System").first.click()
        page.get_by_role("button", name="Try it out").first.click()
        page.get_by_placeholder("system_id").first.fill("demo")
        page.get_by_role("button", name="Execute").first.click()
        page.get_by_role("button", name="Clear").first.wait_for()
        outside = page.evaluate(
            """() => [...document.querySelectorAll('button, .btn')]
                .filter(b => { const r = b.getBoundingClientRect();
                               return r.width > 0 && (r.right > innerWidth + 1 || r.left < -1); })
                .map(b => b.innerText.trim())"""
        )
        assert outside == []
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 390
    finally:
        context.close()
