"""The customer portal: their decisions, why, human review, concerns, consent, export, erasure.

Every page is read as the customer would (their link's token in the cookie) and checked
against what the JSON API says about the same decision, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from service_testing import Service
from web_testing import csrf_of, customer_token, token_of, viewing_as

from ethica.service.web.session import COOKIE

SYSTEM = "credit"


@pytest.fixture
def portal(service: Callable[..., Service], lightgbm_bytes: bytes) -> Service:
    """A service with the credit system and its model."""
    running = service()
    running.register(SYSTEM)
    assert running.upload(SYSTEM, lightgbm_bytes, format="lightgbm").status_code == 201
    return running


def _decide(running: Service, subject: str, income: float) -> dict[str, Any]:
    made = running.decide(SYSTEM, {"subject_id": subject, "features": {"income": income}})
    assert made.status_code == 201, made.text
    return dict(made.json())


def _token(running: Service, subject: str) -> str:
    return customer_token(subject, secret=running.settings.app.secret_key.get_secret_value())


def _bearer(running: Service, subject: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {_token(running, subject)}"}


def _form(client: TestClient, page: str) -> dict[str, str]:
    return {"csrf": csrf_of(client.get(page).text)}


def test_the_list_shows_only_their_decisions_newest_first_in_words(portal: Service) -> None:
    declined = _decide(portal, "cust-1", 5.0)
    approved = _decide(portal, "cust-1", 95.0)
    other = _decide(portal, "cust-2", 5.0)
    assert (declined["outcome"], approved["outcome"]) == ("declined", "approved")
    with viewing_as(portal.client, _token(portal, "cust-1")) as client:
        page = client.get("/portal")
    assert page.status_code == 200
    text = page.text
    assert approved["id"] in text and declined["id"] in text and other["id"] not in text
    assert text.index(approved["id"]) < text.index(declined["id"])  # newest first
    assert ">Declined<" in text and ">Approved<" in text
    assert "Credit limit" in text and "2 decisions about you" in text
    assert "Decided automatically" in text


def test_a_decision_page_says_why_what_would_change_it_and_the_data(portal: Service) -> None:
    made = _decide(portal, "cust-1", 5.0)
    explanation = made["explanation"]
    assert explanation["reasons"], "a declined credit decision has reasons"
    with viewing_as(portal.client, _token(portal, "cust-1")) as client:
        page = client.get(f"/portal/decisions/{made['id']}")
        notice = client.get(f"/portal/decisions/{made['id']}/notice")
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert "An AI system made this decision." in text
    for reason in explanation["reasons"]:
        assert reason["text"] in text
    for option in explanation["counterfactuals"]:
        assert option["text"] in text
    if not explanation["counterfactuals"]:
        assert explanation["counterfactual_text"] in text
    assert "What would have changed the decision" in text
    for name in made["data"]["used"]:
        assert f"<li>{name}</li>" in text
    assert "housing: " in text  # not sent, so withheld with its reason
    assert f"<dt>Model version</dt><dd>{made['model_version']}</dd>" in text
    assert f"/portal/decisions/{made['id']}/notice" in text
    assert notice.status_code == 200
    notice_text = html.unescape(notice.text)
    assert all(reason["text"] in notice_text for reason in explanation["reasons"])


def test_another_customers_decision_is_not_found_and_cannot_be_touched(portal: Service) -> None:
    theirs = _decide(portal, "cust-1", 5.0)
    path = f"/portal/decisions/{theirs['id']}"
    with viewing_as(portal.client, _token(portal, "cust-2")) as client:
        form = _form(client, "/portal")
        assert client.get(path).status_code == 404
        assert "Not found" in client.get(path).text
        assert client.get(f"{path}/notice").status_code == 404
        appeal = client.post(f"{path}/appeal", data={**form, "statement": "let me see"})
        concern = client.post(f"{path}/concerns", data={**form, "text": "whose is this?"})
        assert (appeal.status_code, concern.status_code) == (404, 404)
    after = portal.client.get(f"/v1/decisions/{theirs['id']}", headers=portal.headers["admin"])
    assert after.json()["review"]["status"] == "automatic"
    concerns = portal.client.get("/v1/me/concerns", headers=_bearer(portal, "cust-1"))
    assert concerns.json()["total"] == 0


def test_a_forged_cookie_gets_a_401_page_and_a_staff_cookie_a_403(portal: Service) -> None:
    made = _decide(portal, "cust-1", 5.0)
    for token, status in (("forged.token", 401), (token_of(portal.headers["officer"]), 403)):
        with viewing_as(portal.client, token) as client:
            for path in ("/portal", f"/portal/decisions/{made['id']}", "/portal/privacy"):
                page = client.get(path, follow_redirects=False)
                assert page.status_code == status, (token, path)
                assert page.headers["content-type"].startswith("text/html")
                assert made["id"] not in page.text


def test_a_customer_asks_for_human_review_with_their_view(portal: Service) -> None:
    made = _decide(portal, "cust-1", 5.0)
    path = f"/portal/decisions/{made['id']}"
    with viewing_as(portal.client, _token(portal, "cust-1")) as client:
        refused = client.post(f"{path}/appeal", data={"statement": "no token"})
        assert refused.status_code == 403  # no CSRF token
        form = _form(client, path)
        blank = client.post(f"{path}/appeal", data={**form, "statement": "   "})
        assert blank.status_code == 422 and "few words" in blank.text
        sent = client.post(
            f"{path}/appeal",
            data={**form, "statement": "My income doubled last month."},
            follow_redirects=False,
        )
        assert sent.status_code == 303 and sent.headers["location"] == f"{path}?sent=appeal"
        page = client.get(sent.headers["location"]).text
        assert "Your request is recorded" in page
        assert "A person is reviewing this decision" in page
        assert "You asked for a person to review the decision." in page
        assert 'name="statement"' not in page  # no second appeal while one is open
        again = client.post(f"{path}/appeal", data={**form, "statement": "again"})
        assert again.status_code == 409
    case = portal.client.get(f"/v1/reviews/{made['id']}", headers=portal.headers["reviewer"])
    assert case.status_code == 200, case.text
    assert case.json()["appeal"]["statement"] == "My income doubled last month."


def test_a_reviewers_change_shows_as_the_new_outcome(portal: Service) -> None:
    made = _decide(portal, "cust-1", 5.0)
    path = f"/portal/decisions/{made['id']}"
    with viewing_as(portal.client, _token(portal, "cust-1")) as client:
        form = _form(client, path)
        assert client.post(f"{path}/appeal", data={**form, "statement": "Please look."}).is_success
    decided = portal.client.post(
        f"/v1/reviews/{made['id']}/decision",
        json={
            "action": "override",
            "outcome": "approved",
            "reason_code": "new_information",
            "comment": "A payslip shows a higher income.",
        },
        headers=portal.headers["reviewer"],
    )
    assert decided.status_code == 201, decided.text
    with viewing_as(portal.client, _token(portal, "cust-1")) as client:
        proposed = client.get(path).text
    # A proposal is not a decision: the customer sees a review under way, never its outcome.
    assert ">Declined<" in proposed and "pproved" not in proposed
    assert "A person is reviewing this decision" in proposed and "propos" not in proposed
    approved = portal.client.post(
        f"/v1/reviews/{made['id']}/approval", json={}, headers=portal.headers["admin"]
    )
    assert approved.status_code == 201, approved.text
    with viewing_as(portal.client, _token(portal, "cust-1")) as client:
        page = client.get(path).text
        listed = client.get("/portal").text
    assert ">Approved<" in page and "Reviewed by a person, who changed it" in page
    assert (
        "A reviewer changed the decision to approved, and a second reviewer checked and "
        "approved the change." in page
    )
    assert ">Approved<" in listed and ">Declined<" not in listed


def test_a_concern_is_reported_and_its_answer_shown(portal: Service) -> None:
    made = _decide(portal, "cust-1", 5.0)
    path = f"/portal/decisions/{made['id']}"
    with viewing_as(portal.client, _token(portal, "cust-1")) as client:
        form = _form(client, path)
        sent = client.post(
            f"{path}/concerns",
            data={**form, "text": "Why does <b>rent</b> matter?"},
            follow_redirects=False,
        )
        assert sent.status_code == 303
        page = client.get(sent.headers["location"]).text
    assert "Why does &lt;b&gt;rent&lt;/b&gt; matter?" in page and ">Open<" in page
    mine = portal.client.get("/v1/me/concerns", headers=_bearer(portal, "cust-1")).json()
    (concern,) = mine["items"]
    resolved = portal.client.post(
        f"/v1/concerns/{concern['id']}/resolution",
        json={"response": "Housing was not used for your decision."},
        headers=portal.headers["officer"],
    )
    assert resolved.status_code == 201, resolved.text
    with viewing_as(portal.client, _token(portal, "cust-1")) as client:
        page = client.get(path).text
    assert "Housing was not used for your decision." in page and ">Answered<" in page


def test_privacy_choices_objections_and_gpc_are_recorded_from_the_portal(
    portal: Service,
) -> None:
    published = portal.client.put(
        "/v1/notices/marketing",
        json={"kind": "opt_in", "text": "We would like to send you offers."},
        headers=portal.headers["officer"],
    )
    assert published.status_code == 201, published.text
    with viewing_as(portal.client, _token(portal, "cust-1")) as client:
        page = client.get("/portal/privacy")
        assert page.status_code == 200 and "We would like to send you offers." in page.text
        assert "No choice made (not allowed until you agree)" in page.text
        form = {"csrf": csrf_of(page.text)}
        chose = client.post(
            "/portal/privacy/consent",
            data={**form, "data_use": "marketing", "status": "granted"},
            follow_redirects=False,
        )
        assert chose.status_code == 303
        assert "Allowed</span>" in client.get(chose.headers["location"]).text
        unknown = client.post(
            "/portal/privacy/consent", data={**form, "data_use": "nonsense", "status": "granted"}
        )
        assert unknown.status_code == 422
        objected = client.post(
            "/portal/privacy/objections",
            data={**form, "kind": "automated_decision", "active": "true"},
            follow_redirects=False,
        )
        assert objected.status_code == 303
        assert "You object</span>" in client.get("/portal/privacy").text
        gpc = client.post("/portal/privacy/gpc", data=form, follow_redirects=False)
        assert gpc.status_code == 303
    mine = portal.client.get("/v1/me/consent", headers=_bearer(portal, "cust-1")).json()
    assert [(r["data_use"], r["status"], r["source"]) for r in mine["records"]][-1] == (
        "marketing",
        "granted",
        "portal",
    )
    assert {r["data_use"] for r in mine["records"] if r["source"] == "gpc"} == {
        "marketing",
        "personalize",
        "third_party_sharing",
    }
    assert [(o["kind"], o["active"], o["source"]) for o in mine["objections"]] == [
        ("automated_decision", True, "portal")
    ]
    # The objection holds the customer's next decision for a person: no model decides.
    after = _decide(portal, "cust-1", 95.0)
    assert after["scored_by"] == "none" and after["review"]["status"] == "pending_review"


def test_the_export_downloads_as_a_file_and_is_recorded(portal: Service) -> None:
    made = _decide(portal, "cust-1", 5.0)
    _decide(portal, "cust-2", 5.0)
    with viewing_as(portal.client, _token(portal, "cust-1")) as client:
        answer = client.get("/portal/privacy/export")
        page = client.get("/portal/privacy/export?format=html")
    assert answer.status_code == 200
    assert answer.headers["content-disposition"].startswith("attachment;")
    data = json.loads(answer.content)
    assert data["subject_id"] == "cust-1"
    assert [d["id"] for d in data["decisions"]] == [made["id"]]
    assert data["decisions"][0]["inputs"]["income"] == 5.0
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["content-disposition"].endswith('.html"')
    requests = portal.client.get(
        "/v1/requests", params={"subject_id": "cust-1"}, headers=portal.headers["officer"]
    ).json()
    assert [r["kind"] for r in requests["items"]] == ["access", "access"]


def test_erasure_is_confirmed_then_says_what_went_and_ends_the_session(portal: Service) -> None:
    made = _decide(portal, "cust-1", 5.0)
    with viewing_as(portal.client, _token(portal, "cust-1")) as client:
        confirm = client.get("/portal/privacy/erasure")
        assert confirm.status_code == 200 and "What is kept, and why" in confirm.text
        form = {"csrf": csrf_of(confirm.text)}
        unconfirmed = client.post("/portal/privacy/erasure", data=form)
        assert unconfirmed.status_code == 422
        still = portal.client.get(f"/v1/decisions/{made['id']}", headers=portal.headers["admin"])
        assert still.json()["subject_id"] == "cust-1"
        done = client.post("/portal/privacy/erasure", data={**form, "confirm": "yes"})
        assert done.status_code == 200
        assert "Your data is erased" in done.text and "1 decision no longer linked" in done.text
        assert "What is kept, and why" in done.text
        assert (
            f'{COOKIE}=""' in done.headers["set-cookie"]
            or "Max-Age=0" in done.headers["set-cookie"]
        )
        assert 'action="/logout"' not in done.text  # signed out: no session navigation
    erased = portal.client.get(f"/v1/decisions/{made['id']}", headers=portal.headers["admin"])
    assert erased.json()["subject_id"] is None and erased.json()["explanation"] is None
