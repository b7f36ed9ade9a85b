"""The review queue's search box and filters: by case, customer or decision id; reason; status."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from service_testing import Service
from web_testing import token_of, viewing_as

from ethica.service.web.console.queue_filter import REASONS, STATUSES


def _held(running: Service, system: str, subject: str, score: float) -> str:
    body = {"subject_id": subject, "features": {"income": 10.0, "housing": "rent"}, "score": score}
    response = running.decide(system, body)
    assert response.status_code == 201, response.text
    assert response.json()["review"]["status"] == "pending_review", response.text
    return str(response.json()["id"])


def _listed(running: Service, token: str, **params: str) -> list[str]:
    with viewing_as(running.client, token) as client:
        page = client.get("/console", params=params)
    assert page.status_code == 200, page.text
    return re.findall(r'href="/console/cases/([0-9a-f-]+)"', page.text)


def test_search_finds_a_case_by_its_short_id_its_decision_id_or_its_customer(
    service: Callable[..., Service],
) -> None:
    running = service()
    running.register("leads", risk_tier="limited", oversight={"review_adverse": True})
    ada, bob, ada_again = (
        _held(running, "leads", "ada", 0.1),
        _held(running, "leads", "bob", 0.2),
        _held(running, "leads", "ada", 0.3),
    )
    reviewer = token_of(running.headers["reviewer"])
    assert sorted(_listed(running, reviewer)) == sorted([ada, bob, ada_again])
    assert sorted(_listed(running, reviewer, q="ada")) == sorted([ada, ada_again])
    assert _listed(running, reviewer, q=bob[:8]) == [bob]
    assert _listed(running, reviewer, q=f" {bob.upper()} ") == [bob]
    assert _listed(running, reviewer, q="nobody") == []
    with viewing_as(running.client, reviewer) as client:
        text = client.get("/console", params={"q": "ada"}).text
        none = client.get("/console", params={"q": "nobody"}).text
    assert "2 of 3 cases awaiting review match the search and filters" in " ".join(
        re.sub(r"<[^>]+>", " ", text).split()
    )
    assert 'value="ada"' in text  # the box keeps what was typed
    assert "No open case matches the search and filters" in none


def test_filters_by_reason_and_by_status_and_refuse_unknown_values(
    service: Callable[..., Service],
) -> None:
    running = service()
    running.register("leads", risk_tier="limited", oversight={"review_adverse": True})
    first, second = _held(running, "leads", "ada", 0.1), _held(running, "leads", "bob", 0.2)
    reviewer = token_of(running.headers["reviewer"])
    claimed = running.client.post(f"/v1/reviews/{first}/claim", headers=running.headers["reviewer"])
    assert claimed.status_code == 200, claimed.text

    assert sorted(_listed(running, reviewer, reason="adverse")) == sorted([first, second])
    assert _listed(running, reviewer, reason="appeal") == []
    assert _listed(running, reviewer, reason="sample") == []
    assert _listed(running, reviewer, status="mine") == [first]
    assert _listed(running, reviewer, status="unclaimed") == [second]
    assert _listed(running, reviewer, status="others") == []
    assert _listed(running, reviewer, status="mine", q="bob") == []
    with viewing_as(running.client, reviewer) as client:
        page = client.get("/console", params={"status": "mine"})
        wrong = client.get("/console", params={"reason": "whim"})
    # The refresh asks for the same filtered list; every choice is offered by its label.
    assert 'hx-get="/console?status=mine"' in page.text
    assert all(choice.label in page.text for choice in (*REASONS, *STATUSES))
    assert wrong.status_code == 422 and wrong.headers["content-type"].startswith("text/html")


def test_the_refreshed_list_keeps_each_case_link_id_so_focus_survives(
    service: Callable[..., Service],
) -> None:
    running = service()
    running.register("leads", risk_tier="limited", oversight={"review_adverse": True})
    held = _held(running, "leads", "ada", 0.1)
    reviewer = token_of(running.headers["reviewer"])
    with viewing_as(running.client, reviewer) as client:
        fragment: Any = client.get("/console", headers={"hx-request": "true"})
    # htmx puts focus back on the element with the same id after a swap.
    assert fragment.text.lstrip().startswith('<div id="queue"')
    assert f'id="case-{held}"' in fragment.text
