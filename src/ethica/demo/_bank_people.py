"""What the demo bank's people do: staff logins, customers' appeals, reviewers' work, seeded cases.

Customers and reviewers act through the service's own API (with a ``TestClient``), as people at
the portal and the console would; seeded cases go in through the review backend, as an officer's
form does.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ethica.demo._systems import CREDIT_LIMIT, SUPPORT_ROUTING, bank_specs
from ethica.errors import InputError


@dataclass(frozen=True)
class StaffLogin:
    """A demo staff account (development only: its password is public)."""

    email: str
    name: str
    role: str
    password: str


STAFF: tuple[StaffLogin, ...] = (
    StaffLogin("admin@bank.example", "Ada Admin", "admin", "demo-admin-pass"),
    StaffLogin("officer@bank.example", "Omar Officer", "officer", "demo-officer-pass"),
    StaffLogin("reviewer@bank.example", "Rita Reviewer", "reviewer", "demo-reviewer-pass"),
    StaffLogin("reviewer2@bank.example", "Remi Reviewer", "reviewer", "demo-reviewer2-pass"),
)

#: Appeals filed by customers of automatic decisions.
APPEALS = 12
#: Held credit declines the first reviewer confirms, and overrides (four eyes: the second
#: reviewer approves all but one of the overrides, which stays for the console to show).
CONFIRMED = 12
OVERRIDDEN = 3
#: Seeded review cases (known answers, to measure reviewers) per system, made from customers the
#: models learned from, whose true outcome the scenario knows.
SEEDED = {CREDIT_LIMIT: 4, SUPPORT_ROUTING: 2}
#: Seeded credit cases the first reviewer confirms; the second reviewer also decides one
#: seeded routing case, blind-first. The others wait in the queue.
SEEDED_CONFIRMED = 2
#: Lifetime of the printed demo customer link, in minutes (a week).
LINK_MINUTES = 7 * 24 * 60


def plain(value: Any) -> Any:
    """Turn a numpy scalar into the plain Python value (JSON-ready)."""
    return value.item() if hasattr(value, "item") else value


def protected_text(value: Any) -> str | None:
    """Return a protected attribute as sent to the gateway: its text, or None if not disclosed."""
    return None if pd.isna(value) else str(value)


def file_appeals(client: Any, state: Any, made: list[Any], rng: random.Random) -> int:
    """File customers' appeals of some automatic decisions through the API; return how many."""
    routed = [
        d
        for d in made
        if d.system_id == SUPPORT_ROUTING and d.final and d.outcome == "self-service"
    ]
    filed = 0
    for decision in rng.sample(routed, min(APPEALS, len(routed))):
        _call(
            client,
            f"/v1/me/decisions/{decision.id}/appeal",
            customer_link_token(state, decision.subject_id),
            {"statement": "My card was blocked abroad; I need to speak to a person."},
        )
        filed += 1
    return filed


def review_some(client: Any, made: list[Any], rng: random.Random, *, spare: str) -> dict[str, int]:
    """Have the demo reviewers work part of the queue through the API, leaving ``spare`` alone."""
    first, second = (_sign_in(client, login) for login in STAFF if login.role == "reviewer")
    declined = [
        d
        for d in made
        if d.system_id == CREDIT_LIMIT
        and d.outcome == "declined"
        and d.scored_by == "model"
        and d.subject_id != spare
    ]
    cases = rng.sample(declined, min(CONFIRMED + OVERRIDDEN, len(declined)))
    done = {"confirmed": 0, "overridden": 0, "approved": 0}
    for index, case in enumerate(cases):
        _call(client, f"/v1/reviews/{case.id}/claim", first, {})
        if index < OVERRIDDEN:
            body = {
                "action": "override",
                "outcome": "approved",
                "reason_code": "new_information",
                "comment": "A payslip shows a recent pay rise the application did not include.",
            }
            _call(client, f"/v1/reviews/{case.id}/decision", first, body)
            done["overridden"] += 1
            if index < OVERRIDDEN - 1:
                _call(client, f"/v1/reviews/{case.id}/approval", second, {"comment": "Agreed."})
                done["approved"] += 1
        else:
            _call(client, f"/v1/reviews/{case.id}/decision", first, {"action": "confirm"})
            done["confirmed"] += 1
    return done


