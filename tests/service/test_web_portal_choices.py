"""Every consent choice in the portal reads in plain words and can be changed back."""

from __future__ import annotations

import re
from collections.abc import Callable

from service_testing import Service
from web_testing import csrf_of, customer_token, viewing_as

from ethica.demo._bank_consent import CONSENT_NOTICES


def _words(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_a_withdrawn_data_category_reads_in_words_and_can_be_allowed_again(
    service: Callable[..., Service],
) -> None:
    running = service()
    token = customer_token("cust-1", secret=running.settings.app.secret_key.get_secret_value())
    with viewing_as(running.client, token) as client:
        csrf = csrf_of(client.get("/portal/privacy").text)
        postcode = "user.contact.address.postal_code"
        choice = {"csrf": csrf, "data_use": "finance", "data_category": postcode}
        withdrawn = client.post(
            "/portal/privacy/consent",
            data={**choice, "status": "withdrawn"},
            follow_redirects=False,
        )
        assert withdrawn.status_code == 303
        page = _words(client.get("/portal/privacy").text)
        assert "Finance: using your postal code Your choice: Not allowed" in page
        assert "user.contact" not in page  # no taxonomy keys shown to the customer
        again = client.post(
            "/portal/privacy/consent",
            data={**choice, "status": "granted"},
            follow_redirects=False,
        )
        assert again.status_code == 303
        page = _words(client.get("/portal/privacy").text)
        assert "Finance: using your postal code Your choice: Allowed" in page
        assert "Do not allow it: Finance: using your postal code" in page


def test_after_the_gpc_signal_each_use_can_be_allowed_again(
    service: Callable[..., Service],
) -> None:
    running = service()
    for key, kind, text in CONSENT_NOTICES:  # the demo bank's notices
        published = running.client.put(
            f"/v1/notices/{key}",
            json={"kind": kind, "text": text},
            headers=running.headers["officer"],
        )
        assert published.status_code == 201, published.text
    token = customer_token("cust-1", secret=running.settings.app.secret_key.get_secret_value())
    with viewing_as(running.client, token) as client:
        csrf = csrf_of(client.get("/portal/privacy").text)
        assert "No use of your data asks for your consent" not in client.get("/portal/privacy").text
        client.post("/portal/privacy/gpc", data={"csrf": csrf}, follow_redirects=False)
        page = _words(client.get("/portal/privacy").text)
        assert "to change your mind, allow a use again" in page
        assert page.count("Not allowed") >= 2  # marketing and personalization withdrawn
        client.post(
            "/portal/privacy/consent",
            data={"csrf": csrf, "data_use": "personalize", "status": "granted"},
            follow_redirects=False,
        )
        mine = client.get("/portal/privacy").text
    personalize = mine[mine.index("<h3>Personalize</h3>") :][:600]
    assert "Allowed</span>" in personalize


def test_the_objection_buttons_keep_the_names_capitals(service: Callable[..., Service]) -> None:
    running = service()
    token = customer_token("cust-1", secret=running.settings.app.secret_key.get_secret_value())
    with viewing_as(running.client, token) as client:
        page = _words(client.get("/portal/privacy").text)
    assert "I object: decisions made by an AI system alone" in page
    assert "I object: profiling and personalization" in page
    assert "an ai system" not in page
