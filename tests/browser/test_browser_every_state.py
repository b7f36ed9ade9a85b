"""Every state a case can reach, as each face shows it, at 390, 1280 and 1920 px (issue 16).

One credit system, one customer per state: the case pending review, decided by the model alone,
confirmed by a person, an override waiting for its second reviewer, an override approved, an
override rejected, an appeal pending and decided, a customer who objected to automated decisions
(pending, then decided by a person), the system's fallback while it is suspended, and the case
of a customer who has since been erased. For each, the customer's decision page and notice, the
reviewer's case page and the officer's decision page are opened at the three widths, checked
with axe-core (no serious or critical violation) and for sideways scrolling, and photographed
into ``test-artifacts/states/<state>/<face>-<page>-<width>.png``. What each page says in each
state is asserted too, so a photograph of a page that reads wrong fails the test.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from page_checks import WIDTHS, serious_violations, sideways
from scenes import (
    as_customer,
    decide,
    override_to_approved,
    register_credit,
    review_step,
    staff_api,
)

from conftest import ARTIFACTS, LiveService, sign_in

REVIEWER = "reviewer@bank.example"
SECOND = "second@bank.example"


@dataclass
class State:
    """A case in one state: its decision id, its customer, and what each face must say."""

    decision: str
    subject: str
    portal: bool = True
    says: dict[str, list[str]] = field(default_factory=dict)
    never: dict[str, list[str]] = field(default_factory=dict)


def _link_token(url: str, subject: str) -> str:
    with staff_api(url) as api:
        token: str = api.post(f"/v1/subjects/{subject}/links", json={}).json()["token"]
    return token


def _appeal(url: str, subject: str, decision: str) -> None:
    body = {"statement": "My income rose last month."}
    appealed = as_customer(url, subject, f"/v1/me/decisions/{decision}/appeal", body)
    assert appealed.status_code == 201, appealed.text


def _held(api: httpx.Client, subject: str) -> str:
    made = decide(api, subject, income=12.5)
    assert (made["outcome"], made["review"]["status"]) == ("declined", "pending_review")
    return str(made["id"])


def _scene(url: str) -> dict[str, State]:
    """Build one case in every state; the states by name."""
    confirm = {"action": "confirm"}
    with staff_api(url) as api:
        register_credit(
            api,
            oversight={"review_adverse": True},
            description="Approves or declines a customer's request for a higher credit limit.",
        )
        ids = {name: _held(api, f"cust-{name}") for name in _HELD}
        automatic = decide(api, "cust-automatic", income=95.0, housing="own")
        objected = api.post(
            "/v1/subjects/cust-objection/objections", json={"kind": "automated_decision"}
        )
        assert objected.status_code in (200, 201), objected.text
        objection = decide(api, "cust-objection", income=60.0)
        objection_decided = decide(api, "cust-objection", income=61.0)
    assert automatic["review"]["status"] == "automatic"
    assert objection["scored_by"] == "none"

    review_step(url, REVIEWER, ids["confirmed"], "decision", confirm)
    for name in ("proposed", "override-approved", "override-rejected"):
        review_step(url, REVIEWER, ids[name], "decision", override_to_approved())
    review_step(url, SECOND, ids["override-approved"], "approval", {"comment": "Agreed."})
    review_step(
        url, SECOND, ids["override-rejected"], "rejection", {"reason": "The payslip is unsigned."}
    )
    for name in ("appeal-pending", "appeal-decided"):
        review_step(url, REVIEWER, ids[name], "decision", confirm)
        _appeal(url, f"cust-{name}", ids[name])
    review_step(url, SECOND, ids["appeal-decided"], "decision", confirm)
    review_step(
        url,
        REVIEWER,
        objection_decided["id"],
        "decision",
        {"action": "decide", "outcome": "approved"},
    )
    review_step(url, REVIEWER, ids["erased"], "decision", confirm)
    with staff_api(url) as api:
        erased = api.post("/v1/subjects/cust-erased/erasure")
        assert erased.status_code == 201, erased.text
        suspended = api.post("/v1/systems/credit/suspension", json={"reason": "drift alert"})
        assert suspended.status_code == 201, suspended.text
        fallback = decide(api, "cust-suspended", income=95.0, housing="own")
    assert fallback["scored_by"] in ("fallback", "none")

    pending = "A person is reviewing this decision"
    states = {
        "pending": State(
            ids["pending"],
            "cust-pending",
            says={
                "portal": [pending],
                "console": ["Score 0.071 (on a scale of 0 to 1; approved from 0.5 up)"],
                "dashboard": ["Decided by The AI system's model; a person is reviewing it"],
            },
            never={"portal": ["You can ask for a person to review it"]},
        ),
        "decided-by-model": State(
            str(automatic["id"]),
            "cust-automatic",
            says={
                "notice": ["This decision was made with an automated system."],
                "console": ["was never held for review: its outcome stood without a person"],
            },
            never={"console": ["awaits review", "'"]},
        ),
        "confirmed": State(
            ids["confirmed"],
            "cust-confirmed",
            says={
                "notice": ["A person reviewed this decision and confirmed it.", "Your rights"],
                "dashboard": ["Decided by The AI system's model, then a person: confirmed"],
            },
            never={"notice": ["this decision:", "Your rights:"]},
        ),
        "override-proposed": State(
            ids["proposed"],
            "cust-proposed",
            says={"portal": [pending], "console": ["Override proposed"]},
            never={"portal": ["Approved", "propos"]},
        ),
        "override-approved": State(
            ids["override-approved"],
            "cust-override-approved",
            says={"notice": ["Decision: approved.", "A person reviewed"]},
            never={"notice": ["would have", "made with an automated system"]},
        ),
        "override-rejected": State(
            ids["override-rejected"],
            "cust-override-rejected",
            says={
                "console": ["Override rejected: back in the queue", "The payslip is unsigned."],
                "dashboard": ["Override proposed, for a second reviewer to approve or reject"],
            },
            never={"portal": ["propos", "reject"]},
        ),
        "appeal-pending": State(
            ids["appeal-pending"], "cust-appeal-pending", says={"portal": [pending]}
        ),
        "appeal-decided": State(
            ids["appeal-decided"],
            "cust-appeal-decided",
            says={"notice": ["A person reviewed this decision and confirmed it."]},
        ),
        "objection-pending": State(
            str(objection["id"]),
            "cust-objection",
            says={"console": ["No model decided this case"]},
            never={"console": ["differs from the model", "The model's recommendation"]},
        ),
        "objection-decided": State(
            str(objection_decided["id"]),
            "cust-objection",
            says={
                "console": ["Decided by a person"],
                "portal": ["A person decided this without an AI model"],
                "dashboard": ["Decided by A person (no model was used)"],
            },
            never={"dashboard": ["Nobody yet"], "portal": ["A person reviewed this decision"]},
        ),
        "suspended-fallback": State(
            str(fallback["id"]),
            "cust-suspended",
            says={
                "portal": [
                    "Pending — a person will decide",
                    "No AI model decided this, so there are no model reasons to show.",
                ],
                "console": ["No model decided"],
                "dashboard": ["Decided by Nobody yet: a person will decide"],
            },
            never={
                "portal": ["Declined", "no ai model", "You can ask for a person to review it"],
                "console": ["The model's recommendation"],
            },
        ),
        "erased-customer": State(
            ids["erased"],
            "cust-erased",
            portal=False,
            says={
                "console": ["This case has left the queue", "Final outcome Declined"],
                "dashboard": ["Customer Erased at the customer's request on"],
            },
        ),
    }
    return states


#: The held declines of the scene, by state.
_HELD = (
    "pending",
    "confirmed",
    "proposed",
    "override-approved",
    "override-rejected",
    "appeal-pending",
    "appeal-decided",
    "erased",
)


class Camera:
    """Opens pages at every width, checks and photographs them, collects what fails."""

    def __init__(self, browser: Any) -> None:
        self.browser = browser
        self.problems: list[str] = []
        self.taken = 0

    def session(self, sign: Callable[[Any], None]) -> Any:
        context = self.browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.set_default_timeout(60_000)
        sign(page)
        return page

    def take(self, page: Any, address: str, state: str, name: str, say: State) -> None:
        face = name.split("-")[0]
        folder = ARTIFACTS / "states" / state
        folder.mkdir(parents=True, exist_ok=True)
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(address)
            page.wait_for_load_state("networkidle")
            where = f"{state} {name} at {width} px"
            text = " ".join(page.locator("main").inner_text().split())
            for words in say.says.get(face, []):
                if words not in text:
                    self.problems.append(f"{where}: does not say {words!r}")
            for words in say.never.get(face, []):
                if words in text:
                    self.problems.append(f"{where}: says {words!r}")
            self.problems += [f"{where}: {what}" for what in sideways(page)]
            self.problems += [f"{where}: axe {what}" for what in serious_violations(page)]
            page.screenshot(path=str(folder / f"{name}-{width}.png"), full_page=True)
            self.taken += 1


def test_every_state_of_a_case_on_every_face_at_three_widths(
    live_service: LiveService, browser: Any
) -> None:
    url = live_service.url
    states = _scene(url)
    camera = Camera(browser)
    reviewer = camera.session(lambda page: sign_in(page, url, SECOND))
    officer = camera.session(lambda page: sign_in(page, url, "officer@bank.example"))
    for name, state in states.items():
        if state.portal:
            customer = camera.session(
                lambda page, s=state: page.goto(
                    f"{url}/portal/enter?token={_link_token(url, s.subject)}"
                )
            )
            address = f"{url}/portal/decisions/{state.decision}"
            camera.take(customer, address, name, "portal-decision", state)
            camera.take(customer, f"{address}/notice", name, "notice", state)
            customer.context.close()
        camera.take(reviewer, f"{url}/console/cases/{state.decision}", name, "console-case", state)
        dashboard = f"{url}/dashboard/decisions/{state.decision}"
        camera.take(officer, dashboard, name, "dashboard-decision", state)
    # A rejection's row gives the rejecter's words, not the proposal's reason code again.
    rejected = states["override-rejected"].decision
    for page, address, what in (
        (reviewer, f"{url}/console/cases/{rejected}", "Override rejected"),
        (officer, f"{url}/dashboard/decisions/{rejected}", "Override rejected"),
    ):
        page.goto(address)
        row = page.locator("tbody tr", has_text=what).inner_text()
        assert "The payslip is unsigned." in row and "New information" not in row, row
    reviewer.context.close()
    officer.context.close()
    assert camera.taken == 3 * (4 * sum(s.portal for s in states.values()) + 2)
    assert not camera.problems, "\n".join(camera.problems)
