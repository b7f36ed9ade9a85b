"""The reviewer console on a case whose customer had their data erased."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from service_testing import Service, explained_features
from web_testing import customer_token, token_of, viewing_as

from ethica.scoring import dump_model
from ethica.service.db import utcnow


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_an_erased_customers_case_says_the_explanation_was_erased_and_when(
    service: Callable[..., Service], lightgbm_model: Any
) -> None:
    running = service()
    running.register("credit", features=explained_features())
    upload = running.upload("credit", dump_model(lightgbm_model, "lightgbm"), format="lightgbm")
    assert upload.status_code == 201, upload.text
    made = running.decide(
        "credit", {"subject_id": "cust-e", "features": {"income": 23.5, "housing": "rent"}}
    )
    assert made.status_code == 201, made.text
    decision = made.json()["id"]
    assert made.json()["explanation"]["reasons"], made.text
    secret = running.settings.app.secret_key.get_secret_value()
    appealed = running.client.post(  # back to a reviewer, whatever the model decided
        f"/v1/me/decisions/{decision}/appeal",
        json={"statement": "Please look again."},
        headers={"Authorization": f"Bearer {customer_token('cust-e', secret=secret)}"},
    )
    assert appealed.status_code == 201, appealed.text
    reviewer = token_of(running.headers["reviewer"])
    with viewing_as(running.client, reviewer) as client:
        before = _text(client.get(f"/console/cases/{decision}").text)
    assert "Reasons" in before and "erased" not in before

    erased = running.client.post("/v1/subjects/cust-e/erasure", headers=running.headers["officer"])
    assert erased.status_code == 201, erased.text
    with viewing_as(running.client, reviewer) as client:
        page = client.get(f"/console/cases/{decision}")
    assert page.status_code == 200
    after = _text(page.text)
    day = utcnow().date()
    said = f"The explanation was erased at the customer's request on {day.day} {day:%B %Y}"
    assert said in after, after
    assert "No explanation was recorded" not in after and "Reasons" not in after
    case = running.client.get(f"/v1/reviews/{decision}", headers=running.headers["reviewer"]).json()
    assert (case["explanation_status"], case["explanation_erased_on"]) == (
        "erased",
        day.isoformat(),
    ), case
