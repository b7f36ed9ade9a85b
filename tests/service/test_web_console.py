"""The reviewer console: the queue, a case, claim / decide / override / approve, own statistics."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any, get_args

from service_testing import PASSWORD, Service, sign_in
from sqlalchemy import update
from web_testing import csrf_of, customer_token, token_of, viewing_as

from ethica.service.app import state_of
from ethica.service.db import unit_of_work, utcnow
from ethica.service.decisions.tables import Decision
from ethica.service.reviews.schemas import ReasonCode
from ethica.service.reviews.stats import WARNING_MIN_CASES
from ethica.service.web.console.words import reason_label

INCOME = 4321.987


def _reviewer(running: Service, email: str, name: str) -> str:
    """Another reviewer's session token."""
    body = {"email": email, "name": name, "role": "reviewer", "password": PASSWORD}
    response = running.client.post("/v1/users", json=body, headers=running.headers["admin"])
    assert response.status_code == 201, response.text
    return token_of(sign_in(running.client, email))


def _held(running: Service, system: str, *, subject: str = "cust-1") -> str:
    response = running.decide(
        system,
        {"subject_id": subject, "features": {"income": INCOME, "housing": "rent"}, "score": 0.1},
    )
    assert response.status_code == 201, response.text
    assert response.json()["review"]["status"] == "pending_review", response.text
    return str(response.json()["id"])


def _act(running: Service, token: str, path: str, **form: str) -> Any:
    """Open the case page as ``token`` and post one of its forms (no redirects followed)."""
    with viewing_as(running.client, token) as client:
        case = path.rsplit("/", 1)[0]
        csrf = csrf_of(client.get(case).text)
        return client.post(path, data={"csrf": csrf, **form}, follow_redirects=False)


def _page(running: Service, token: str, path: str, **kwargs: Any) -> Any:
    with viewing_as(running.client, token) as client:
        return client.get(path, **kwargs)


