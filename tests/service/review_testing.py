"""What the review-workflow tests share: customers' headers, reviewers, cases, review steps."""

from __future__ import annotations

from typing import Any

from service_testing import PASSWORD, Service, bearer, sign_in

from ethica.service import auth

REASON = "A payslip shows a recent pay rise the application did not include."


def customer(running: Service, subject: str) -> dict[str, str]:
    """Headers of a customer's signed link."""
    secret = running.settings.app.secret_key.get_secret_value()
    return bearer(auth.sign_token({"sub": subject, "kind": "customer"}, secret=secret, minutes=5))


def reviewer(running: Service, name: str) -> dict[str, str]:
    """Headers of a new reviewer called ``name``."""
    body = {
        "email": f"{name}@bank.example",
        "name": name.title(),
        "role": "reviewer",
        "password": PASSWORD,
    }
    made = running.client.post("/v1/users", json=body, headers=running.headers["admin"])
    assert made.status_code == 201, made.text
    return sign_in(running.client, f"{name}@bank.example")


def step(
    running: Service, decision_id: str, what: str, who: dict[str, str], body: Any = None
) -> Any:
    """POST ``/v1/reviews/{decision_id}/{what}`` (the raw response)."""
    return running.client.post(f"/v1/reviews/{decision_id}/{what}", json=body, headers=who)


def override(outcome: str = "approved", comment: str | None = REASON) -> dict[str, Any]:
    """An override's body, with a reason code and (unless ``None``) a comment."""
    body: dict[str, Any] = {
        "action": "override",
        "outcome": outcome,
        "reason_code": "new_information",
    }
    if comment is not None:
        body["comment"] = comment
    return body


def queue(running: Service, who: dict[str, str]) -> list[dict[str, Any]]:
    """The review queue's items as ``who`` sees them."""
    got = running.client.get("/v1/reviews", headers=who)
    assert got.status_code == 200, got.text
    return list(got.json()["items"])


def mine(running: Service, subject: str, decision_id: str) -> dict[str, Any]:
    """The decision as its customer reads it through ``/v1/me``."""
    got = running.client.get(f"/v1/me/decisions/{decision_id}", headers=customer(running, subject))
    assert got.status_code == 200, got.text
    return dict(got.json())