def seed_cases(
    state: Any, training: pd.DataFrame, rng: random.Random, *, officer: str
) -> list[Any]:
    """Put :data:`SEEDED` cases in the queue, as an officer would, through the review backend."""
    from ethica.service.reviews.schemas import SeededCaseCreate
    from ethica.service.reviews.seeded import prepare_seeded_case, record_seeded_case

    specs = bank_specs()
    known: dict[str, Callable[[dict[Any, Any]], str]] = {
        CREDIT_LIMIT: lambda row: "approved" if row["repaid"] == 1 else "declined",
        SUPPORT_ROUTING: lambda row: str(row["tier"]),
    }
    chosen = training.sample(n=sum(SEEDED.values()), random_state=rng.randrange(2**32))
    bodies = []
    rows = iter(chosen.to_dict("records"))
    for system_id, count in SEEDED.items():
        for row in (next(rows) for _ in range(count)):
            features = {f.name: plain(row[f.name]) for f in specs[system_id].features}
            bodies.append(
                SeededCaseCreate(
                    system_id=system_id, features=features, known_outcome=known[system_id](row)
                )
            )
    created = []
    for body in bodies:
        with state.sessions() as session:
            prepared = prepare_seeded_case(session, body=body, rng=rng)
        created.append(
            state.gateway.writer.run(
                lambda batch, p=prepared: record_seeded_case(batch, p, created_by=officer)
            )
        )
    return created


def review_seeded(client: Any, cases: list[Any]) -> int:
    """Have the demo reviewers decide a few seeded cases; return how many.

    The first confirms seeded credit cases; the second decides a routing one blind-first: their
    own tier first, then the model's is shown.
    """
    first, second = (_sign_in(client, login) for login in STAFF if login.role == "reviewer")
    credit = [c for c in cases if c.system_id == CREDIT_LIMIT][:SEEDED_CONFIRMED]
    for case in credit:
        _call(client, f"/v1/reviews/{case.decision_id}/claim", first, {})
        _call(client, f"/v1/reviews/{case.decision_id}/decision", first, {"action": "confirm"})
    routed = [c for c in cases if c.system_id == SUPPORT_ROUTING][:1]
    for case in routed:
        path = f"/v1/reviews/{case.decision_id}"
        _call(client, f"{path}/claim", second, {})
        _call(client, f"{path}/judgement", second, {"outcome": case.known_outcome})
        body: dict[str, Any] = {"action": "confirm"}
        if case.outcome != case.known_outcome:
            body = {
                "action": "override",
                "outcome": case.known_outcome,
                "reason_code": "model_error",
                "comment": "The ticket's issue calls for this tier.",
            }
        _call(client, f"{path}/decision", second, body)
    return len(credit) + len(routed)


def _sign_in(client: Any, login: StaffLogin) -> str:
    answer = client.post("/v1/auth/token", json={"email": login.email, "password": login.password})
    if answer.status_code != 200:
        raise InputError(f"the demo's {login.email} cannot sign in: {answer.text}")
    return str(answer.json()["token"])


def _call(client: Any, path: str, token: str, body: dict[str, Any]) -> None:
    answer = client.post(path, json=body, headers={"Authorization": f"Bearer {token}"})
    if answer.status_code >= 400:
        raise InputError(f"the demo's POST {path} was refused: {answer.text}")


def customer_link_token(state: Any, subject_id: str) -> str:
    """Sign a portal link token for ``subject_id``, valid for :data:`LINK_MINUTES`."""
    from ethica.service.subjects.service import customer_link

    token, _ = customer_link(
        subject_id=subject_id, settings=state.settings.app, minutes=LINK_MINUTES
    )
    return token