def _text(html: str) -> str:
    """A page's words, without tags or repeated spaces (what a reader sees)."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_queue_shows_priority_reason_deadline_in_words_and_filters_by_system(
    service: Callable[..., Service],
) -> None:
    running = service()
    running.register("credit", oversight={"review_adverse": True})  # high risk
    running.register("leads", risk_tier="limited", oversight={"review_adverse": True})
    late = _held(running, "leads", subject="a")
    urgent = _held(running, "credit", subject="b")
    with unit_of_work(state_of(running.app).sessions) as session:
        session.execute(
            update(Decision)
            .where(Decision.id == late)
            .values(created_at=utcnow() - timedelta(days=10))
        )
    reviewer = token_of(running.headers["reviewer"])

    page = _page(running, reviewer, "/console")
    assert page.status_code == 200, page.text
    text = _text(page.text)
    assert page.text.index(f"/console/cases/{urgent}") < page.text.index(f"/console/cases/{late}")
    assert "High" in text and "Normal" in text
    assert "escalated" in text and "Overdue by" in text
    assert "Not claimed" in text and "2 cases awaiting review" in text
    assert 'hx-trigger="every 30s"' in page.text

    only_leads = _page(running, reviewer, "/console", params={"system": "leads"})
    assert f"/console/cases/{late}" in only_leads.text
    assert f"/console/cases/{urgent}" not in only_leads.text

    fragment = _page(running, reviewer, "/console", headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert "<html" not in fragment.text and 'id="queue"' in fragment.text
    assert f"/console/cases/{urgent}" in fragment.text
    restored = _page(
        running,
        reviewer,
        "/console",
        headers={"HX-Request": "true", "HX-History-Restore-Request": "true"},
    )
    assert "<html" in restored.text


def test_a_reviewer_overrides_and_only_a_second_reviewer_can_approve(
    service: Callable[..., Service],
) -> None:
    running = service()
    running.register("credit", oversight={"review_adverse": True})
    decision = _held(running, "credit")
    first = token_of(running.headers["reviewer"])
    second = _reviewer(running, "second@bank.example", "Sam Second")
    case = f"/console/cases/{decision}"

    before = _page(running, first, case)
    assert before.status_code == 200
    text = _text(before.text)
    # The input reads as people write numbers (grouped, two decimals at most), not 4321.987.
    assert "Declined" in text and "4,321.99" in text and "Claim this case" in text
    assert "Override the outcome" not in text  # not before claiming

    claimed = _act(running, first, f"{case}/claim")
    assert claimed.status_code == 303 and claimed.headers["location"] == f"{case}?done=claimed"
    held = _page(running, first, case)
    assert "You, since" in held.text and "Override the outcome" in held.text
    for code in get_args(ReasonCode):
        assert f'<option value="{code}">{reason_label(code)}</option>' in held.text

    unreasoned = _act(running, first, f"{case}/decision", action="override", outcome="approved")
    assert unreasoned.status_code == 422
    assert "an override needs a reason_code" in unreasoned.text
    assert 'role="alert"' in unreasoned.text

    proposed = _act(
        running,
        first,
        f"{case}/decision",
        action="override",
        outcome="approved",
        reason_code="new_information",
        comment="Payslips show a higher income.",
    )
    assert proposed.status_code == 303, proposed.text
    awaiting = _text(_page(running, first, proposed.headers["location"]).text)
    assert "Awaiting second approval" in awaiting
    assert "a different reviewer must approve your proposal" in awaiting
    assert "New information the model did not have" in awaiting

    refused = _act(running, first, f"{case}/approval")
    assert refused.status_code == 409
    assert "four eyes" in refused.text and "Proposed override" in refused.text

    queue = _text(_page(running, second, "/console").text)
    assert "Awaiting second approval" in queue
    assert "Override to Approved proposed by Reviewer" in queue
    assert _act(running, second, f"{case}/claim").status_code == 303
    approved = _act(running, second, f"{case}/approval", comment="Agreed.")
    assert approved.status_code == 303, approved.text
    after = _text(_page(running, second, approved.headers["location"]).text)
    assert "You approved the override" in after and "Final outcome Approved" in after
    assert "Override proposed" in after and "Override approved" in after
    assert "Payslips show a higher income." in after

    read = running.client.get(f"/v1/decisions/{decision}", headers=running.headers["admin"])
    assert (read.json()["outcome"], read.json()["review"]["status"]) == ("approved", "overridden")


def test_a_case_held_by_another_reviewer_is_a_message_not_a_crash(
    service: Callable[..., Service],
) -> None:
    running = service()
    running.register("leads", risk_tier="limited", oversight={"review_adverse": True})
    decision = _held(running, "leads")
    first = token_of(running.headers["reviewer"])
    second = _reviewer(running, "second@bank.example", "Sam Second")
    case = f"/console/cases/{decision}"
    assert _act(running, first, f"{case}/claim").status_code == 303

    shown = _text(_page(running, second, case).text)
    assert "Reviewer holds this case" in shown and "Claim this case" not in shown
    for path, form in (("claim", {}), ("decision", {"action": "confirm"})):
        refused = _act(running, second, f"{case}/{path}", **form)
        assert refused.status_code == 409, path
        assert "held by reviewer" in refused.text and "That was not done" in refused.text

    confirmed = _act(running, first, f"{case}/decision", action="confirm")
    assert confirmed.status_code == 303
    assert "The decision is final" in _page(running, first, confirmed.headers["location"]).text
    assert _page(running, first, "/console/cases/no-such-case").status_code == 404


def test_blind_first_shows_the_model_only_after_the_reviewers_judgement(
    service: Callable[..., Service],
) -> None:
    running = service()
    running.register("credit", oversight={"review_adverse": True, "blind_first": True})
    decision = _held(running, "credit")
    reviewer = token_of(running.headers["reviewer"])
    case = f"/console/cases/{decision}"
    assert _act(running, reviewer, f"{case}/claim").status_code == 303

    blind = _page(running, reviewer, case).text
    assert "blind-first" in blind and "Record my judgement" in blind
    assert "0.100" not in blind and "Override the outcome" not in blind
    early = _act(running, reviewer, f"{case}/decision", action="confirm")
    assert early.status_code == 409 and "record your own judgement first" in early.text

    judged = _act(running, reviewer, f"{case}/judgement", outcome="approved")
    assert judged.status_code == 303, judged.text
    seen = _text(_page(running, reviewer, judged.headers["location"]).text)
    assert "0.100" in seen and "Approved (differs from the model)" in seen
    again = _act(running, reviewer, f"{case}/judgement", outcome="declined")
    assert again.status_code == 409 and "already recorded your judgement" in again.text

    proposed = _act(
        running,
        reviewer,
        f"{case}/decision",
        action="override",
        outcome="approved",
        reason_code="model_error",
        comment="The model missed the payslip.",
    )
    assert proposed.status_code == 303, proposed.text
    second = _reviewer(running, "second@bank.example", "Sam Second")
    assert "Override to Approved" not in _page(running, second, "/console").text
    assert _act(running, second, f"{case}/claim").status_code == 303
    hidden = _text(_page(running, second, case).text)
    assert "the proposal is shown after that" in hidden and "New outcome" not in hidden
    assert "Approve the override" not in hidden and "0.100" not in hidden
    assert _act(running, second, f"{case}/judgement", outcome="approved").status_code == 303
    shown = _text(_page(running, second, case).text)
    assert "New outcome Approved (the model said Declined)" in shown
    assert _act(running, second, f"{case}/approval").status_code == 303


def test_stats_show_own_rates_and_the_automation_bias_warning(
    service: Callable[..., Service],
) -> None:
    running = service()
    running.register("leads", risk_tier="limited", oversight={"review_adverse": True})
    reviewer = token_of(running.headers["reviewer"])
    fresh = _text(_page(running, reviewer, "/console/stats").text)
    assert "Cases decided 0" in fresh and "Automation-bias warning." not in fresh

    for n in range(WARNING_MIN_CASES):
        case = f"/console/cases/{_held(running, 'leads', subject=f'c{n}')}"
        assert _act(running, reviewer, f"{case}/claim").status_code == 303
        assert _act(running, reviewer, f"{case}/decision", action="confirm").status_code == 303
    warned = _page(running, reviewer, "/console/stats")
    text = _text(warned.text)
    assert f"Cases decided {WARNING_MIN_CASES}" in text
    assert "Agreement rate 100%" in text and "Override rate 0%" in text
    assert "Automation-bias warning." in text

    other = _reviewer(running, "second@bank.example", "Sam Second")
    assert "Cases decided 0" in _text(_page(running, other, "/console/stats").text)


def test_the_case_shows_the_customers_appeal_in_their_words(
    service: Callable[..., Service],
) -> None:
    running = service()
    running.register("credit")  # no review of adverse outcomes: decided automatically
    made = running.decide(
        "credit", {"subject_id": "cust-9", "features": {"income": INCOME}, "score": 0.2}
    )
    assert made.status_code == 201 and made.json()["review"]["status"] != "pending_review"
    decision = made.json()["id"]
    secret = running.settings.app.secret_key.get_secret_value()
    appealed = running.client.post(
        f"/v1/me/decisions/{decision}/appeal",
        json={"statement": "My income doubled <b>last month</b>."},
        headers={"Authorization": f"Bearer {customer_token('cust-9', secret=secret)}"},
    )
    assert appealed.status_code == 201, appealed.text

    reviewer = token_of(running.headers["reviewer"])
    queue = _text(_page(running, reviewer, "/console").text)
    assert "Customer appeal" in queue
    case = _page(running, reviewer, f"/console/cases/{decision}").text
    assert "My income doubled &lt;b&gt;last month&lt;/b&gt;." in case
    assert "Customer appealed" in _text(case) and "The customer" in _text(case)


def test_a_long_queue_is_shown_a_page_at_a_time_in_queue_order(
    service: Callable[..., Service], monkeypatch: Any
) -> None:
    from ethica.service.web.console import routes as console

    monkeypatch.setattr(console, "QUEUE_PAGE_SIZE", 2)
    running = service()
    running.register("leads", risk_tier="limited", oversight={"review_adverse": True})
    held = [_held(running, "leads", subject=f"s{i}") for i in range(5)]
    reviewer = token_of(running.headers["reviewer"])
    shown: list[str] = []
    for number in (1, 2, 3):
        page = _page(running, reviewer, "/console", params={"page": number, "system": "leads"})
        # The filter names the system as people know it (its name), not by its id.
        assert f"5 cases awaiting review for Credit limit (page {number} of 3)" in _text(page.text)
        assert ("Next cases" in page.text) == (number < 3)
        assert ("Previous cases" in page.text) == (number > 1)
        shown += re.findall(r'href="/console/cases/([0-9a-f-]+)"', page.text)
    assert sorted(shown) == sorted(held) and len(shown) == 5
    past_the_end = _page(running, reviewer, "/console", params={"page": 9})
    assert "(page 3 of 3)" in _text(past_the_end.text)
