"""Issue 16, items 6, 7 and 8, each walked end to end as its reader would, at 390 and 1280 px.

6. The consent centre: the uses a customer may refuse are named after the services that use
   them, every choice reads in words, and every choice (a whole use, one data category, the
   Global Privacy Control signal) can be changed back.
7. The explanation: second person, readable names and values with their units, on the
   customer's page and the reviewer's, where a heavily weighing declared proxy is flagged.
8. The API docs load from the service alone, and an operation opened to "Try it out" passes
   axe-core (what Swagger UI itself gets wrong is named in the test).
"""

from __future__ import annotations

from typing import Any

from page_checks import axe_violations, blocking, foreign_references
from scenes import CREDIT, decide, enter_portal, register_credit, staff_api, text_of

from conftest import LiveService, staff_page
from ethica.demo._bank_consent import CONSENT_NOTICES

POSTCODE = "user.contact.address.postal_code"


def _choose(page: Any, choice: str) -> None:
    """Allow or refuse the use of data for product recommendations, and save the choice."""
    use = page.get_by_role("group", name="Product recommendations")
    use.get_by_label(choice, exact=True).check()
    page.get_by_role("button", name="Save my choice for Product recommendations").click()
    page.wait_for_url("**/portal/privacy?changed=consent")


def test_item6_every_consent_choice_reads_in_words_and_can_be_changed_back(
    live_service: LiveService, sized: Any, shot: Any
) -> None:
    url = live_service.url
    with staff_api(url) as api:
        register_credit(api, name="Credit limit increase")
        offers = {**CREDIT, "name": "Product recommendations", "purpose": "personalize.content"}
        assert api.put("/v1/systems/offers", json=offers).status_code in (200, 201)
        for key, kind, text in CONSENT_NOTICES:  # the demo bank's consent notices
            published = api.put(f"/v1/notices/{key}", json={"kind": kind, "text": text})
            assert published.status_code == 201, published.text
        withdrawn = api.post(
            "/v1/subjects/cust-1/consent",
            json={"data_use": "finance", "data_category": POSTCODE, "status": "withdrawn"},
        )
        assert withdrawn.status_code == 201, withdrawn.text
    enter_portal(sized, url, "cust-1")
    sized.goto(f"{url}/portal/privacy")
    page = text_of(sized)
    assert "No use of your data asks for your consent" not in page
    assert sized.get_by_role("heading", name="Product recommendations").is_visible()
    assert sized.get_by_role("heading", name="Marketing").is_visible()
    assert "Personalize" not in page and "user.contact" not in page and "finance" not in page
    postcode = "Credit limit increase: using your postal code"
    assert f"{postcode} Your choice: Not allowed" in page
    shot(sized, "consent-before")

    # A whole use: refused, then allowed again.
    _choose(sized, "Do not allow")
    assert "Your choice is saved" in sized.get_by_role("status").inner_text()
    card = sized.locator("article.notice-choice", has_text="Product recommendations")
    assert "Your choice: Not allowed" in " ".join(card.inner_text().split())
    _choose(sized, "Allow")
    assert "Your choice: Allowed" in " ".join(card.inner_text().split())

    # One data category: allowed again with one click.
    sized.get_by_role("button", name=f"Allow it again: {postcode}").click()
    sized.wait_for_url("**/portal/privacy?changed=consent")
    assert f"{postcode} Your choice: Allowed" in text_of(sized)
    assert sized.get_by_role("button", name=f"Do not allow it: {postcode}").is_visible()

    # The GPC signal: recorded, then undone one use at a time.
    sized.get_by_role("button", name="Send the Global Privacy Control signal").click()
    sized.wait_for_url("**/portal/privacy?changed=gpc")
    page = text_of(sized)
    assert "We have recorded the signal for you." in page
    assert "Your browser's Global Privacy Control signal" in page  # the history, in words
    assert "Your choice: Not allowed" in " ".join(card.inner_text().split())
    _choose(sized, "Allow")
    assert "Your choice: Allowed" in " ".join(card.inner_text().split())
    history = " ".join(sized.get_by_role("table").first.inner_text().split())
    assert "On this site" in history and "portal" not in history and "gpc" not in history
    shot(sized, "consent-after")


