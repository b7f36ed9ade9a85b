"""The demo bank on the service: three systems, staff, and customers' decisions through the gateway.

:func:`build_bank` creates a fresh SQLite database, registers the credit-limit, support-routing
and product-recommendation systems with their LightGBM models, creates the staff users, records
some customers' consent withdrawals and objections, runs every demo customer's three decisions
through the gateway, records true outcomes for part of them, files a few appeals, puts seeded
review cases with known answers in the queue, and has the demo reviewers work part of it
(support routing is reviewed blind-first). The staff passwords are published in this file: the
demo refuses to run outside development.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ethica.demo._bank_models import TrainedSystem, train_system
from ethica.demo._products import generate_products
from ethica.demo._systems import (
    CREDIT_LIMIT,
    PRODUCT_RECOMMENDATIONS,
    SUPPORT_ROUTING,
    bank_specs,
)
from ethica.demo._tickets import generate_tickets
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

#: Customers whose decisions the demo runs through the gateway (three each).
DECIDED_CUSTOMERS = 1000
#: Shares of the demo customers who, before their decisions, ...
OBJECT_TO_AUTOMATION = 0.03  # ... object to automated decisions (GDPR Art. 22)
OBJECT_TO_PROFILING = 0.02  # ... object to profiling (Art. 21)
WITHDRAW_POSTCODE = 0.05  # ... opt out of their postcode being used for credit decisions
WITHDRAW_PERSONALIZATION = 0.05  # ... opt out of personalization
#: Share of final decisions whose true outcome is recorded (the rest is not known yet).
OUTCOME_SHARE = 0.5
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
_APPEAL_ROUTE = "/v1/me/decisions/{decision_id}/appeal"
_PROTECTED = ("sex", "age_band", "origin")


@dataclass
class BankDemo:
    """What :func:`build_bank` created.

    Attributes
    ----------
    database_url
        The SQLAlchemy URL of the demo database.
    decisions
        Decisions recorded per system.
    held
        Decisions waiting for a person.
    consent_changes
        Customers per kind of consent withdrawal or objection recorded before their decisions.
    outcomes
        True outcomes recorded.
    appeals
        Appeals filed, or None when the service has no appeal route.
    reviews
        Review steps the demo reviewers took, by kind (confirmed, overridden, approved).
    seeded
        Seeded review cases with known answers put in the queue, per system.
    seeded_decided
        Seeded cases the demo reviewers decided.
    portal_subject
        A demo customer with a declined credit decision.
    portal_token
        A signed link token for that customer.
    """

    database_url: str
    decisions: dict[str, int] = field(default_factory=dict)
    held: int = 0
    consent_changes: dict[str, int] = field(default_factory=dict)
    outcomes: int = 0
    appeals: int | None = None
    reviews: dict[str, int] = field(default_factory=dict)
    seeded: dict[str, int] = field(default_factory=dict)
    seeded_decided: int = 0
    portal_subject: str = ""
    portal_token: str = ""


def demo_settings(database: Path) -> Any:
    """Return the service settings of the demo database; refuses anything but development."""
    from ethica.service.settings import Settings

    settings = Settings()
    if settings.app.environment != "development":
        raise InputError(
            "the demo creates staff users with published passwords; run it only with "
            f"ETHICA__APP__ENVIRONMENT=development (now {settings.app.environment})"
        )
    url = f"sqlite:///{database}"
    app = settings.app
    if "demo_logins" in type(app).model_fields:
        app = app.model_copy(update={"demo_logins": True})  # sign in as any customer by id
    return settings.model_copy(
        update={"database": settings.database.model_copy(update={"url": url}), "app": app}
    )


def serve_bank(database: Path, *, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Run the service on the demo database until interrupted."""
    import uvicorn

    from ethica.service.app import create_app

    app = create_app(demo_settings(database))
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)


