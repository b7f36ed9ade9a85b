"""An officer walks the governance pages of the demo bank's three systems in a real browser,
attests an obligation, opens each document, and axe-core finds no serious or critical violation.
"""

from __future__ import annotations

from typing import Any

import httpx
from page_checks import serious_violations

from conftest import PASSWORD, LiveService, sign_in
from ethica.demo import bank_specs


def _register_the_bank(service: LiveService) -> None:
    with httpx.Client(base_url=service.url, timeout=30) as api:
        signed = api.post(
            "/v1/auth/token", json={"email": "admin@bank.example", "password": PASSWORD}
        )
        api.headers["Authorization"] = f"Bearer {signed.json()['token']}"
        for system_id, spec in bank_specs().items():
            applied = api.put(f"/v1/systems/{system_id}", json=spec.model_dump(mode="json"))
            assert applied.status_code == 201, applied.text


def test_an_officer_walks_the_governance_pages_of_the_demo_bank(
    live_service: LiveService, page: Any, screenshot: Any
) -> None:
    _register_the_bank(live_service)
    sign_in(page, live_service.url, "officer@bank.example")
    page.wait_for_url("**/dashboard")
    page.get_by_role("link", name="Governance").first.click()
    page.wait_for_url("**/dashboard/governance")
    assert page.get_by_role("heading", level=1).inner_text() == "Governance"
    rows = {
        "Credit limit increase": "high-risk",
        "Support ticket routing": "limited",
        "Product recommendations": "minimal",
    }
    for name, tier in rows.items():
        row = page.get_by_role("row").filter(has_text=name)
        assert tier in row.inner_text().lower(), row.inner_text()
    assert serious_violations(page) == []
    screenshot(page, "inventory")

    for system_id in bank_specs():
        page.goto(f"{live_service.url}/dashboard/governance/{system_id}")
        page.get_by_role("heading", name="Classification", exact=True).wait_for()
        assert page.locator("#classification-history li").count() == 1  # recorded on PUT
        assert serious_violations(page) == [], system_id
    screenshot(page, "product-recommendations")

    page.goto(f"{live_service.url}/dashboard/governance/credit-limit")
    summary = page.locator("#classification strong").first.inner_text()
    assert summary == "Credit limit increase is high-risk (AI Act Art. 6(2), Annex III point 5(b))."
    page.get_by_label("Obligation", exact=True).select_option("ai-act-9")
    page.get_by_label("Your name").fill("Rita Risk")
    page.get_by_label("Your role").fill("head of risk")
    page.get_by_label("Statement (at least 20 characters)").fill(
        "The risk management system is documented in RM-7."
    )
    page.get_by_role("button", name="Record the attestation").click()
    page.locator("#attested").wait_for()
    row = page.locator("#obligation-ai-act-9")
    assert "attested by Rita Risk (head of risk)" in row.inner_text()
    assert serious_violations(page) == []
    assert "Nobody has signed the assessment off yet." in page.locator("#fria").inner_text()
    page.get_by_label("Signing as").select_option("data protection officer")
    page.get_by_label("Name of the signatory").fill("Dana Privacy")
    page.get_by_role("button", name="Sign the assessment off").click()
    page.locator("#fria-signed").wait_for()
    assert "Signed off by Dana Privacy (data protection officer)" in (
        page.locator("#fria-signoffs").inner_text()
    )
    fria_row = page.locator("#obligation-ai-act-27").inner_text()
    assert "attested by Dana Privacy (data protection officer)" in fria_row, fria_row
    assert serious_violations(page) == []
    page.set_viewport_size({"width": 390, "height": 900})
    screenshot(page, "credit-limit-390")
    assert serious_violations(page) == []
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_label("Harm").select_option("fundamental-rights")
    page.get_by_label("What happened").fill("Declines clustered in one postcode district.")
    page.get_by_role("button", name="Open the incident and start its clock").click()
    page.locator("#incident-recorded").wait_for()
    assert "left to report (15 days, Art. 73(2))" in page.locator("#incidents").inner_text()
    assert serious_violations(page) == []
    screenshot(page, "credit-limit")

    titles = {
        "annex-iv": "Technical documentation",
        "fria": "Fundamental-rights impact assessment",
        "annex-viii": "EU database registration",
    }
    assert page.locator('a[href$="/documents/model-card.html"]').count() == 0  # no model yet
    for key, title in titles.items():
        page.goto(f"{live_service.url}/dashboard/governance/credit-limit")
        page.locator(f'#documents a[href$="/documents/{key}.html"]').click()
        page.wait_for_url(f"**/documents/{key}.html")
        assert title in page.title() or title in page.locator("h1").first.inner_text()
        if key == "fria":
            assert "Dana Privacy" in page.locator("body").inner_text()  # the signature shows
        assert serious_violations(page) == [], key
    screenshot(page, "annex-viii")

    printed = page.request.get(
        f"{live_service.url}/dashboard/governance/credit-limit/documents/annex-iv.pdf"
    )
    assert printed.status == 200 and printed.body().startswith(b"%PDF-")

    page.goto(f"{live_service.url}/dashboard/governance/transparency")
    page.get_by_label("ε each system spends").fill("1")
    page.get_by_role("button", name="Release the report").click()
    page.get_by_text("How these numbers were made").wait_for()
    assert serious_violations(page) == []
    screenshot(page, "transparency-report")
    page.goto(f"{live_service.url}/dashboard/governance/transparency")
    assert "ε = 1" in page.locator("#budget-credit-limit").inner_text()
    assert serious_violations(page) == []


def test_the_axe_check_finds_a_serious_violation_when_there_is_one(page: Any) -> None:
    page.set_content('<html lang="en"><body><main><img src="x.png"></main></body></html>')
    found = serious_violations(page)
    assert any(line.startswith("image-alt (critical)") for line in found), found


#: Each demo system's grounds, fact by fact, as the Facts column says them.
FACTS_IN_WORDS = {
    "credit-limit": [
        "Used for creditworthiness or credit score of natural persons",
        "Its outputs concern customers",
        "The organisation is its provider and deployer",
    ],
    "support-routing": [
        "It interacts directly with people",
        "The organisation is its provider and deployer",
    ],
    "product-recommendations": [
        "Used for recommending products or content",
        "It does not interact directly with people",
        "The organisation is its provider and deployer",
    ],
}


def test_the_grounds_say_their_facts_in_words(live_service: LiveService, sized: Any) -> None:
    _register_the_bank(live_service)
    sign_in(sized, live_service.url, "officer@bank.example")
    sized.wait_for_url("**/dashboard")
    for system_id, expected in FACTS_IN_WORDS.items():
        sized.goto(f"{live_service.url}/dashboard/governance/{system_id}")
        grounds = sized.get_by_role("table", name="Each ground, the provisions it cites")
        said = [
            line.strip()
            for cell in grounds.locator("tbody td:last-child").all_inner_texts()
            for line in cell.splitlines()
            if line.strip()
        ]
        for words in expected:
            assert words in said, (system_id, said)
        raw = [line for line in said if " = " in line or "_" in line]
        assert raw == [], (system_id, raw)
        assert serious_violations(sized) == [], system_id