#: Item 7's scene: income in EUR, housing with words for its categories and declared a proxy.
_WORDED = {
    "features": [
        {**CREDIT["features"][0], "description": "monthly income", "unit": "EUR"},
        {
            **CREDIT["features"][1],
            "description": "housing situation",
            "labels": {"own": "owner", "rent": "tenant"},
            "proxy_for": ["age_band"],
        },
    ],
    "protected_attributes": [{"name": "age_band"}],
    "oversight": {"review_adverse": True},
}


def test_item7_explanations_speak_to_the_customer_with_names_and_units(
    live_service: LiveService, sized: Any, browser: Any, shot: Any
) -> None:
    url = live_service.url
    with staff_api(url) as api:
        register_credit(api, housing_counts=True, **_WORDED)
        made = decide(api, "cust-7", income=12.5, housing="rent")
    assert made["outcome"] == "declined"
    enter_portal(sized, url, "cust-7")
    sized.goto(f"{url}/portal/decisions/{made['id']}")
    reasons = " ".join(sized.locator("ol.reasons").inner_text().split())
    assert "Your monthly income: 12.5 EUR." in reasons
    assert "income" not in reasons.replace("monthly income", "")  # no raw feature names
    page = text_of(sized)
    assert "The main reasons" in page and "Your " in reasons
    assert "housing situation" in page and "_" not in reasons
    for raw in ("12.5 ", "0.", "rent;", "housing is rent", "is tenant", "toward declined"):
        assert raw not in reasons.replace("12.5 EUR", "")
    sized.get_by_text("how much each piece of data counted").click()
    table = sized.get_by_role("table", name="Contribution of each input")
    assert "monthly income" in table.inner_text()
    shot(sized, "customer-explanation")

    with staff_page(browser, url, "reviewer@bank.example", sized) as reviewer:
        reviewer.goto(f"{url}/console/cases/{made['id']}")
        case = text_of(reviewer)
        assert "Monthly income 12.5 EUR" in case and "Housing situation tenant" in case
        told = " ".join(reviewer.locator("ol.reasons").inner_text().split())
        assert "The customer's monthly income: 12.5 EUR." in told and "Your " not in told
        assert "debt_to_income" not in case and "12.5000" not in case
        reviewer.get_by_text("How much each input counted").click()
        contributions = reviewer.get_by_role("table", name="Contribution of each input")
        assert "housing situation" in contributions.inner_text()
        assert "“Housing situation” is a declared proxy for age band" in case
        shot(reviewer, "reviewer-explanation")


def test_item8_the_api_docs_work_from_the_service_alone_with_an_operation_open(
    live_service: LiveService, sized: Any, screenshot: Any
) -> None:
    url = live_service.url
    sized.set_default_timeout(90_000)  # Swagger UI draws the whole API at once: slow under load
    requests: list[str] = []
    sized.on("request", lambda request: requests.append(request.url))
    sized.goto(f"{url}/docs")
    operation = sized.locator("#operations-decisions-create_decision")
    operation.wait_for()
    assert "/v1/systems/{system_id}/decisions" in operation.inner_text()
    operation.locator(".opblock-summary-control").click()
    sized.get_by_role("button", name="Try it out").click()
    sized.get_by_role("button", name="Execute").wait_for()
    assert sized.locator("textarea.body-param__text").count() == 1
    screenshot(sized, "docs-try-it-out")
    found = blocking(axe_violations(sized))
    assert [v for v in found if v["id"] not in SWAGGERS_OWN] == [], found
    assert not foreign_references(sized, url)
    assert [r for r in requests if not r.startswith((url, "data:"))] == []


#: Serious findings in Swagger UI's own markup that neither our stylesheet nor our labelling
#: script mends (none today: an upgrade that brings one fails this test, naming it).
SWAGGERS_OWN: frozenset[str] = frozenset()
