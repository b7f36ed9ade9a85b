"""An approval, read as its customer reads it, at 390 and 1280 px, in every state it reaches.

As the model decided it (with a piece of information that weighed against the customer all the
same), confirmed by a person, changed into an approval by a person, and changed into one on the
customer's appeal: the decision's page and its formal notice are opened in Chromium, checked
with axe-core and for sideways scrolling, photographed, and their words asserted. An approval's
page and notice list no "reasons" for it (what weighed against the customer did not decide it),
and after an appeal won they do not assume the customer "still disagrees".
"""

from __future__ import annotations

from typing import Any

from page_checks import sideways
from scenes import (
    CREDIT,
    as_customer,
    decide,
    enter_portal,
    override_to_approved,
    register_credit,
    review_step,
    staff_api,
    text_of,
)
from test_browser_reading import ASK_FOR_A_PERSON, DESCRIPTION, SEE_THE_DATA

from conftest import LiveService

REVIEWER, SECOND, ADMIN = "reviewer@bank.example", "second@bank.example", "admin@bank.example"
#: What an approval's page and notice say in place of reasons against the customer.
PAGE_IN_YOUR_FAVOUR = "This decision is in your favour, so this page lists no reasons against you."
NOTICE_IN_YOUR_FAVOUR = (
    "This decision is in your favour, so this notice lists no reasons against you."
)
APPEAL_WON = (
    "A person has already reviewed this decision on your appeal. If anything about it still "
    "seems wrong to you, you may report a concern about it on this decision's page in the "
    "customer portal; you will see our answer there."
)
AGAINST = "Your housing: rent. This weighed against you."


def _scene(url: str) -> dict[str, str]:
    """One approval of cust-a in each state; their ids by state."""
    with staff_api(url) as api:
        register_credit(
            api, housing_counts=True, oversight={"review_adverse": True}, description=DESCRIPTION
        )
        # A renter with a high income: approved, though renting weighed against them.
        model = decide(api, "cust-a", income=90.0, housing="rent")
        changed = decide(api, "cust-a", income=12.5)
        appealed = decide(api, "cust-a", income=12.0)
        # Every decision held from now on (a quality sample of 100%): an approval a person confirms.
        sampled = {**CREDIT, "description": DESCRIPTION}
        sampled["oversight"] = {"review_adverse": True, "sample_rate": 1.0}
        assert api.put("/v1/systems/credit", json=sampled).status_code == 200
        confirmed = decide(api, "cust-a", income=95.0, housing="own")
    assert (model["outcome"], model["review"]["status"]) == ("approved", "automatic")
    assert [r["text"] for r in model["explanation"]["reasons"]] == [AGAINST]
    assert (confirmed["outcome"], confirmed["review"]["status"]) == ("approved", "pending_review")
    review_step(url, REVIEWER, confirmed["id"], "decision", {"action": "confirm"})
    review_step(url, REVIEWER, changed["id"], "decision", override_to_approved())
    review_step(url, SECOND, changed["id"], "approval", {"comment": "Agreed."})
    review_step(url, REVIEWER, appealed["id"], "decision", {"action": "confirm"})
    body = {"statement": "My income rose last month."}
    sent = as_customer(url, "cust-a", f"/v1/me/decisions/{appealed['id']}/appeal", body)
    assert sent.status_code == 201, sent.text
    review_step(url, SECOND, appealed["id"], "decision", override_to_approved())
    review_step(url, ADMIN, appealed["id"], "approval", {"comment": "Agreed."})
    return {
        "decided-by-model": str(model["id"]),
        "confirmed": str(confirmed["id"]),
        "changed-by-person": str(changed["id"]),
        "changed-on-appeal": str(appealed["id"]),
    }


def _read(page: Any, address: str, shot: Any, name: str) -> str:
    page.goto(address)
    assert sideways(page) == [], name
    shot(page, name)
    return text_of(page)


def _notice_parts(page: Any) -> tuple[list[str], list[str]]:
    """The notice's list headings and its last list (the rights), word by word."""
    headings = page.locator(".adverse-action-notice h3").all_inner_texts()
    rights = page.locator(".adverse-action-notice ul").last.locator("li").all_inner_texts()
    return headings, [" ".join(right.split()) for right in rights]


def test_an_approval_reads_right_in_every_state_it_reaches(
    live_service: LiveService, sized: Any, shot: Any
) -> None:
    url = live_service.url
    ids = _scene(url)
    enter_portal(sized, url, "cust-a")
    pages = {
        state: (
            _read(sized, f"{url}/portal/decisions/{decision}", shot, f"{state}-page"),
            _read(sized, f"{url}/portal/decisions/{decision}/notice", shot, f"{state}-notice"),
            _notice_parts(sized),
        )
        for state, decision in ids.items()
    }
    for state, (page, notice, _) in pages.items():
        assert "Approved" in page and "Decision: approved." in notice, state
        # No "reasons" for an approval, and nothing on what would have changed it.
        assert "The main reasons" not in page and "principal reasons" not in notice, state
        assert "What would have changed the decision" not in page + notice, state

    page, notice, (headings, rights) = pages["decided-by-model"]
    assert PAGE_IN_YOUR_FAVOUR in page and AGAINST not in page
    assert "Decided automatically, no person was needed" in page
    assert "No person has reviewed this decision." in page and "decision yet" not in page
    assert (
        "Decision: approved. This decision was made with an automated system. "
        + NOTICE_IN_YOUR_FAVOUR
        in notice
    )
    assert AGAINST not in notice
    assert headings == ["Your rights"] and rights == [ASK_FOR_A_PERSON, SEE_THE_DATA]

    page, notice, (headings, rights) = pages["confirmed"]
    assert "a person reviewed and confirmed it" in page and PAGE_IN_YOUR_FAVOUR in page
    assert "A reviewer confirmed the decision: approved." in page
    assert (
        "Decision: approved. A person reviewed this decision and confirmed it. "
        + NOTICE_IN_YOUR_FAVOUR
        in notice
    )
    assert headings == ["Your rights"] and rights == [ASK_FOR_A_PERSON, SEE_THE_DATA]

    page, notice, (headings, rights) = pages["changed-by-person"]
    # The model's reasons are shown as those of the recommendation the person overruled.
    assert "A person reviewed this decision and made it: approved." in page
    assert "The AI system's reasons for its overruled recommendation" in page
    assert PAGE_IN_YOUR_FAVOUR not in page
    assert "made this decision instead" in notice and NOTICE_IN_YOUR_FAVOUR not in notice
    assert headings == ["Your rights"] and rights == [ASK_FOR_A_PERSON, SEE_THE_DATA]

    page, notice, (headings, rights) = pages["changed-on-appeal"]
    assert "A person decided your appeal on" in page
    assert "approved. The reviewer changed the decision you appealed." in page
    assert "If anything about it still seems wrong to you, report a concern below" in page
    assert "Request human review" not in page
    assert headings == ["Your rights"] and rights == [APPEAL_WON, SEE_THE_DATA]
    for text in (page, notice):
        assert "still disagree" not in text and "ask for a person" not in text.lower()