def build_bank(
    database: Path, customers: pd.DataFrame, *, decided: int | None = None, seed: int = 0
) -> BankDemo:
    """Create the demo bank's database at ``database`` (replacing it) and fill it.

    Parameters
    ----------
    database
        The SQLite file; an existing one is deleted first.
    customers
        A frame from :func:`~ethica.demo.generate_customers`; the last ``decided`` customers
        get decisions, the others are the models' training data.
    decided
        Customers whose three decisions go through the gateway; by default
        :data:`DECIDED_CUSTOMERS`, or a fifth of ``customers`` when that is fewer.
    seed
        Seed of the models, the consent choices, the outcomes and the appeals.
    """
    if decided is None:
        decided = min(DECIDED_CUSTOMERS, len(customers) // 5)
    if not 1 <= decided <= len(customers) // 2:
        raise InputError(
            f"decided must be between 1 and half the customers ({len(customers) // 2}); "
            f"got {decided}"
        )
    settings = demo_settings(database)
    trained = _train(customers, decided=decided, seed=seed)
    database.parent.mkdir(parents=True, exist_ok=True)
    for stale in database.parent.glob(f"{database.name}*"):  # the file, its WAL, its locks
        stale.unlink(missing_ok=True)

    from fastapi.testclient import TestClient

    from ethica.service.app import create_app, state_of

    app = create_app(settings)
    demo = BankDemo(database_url=settings.database.url)
    rng = random.Random(seed)
    people = customers.iloc[-decided:].reset_index(drop=True)
    with TestClient(app) as client:
        state = state_of(app)
        _register(state, trained)
        staff = _create_staff(state)
        demo.consent_changes = _consent(state, people, rng)
        rows = _rows(customers, seed=seed).iloc[-decided:].reset_index(drop=True)
        made = _decide(state, rows)
        demo.decisions = {s: sum(1 for d in made if d.system_id == s) for s in trained}
        demo.held = sum(1 for d in made if not d.final)
        demo.outcomes = _outcomes(state, made, rows, rng)
        demo.appeals = _appeals(client, state, made, rng)
        demo.portal_subject = _declined_customer(made)
        demo.portal_token = _link(state, demo.portal_subject)
        training = _rows(customers, seed=seed).iloc[:-decided]
        cases = _seeded(state, training, rng, officer=staff["officer@bank.example"])
        demo.seeded = {s: sum(1 for c in cases if c.system_id == s) for s in SEEDED}
        demo.reviews = _reviews(client, made, rng, spare=demo.portal_subject)
        demo.seeded_decided = _review_seeded(client, cases)
    return demo


def _rows(customers: pd.DataFrame, *, seed: int) -> pd.DataFrame:
    """Every customer with their ticket and product take-up, one row each."""
    tickets = generate_tickets(customers, seed=seed).drop(columns=["customer_id", *_PROTECTED])
    products = generate_products(customers, seed=seed)[["app_logins_month", "product"]]
    return pd.concat(
        [customers, tickets.drop(columns=["postcode_district"]), products], axis=1
    ).reset_index(drop=True)


def _train(customers: pd.DataFrame, *, decided: int, seed: int) -> dict[str, TrainedSystem]:
    specs = bank_specs()
    rows = _rows(customers, seed=seed).iloc[:-decided]
    return {
        CREDIT_LIMIT: train_system(specs[CREDIT_LIMIT], rows, rows["repaid"], seed=seed),
        SUPPORT_ROUTING: train_system(specs[SUPPORT_ROUTING], rows, rows["tier"], seed=seed),
        PRODUCT_RECOMMENDATIONS: train_system(
            specs[PRODUCT_RECOMMENDATIONS], rows, rows["product"], seed=seed
        ),
    }


def _register(state: Any, trained: dict[str, TrainedSystem]) -> None:
    from ethica.explain import TrainingSummary
    from ethica.scoring import dump_model
    from ethica.service.db import unit_of_work
    from ethica.service.systems import service

    with unit_of_work(state.sessions) as session:
        for system in trained.values():
            frame, outcomes = system.training
            summary = TrainingSummary.from_training(
                frame, outcomes, spec=system.spec, favourable=system.favourable
            )
            service.apply_spec(session, spec=system.spec)
            service.add_model_version(
                session,
                system_id=system.spec.id,
                version="2025.1",
                format="lightgbm",
                content=dump_model(system.model, "lightgbm"),
                training_summary=summary.to_dict(),
            )
    for system_id in trained:
        state.gateway.forget_system(system_id)


def _create_staff(state: Any) -> dict[str, str]:
    """Create the demo staff; their user ids by email."""
    from ethica.service.db import unit_of_work
    from ethica.service.users.service import create_user

    with unit_of_work(state.sessions) as session:
        users = [
            create_user(
                session,
                email=login.email,
                name=login.name,
                role=login.role,
                password=login.password,
            )
            for login in STAFF
        ]
        return {user.email: user.id for user in users}


def _consent(state: Any, people: pd.DataFrame, rng: random.Random) -> dict[str, int]:
    """Record withdrawals and objections of some customers, before any decision about them."""
    from ethica.service.consent.service import record_consent, record_objection

    ids = list(people["customer_id"])
    rng.shuffle(ids)
    shares = {
        "objected to automated decisions": OBJECT_TO_AUTOMATION,
        "objected to profiling": OBJECT_TO_PROFILING,
        "withdrew their postcode from credit decisions": WITHDRAW_POSTCODE,
        "opted out of personalization": WITHDRAW_PERSONALIZATION,
    }
    groups: dict[str, list[str]] = {}
    start = 0
    for what, share in shares.items():
        count = max(1, round(share * len(ids)))
        groups[what] = ids[start : start + count]
        start += count

    def job(batch: Any) -> None:
        for subject in groups["objected to automated decisions"]:
            record_objection(batch, subject_id=subject, kind="automated_decision", source="portal")
        for subject in groups["objected to profiling"]:
            record_objection(batch, subject_id=subject, kind="profiling", source="portal")
        for subject in groups["withdrew their postcode from credit decisions"]:
            record_consent(
                batch,
                subject_id=subject,
                data_use_key="finance",
                status="withdrawn",
                data_category_key="user.contact.address.postal_code",
                source="portal",
            )
        for subject in groups["opted out of personalization"]:
            record_consent(
                batch,
                subject_id=subject,
                data_use_key="personalize",
                status="withdrawn",
                source="portal",
            )

    state.gateway.writer.run(job)
    state.gateway.consent.forget()
    return {what: len(subjects) for what, subjects in groups.items()}


def _decide(state: Any, rows: pd.DataFrame) -> list[Any]:
    """Every customer's three decisions, sent concurrently so the ledger commits them in groups."""
    from ethica.service.decisions.schemas import DecisionCreate

    specs = bank_specs()
    requests = []
    for row in rows.to_dict("records"):
        protected = {name: _text(row[name]) for name in _PROTECTED}
        for system_id, spec in specs.items():
            features = {f.name: _plain(row[f.name]) for f in spec.features}
            request = DecisionCreate(
                subject_id=row["customer_id"],
                features=features,
                protected=protected,
            )
            requests.append((system_id, request))
    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(lambda item: state.gateway.decide(*item), requests))


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def _text(value: Any) -> str | None:
    return None if pd.isna(value) else str(value)


