"""Scenes the browser tests set: a credit system with a real LightGBM model (through the API),
and an audit report with a built-in gap."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest

from conftest import PASSWORD

#: A high-risk credit system: income (actionable, higher is better) and housing. Income is in
#: thousands of euros, as its unit says: 12.5 reads "12.5 thousand EUR", never a bare number.
CREDIT: dict[str, Any] = {
    "name": "Credit limit",
    "purpose": "finance",
    "risk_tier": "high",
    "decision": {"kind": "binary", "threshold": 0.5},
    "features": [
        {
            "name": "income",
            "type": "number",
            "data_category": "user.financial",
            "description": "yearly income",
            "unit": "thousand EUR",
            "actionable": True,
            "direction": "increasing",
        },
        {
            "name": "housing",
            "type": "category",
            "categories": ["own", "rent"],
            "data_category": "user.demographic",
        },
    ],
    "owner": "risk@bank.example",
}


@contextmanager
def staff_api(url: str, email: str = "admin@bank.example") -> Iterator[httpx.Client]:
    """An API client signed in as a staff member."""
    with httpx.Client(base_url=url, timeout=60) as api:
        signed = api.post("/v1/auth/token", json={"email": email, "password": PASSWORD})
        assert signed.status_code == 200, signed.text
        api.headers["Authorization"] = f"Bearer {signed.json()['token']}"
        yield api


def register_credit(api: httpx.Client, *, housing_counts: bool = False, **changes: Any) -> None:
    """Register :data:`CREDIT` (with ``changes``) and a LightGBM model approving high incomes.

    With ``housing_counts`` the model also learned to decline renters below a high income, so
    housing weighs in its explanations too.
    """
    lightgbm = pytest.importorskip("lightgbm")
    from ethica.scoring import dump_model

    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "income": rng.random(400) * 100,
            "housing": pd.Categorical(rng.choice(["own", "rent"], 400), categories=["own", "rent"]),
        }
    )
    approved = frame["income"] > 50
    if housing_counts:
        approved &= (frame["housing"] == "own") | (frame["income"] > 80)
    model = lightgbm.LGBMClassifier(n_estimators=20, verbose=-1).fit(frame, approved)
    assert api.put("/v1/systems/credit", json={**CREDIT, **changes}).status_code in (200, 201)
    uploaded = api.post(
        "/v1/systems/credit/models",
        params={"version": "1", "format": "lightgbm"},
        content=dump_model(model, "lightgbm"),
    )
    assert uploaded.status_code == 201, uploaded.text


def decide(api: httpx.Client, subject: str, income: float, housing: str = "rent") -> Any:
    """Send a credit decision for ``subject``; the answer's JSON."""
    made = api.post(
        "/v1/systems/credit/decisions",
        json={"subject_id": subject, "features": {"income": income, "housing": housing}},
    )
    assert made.status_code == 201, made.text
    return made.json()


#: A reviewer's reason for overriding a decline.
REASON = "A payslip shows a recent pay rise the application did not include."


def text_of(page: Any) -> str:
    """What the page's main region says, on one line."""
    return " ".join(page.locator("main").inner_text().split())


def enter_portal(page: Any, url: str, subject: str) -> None:
    """Open the portal as ``subject``, through a link an officer made for them."""
    with staff_api(url) as api:
        link = api.post(f"/v1/subjects/{subject}/links", json={}).json()["token"]
    page.goto(f"{url}/portal/enter?token={link}")
    page.wait_for_url("**/portal")


def appeal_on_portal(page: Any, url: str, decision: str, statement: str) -> None:
    """The customer, signed in on ``page``, asks on the decision's portal page for a person to
    review it, giving ``statement`` as their view; returns once the portal has recorded it."""
    page.goto(f"{url}/portal/decisions/{decision}")
    page.get_by_label("Ask for a person to review this decision: your view").fill(statement)
    page.get_by_role("button", name="Request human review").click()
    page.wait_for_url(f"**/portal/decisions/{decision}?sent=appeal")


def as_customer(url: str, subject: str, path: str, body: Any) -> httpx.Response:
    """POST ``body`` to ``path`` as the customer ``subject``, through a link an officer made."""
    with staff_api(url) as api:
        link = api.post(f"/v1/subjects/{subject}/links", json={}).json()["token"]
    return httpx.post(
        f"{url}{path}", json=body, headers={"Authorization": f"Bearer {link}"}, timeout=60
    )


def review_step(url: str, email: str, decision: str, what: str, body: Any = None) -> Any:
    """A reviewer's step on a case through the API (claim, decision, approval, ...)."""
    with staff_api(url, email) as api:
        done = api.post(f"/v1/reviews/{decision}/{what}", json=body)
    assert done.status_code in (200, 201), done.text
    return done.json()


def override_to_approved() -> dict[str, str]:
    """A reviewer's override of a decline, with its reason and comment."""
    return {
        "action": "override",
        "outcome": "approved",
        "reason_code": "new_information",
        "comment": REASON,
    }


def held_decline(url: str, subject: str = "cust-7", **changes: Any) -> tuple[str, list[str]]:
    """A credit decline held for review (every adverse outcome is); its id and reasons."""
    with staff_api(url) as api:
        register_credit(api, oversight={"review_adverse": True}, **changes)
        made = decide(api, subject, income=12.5)
    assert (made["outcome"], made["review"]["status"]) == ("declined", "pending_review")
    return str(made["id"]), [r["text"] for r in made["explanation"]["reasons"]]


def write_audit_report(path: Path, *, bootstrap: int = 0) -> Path:
    """An audit report of 2,000 decisions by sex and age, women approved less often; ``path``."""
    from ethica.fairness import audit

    rng = np.random.default_rng(0)
    sex = rng.choice(["Female", "Male"], 2000)
    age = rng.choice(["<25", "25-44", "45-64", "65+"], 2000)
    approved = rng.random(2000) < np.where(sex == "Female", 0.4, 0.55)
    repaid = rng.random(2000) < 0.7
    frame = pd.DataFrame({"sex": sex, "age": age, "approved": approved, "repaid": repaid})
    audited = audit(
        frame,
        sensitive_features=["sex", "age"],
        prediction="approved",
        label="repaid",
        bootstrap=bootstrap,
    )
    audited.to_html(path)
    return path
