"""An officer walks from a system's disparity to the trade-off, the shadow comparison of a
candidate mitigation, an approved promotion and a rollback, in a real browser; axe-core finds no
serious or critical violation at 390 and 1280 px.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import numpy as np
from page_checks import serious_violations, sideways

from conftest import PASSWORD, LiveService, sign_in

SPEC = {
    "name": "Credit limit",
    "purpose": "finance",
    "risk_tier": "limited",
    "decision": {"kind": "binary", "threshold": 0.5, "favourable_truth": "repaid"},
    "features": [{"name": "income", "type": "number", "data_category": "user.financial"}],
    "protected_attributes": [{"name": "sex"}],
    "owner": "risk@bank.example",
}
RULES = [
    {"group": "F", "p0": 1.0, "threshold0": 0.35, "p1": 0.0, "threshold1": 0.35},
    {"group": "M", "p0": 1.0, "threshold0": 0.55, "p1": 0.0, "threshold1": 0.55},
]


@contextmanager
def _api(service: LiveService, email: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=service.url, timeout=30) as api:
        signed = api.post("/v1/auth/token", json={"email": email, "password": PASSWORD})
        api.headers["Authorization"] = f"Bearer {signed.json()['token']}"
        yield api


def _set_the_scene(service: LiveService) -> None:
    """A credit system whose women are approved less, a candidate in shadow, 80 decisions."""
    rng = np.random.default_rng(3)
    with (
        _api(service, "admin@bank.example") as admin,
        _api(service, "officer@bank.example") as officer,
    ):
        assert admin.put("/v1/systems/credit", json=SPEC).status_code == 201
        added = officer.post(
            "/v1/systems/credit/candidates",
            json={"name": "Group thresholds by sex", "method": "thresholds", "rules": RULES},
        )
        assert added.status_code == 201, added.text
        for i in range(80):
            sex = "F" if i % 2 else "M"
            score = float(np.clip(rng.normal(0.45 if sex == "F" else 0.6, 0.2), 0, 1))
            made = admin.post(
                "/v1/systems/credit/decisions",
                json={"features": {"income": 50.0}, "protected": {"sex": sex}, "score": score},
            )
            assert made.status_code == 201, made.text
            truth = "repaid" if rng.random() < 0.3 + 0.5 * score else "defaulted"
            recorded = admin.post(
                f"/v1/decisions/{made.json()['id']}/outcome", json={"outcome": truth}
            )
            assert recorded.status_code == 200, recorded.text


def test_an_officer_compares_a_candidate_in_shadow_promotes_it_and_rolls_it_back(
    live_service: LiveService, page: Any, screenshot: Any
) -> None:
    _set_the_scene(live_service)
    sign_in(page, live_service.url, "officer@bank.example")
    page.wait_for_url("**/dashboard")
    page.set_default_timeout(60_000)  # the system page audits its decisions: slow under load
    page.goto(f"{live_service.url}/dashboard/systems/credit")
    page.get_by_role("link", name="Candidate mitigations").click()
    page.wait_for_url("**/dashboard/systems/credit/candidates")
    assert (
        page.get_by_role("heading", level=1).inner_text() == "Candidate mitigations of Credit limit"
    )

    # The trade-off: a chart with its own table of the same candidates.
    chart = page.get_by_role(
        "img", name="Accuracy against the equal opportunity gap of each candidate"
    )
    chart.wait_for()
    # As decided, each criterion's thresholds, and equal opportunity's at 25, 50 and 75%.
    assert page.locator("#trade-off table tbody tr").count() == 7
    assert "thresholds: equal_opportunity at 50%" in page.locator("#trade-off table").inner_text()
    page.get_by_label("Worth of each decision").fill("tp=100,fp=-400")
    page.get_by_role("button", name="Show the trade-off").click()
    page.get_by_role(
        "img",
        name="Expected profit per decision against the equal opportunity gap of each candidate",
    ).wait_for()

    # The shadow comparison, with intervals, then a promotion citing it.
    section = page.locator("section.card").filter(has_text="Group thresholds by sex")
    assert "In shadow: it has decided beside 80 live decisions." in section.inner_text()
    table = section.get_by_role(
        "table", name="Selection rate by group: the served decisions and the candidate's"
    )
    assert table.get_by_role("row").filter(has_text="sex = F").count() == 1
    assert "Gap by sex (highest minus lowest, points)" in table.inner_text()
    assert "The candidate agrees with the served decision on" in section.inner_text()
    assert "Where the true outcome has arrived (80 decisions)" in section.inner_text()
    assert serious_violations(page) == []
    screenshot(page, "comparison-1280")
    page.set_viewport_size({"width": 390, "height": 844})
    assert serious_violations(page) == []
    assert sideways(page, boxes_may_scroll=True) == []
    screenshot(page, "comparison-390")
    page.set_viewport_size({"width": 1280, "height": 900})

    section.get_by_label("Why serve it").fill(
        "closes most of the approval gap by sex at a small cost"
    )
    section.get_by_role("button", name="Promote to serve").click()
    page.wait_for_url("**/candidates#candidate-*")
    section = page.locator("section.card").filter(has_text="Group thresholds by sex")
    assert "Served since" in section.inner_text()
    assert serious_violations(page) == []
    screenshot(page, "served")

    section.get_by_label("Why roll it back").fill("complaints from customers in the pilot")
    section.get_by_role("button", name="Roll back").click()
    page.wait_for_url("**/candidates#candidate-*")
    section = page.locator("section.card").filter(has_text="Group thresholds by sex")
    assert "Rolled back on" in section.inner_text()

    with _api(live_service, "officer@bank.example") as officer:
        verified = officer.get("/v1/ledger/verification")
    assert verified.json()["ok"] is True