def _outcomes(state: Any, made: list[Any], rows: pd.DataFrame, rng: random.Random) -> int:
    """Record what happened afterwards for part of the final, model-made decisions."""
    from ethica.service.decisions.service import record_outcome

    truth = rows.set_index("customer_id")
    known: dict[str, Callable[[str], str]] = {
        CREDIT_LIMIT: lambda c: "repaid" if truth.at[c, "repaid"] == 1 else "defaulted",
        SUPPORT_ROUTING: lambda c: str(truth.at[c, "tier"]),
        PRODUCT_RECOMMENDATIONS: lambda c: str(truth.at[c, "product"]),
    }
    chosen = [
        d for d in made if d.final and d.scored_by == "model" and rng.random() < OUTCOME_SHARE
    ]

    def job(batch: Any) -> None:
        for decision in chosen:
            outcome = known[decision.system_id](decision.subject_id)
            record_outcome(batch, decision_id=decision.id, outcome=outcome)

    state.gateway.writer.run(job)
    return len(chosen)


def _appeals(client: Any, state: Any, made: list[Any], rng: random.Random) -> int | None:
    """File customers' appeals of some automatic decisions through the API; None without it."""
    if _APPEAL_ROUTE not in client.app.openapi()["paths"]:
        return None
    routed = [
        d
        for d in made
        if d.system_id == SUPPORT_ROUTING and d.final and d.outcome == "self-service"
    ]
    filed = 0
    for decision in rng.sample(routed, min(APPEALS, len(routed))):
        _call(
            client,
            _APPEAL_ROUTE.format(decision_id=decision.id),
            _link(state, decision.subject_id),
            {"statement": "My card was blocked abroad; I need to speak to a person."},
        )
        filed += 1
    return filed


def _reviews(client: Any, made: list[Any], rng: random.Random, *, spare: str) -> dict[str, int]:
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


def _seeded(state: Any, training: pd.DataFrame, rng: random.Random, *, officer: str) -> list[Any]:
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
            features = {f.name: _plain(row[f.name]) for f in specs[system_id].features}
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


def _review_seeded(client: Any, cases: list[Any]) -> int:
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


def _declined_customer(made: list[Any]) -> str:
    """Find a customer the model declined credit, with reasons and a counterfactual."""
    for decision in made:
        explanation = decision.explanation or {}
        if (
            decision.system_id == CREDIT_LIMIT
            and decision.outcome == "declined"
            and explanation.get("reasons")
            and explanation.get("counterfactuals")
        ):
            return str(decision.subject_id)
    raise InputError("no demo customer has a declined, explained credit decision")


def _link(state: Any, subject_id: str) -> str:
    from ethica.service.subjects.service import customer_link

    token, _ = customer_link(
        subject_id=subject_id, settings=state.settings.app, minutes=LINK_MINUTES
    )
    return token
