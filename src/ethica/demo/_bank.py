"""The demo bank on the service: three systems, staff, and customers' decisions through the gateway.

:func:`build_bank` creates a fresh SQLite database, registers the credit-limit, support-routing
and product-recommendation systems with their LightGBM models, creates the staff users, records
some customers' consent withdrawals and objections, runs every demo customer's three decisions
through the gateway, records true outcomes for part of them, files a few appeals, puts seeded
review cases with known answers in the queue, and has the demo reviewers work part of it
(support routing is reviewed blind-first). Before the customers' decisions, the credit-limit
system's last 120 days are replayed and monitored (:mod:`ethica.demo._bank_history`). The staff
passwords are published in this file: the demo refuses to run outside development.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ethica.demo._bank_consent import record_consent_choices
from ethica.demo._bank_history import HISTORY_DAYS, History, replay_history
from ethica.demo._bank_models import TrainedSystem, feature_frame, train_system
from ethica.demo._bank_people import (
    SEEDED,
    STAFF,
    customer_link_token,
    file_appeals,
    plain,
    protected_text,
    review_seeded,
    review_some,
    seed_cases,
)
from ethica.demo._products import generate_products
from ethica.demo._systems import (
    CREDIT_LIMIT,
    PRODUCT_RECOMMENDATIONS,
    SUPPORT_ROUTING,
    bank_specs,
)
from ethica.demo._tickets import generate_tickets
from ethica.errors import InputError

#: Customers whose decisions the demo runs through the gateway (three each).
DECIDED_CUSTOMERS = 1000
#: Share of final decisions whose true outcome is recorded (the rest is not known yet).
OUTCOME_SHARE = 0.5
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
        Appeals filed by customers.
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
    classifications
        Each system's AI Act classification, in one sentence.
    documents
        The governance documents written (``governance/`` beside the database).
    candidate
        The credit system's candidate mitigation, deciding in shadow beside its decisions.
    history
        The credit-limit system's replayed 120 days (monitored week by week).
    """

    database_url: str
    decisions: dict[str, int] = field(default_factory=dict)
    held: int = 0
    consent_changes: dict[str, int] = field(default_factory=dict)
    outcomes: int = 0
    appeals: int = 0
    reviews: dict[str, int] = field(default_factory=dict)
    seeded: dict[str, int] = field(default_factory=dict)
    seeded_decided: int = 0
    portal_subject: str = ""
    portal_token: str = ""
    classifications: dict[str, str] = field(default_factory=dict)
    documents: list[Path] = field(default_factory=list)
    candidate: str = ""
    history: History | None = None


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
    database: Path,
    customers: pd.DataFrame,
    *,
    decided: int | None = None,
    history_days: int = HISTORY_DAYS,
    seed: int = 0,
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
    history_days
        Days of credit-limit history replayed and monitored before the present (0: none).
    seed
        Seed of the models, the consent choices, the outcomes and the appeals.
    """
    if history_days < 0:
        raise InputError(f"history_days must be 0 or more; got {history_days}")
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

    from ethica.demo._governance import write_governance
    from ethica.service.app import create_app
    from ethica.service.db import utcnow
    from ethica.service.state import state_of

    app = create_app(settings)
    demo = BankDemo(database_url=settings.database.url)
    rng = random.Random(seed)
    people = customers.iloc[-decided:].reset_index(drop=True)
    with TestClient(app) as client:
        state = state_of(app)
        _register(state, trained)
        staff = _create_staff(state)
        reviewer = next(login.email for login in STAFF if login.role == "reviewer")
        if history_days:
            demo.history = replay_history(
                state, now=utcnow(), reviewer_id=staff[reviewer], days=history_days, seed=seed
            )
        demo.consent_changes = record_consent_choices(state, people, rng)
        rows = _rows(customers, seed=seed).iloc[-decided:].reset_index(drop=True)
        history = _rows(customers, seed=seed).iloc[:-decided]
        demo.candidate = _shadow_candidate(
            state, trained[CREDIT_LIMIT], history, by=staff["officer@bank.example"]
        )
        made = _decide(state, rows)
        demo.decisions = {s: sum(1 for d in made if d.system_id == s) for s in trained}
        demo.held = sum(1 for d in made if not d.final)
        demo.outcomes = _outcomes(state, made, rows, rng)
        demo.appeals = file_appeals(client, state, made, rng)
        demo.portal_subject = _declined_customer(made)
        demo.portal_token = customer_link_token(state, demo.portal_subject)
        training = _rows(customers, seed=seed).iloc[:-decided]
        cases = seed_cases(state, training, rng, officer=staff["officer@bank.example"])
        demo.seeded = {s: sum(1 for c in cases if c.system_id == s) for s in SEEDED}
        demo.reviews = review_some(client, made, rng, spare=demo.portal_subject)
        demo.seeded_decided = review_seeded(client, cases)
        demo.classifications, demo.documents = write_governance(
            state, database.parent / "governance", at=utcnow().replace(microsecond=0)
        )
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
    from ethica.service.governance.service import register_system
    from ethica.service.systems import service

    for system in trained.values():  # spec and classification in one commit, as over the API
        spec = system.spec
        state.writer.submit(
            lambda batch, spec=spec: register_system(batch, spec=spec, by="demo")
        ).result()
    with unit_of_work(state.sessions) as session:
        for system in trained.values():
            frame, outcomes = system.training
            summary = TrainingSummary.from_training(
                frame, outcomes, spec=system.spec, favourable=system.favourable
            )
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


def _decide(state: Any, rows: pd.DataFrame) -> list[Any]:
    """Every customer's three decisions, sent concurrently so the ledger commits them in groups."""
    from ethica.service.decisions.schemas import DecisionCreate

    specs = bank_specs()
    requests = []
    for row in rows.to_dict("records"):
        protected = {name: protected_text(row[name]) for name in _PROTECTED}
        for system_id, spec in specs.items():
            features = {f.name: plain(row[f.name]) for f in spec.features}
            request = DecisionCreate(
                subject_id=row["customer_id"],
                features=features,
                protected=protected,
            )
            requests.append((system_id, request))
    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(lambda item: state.gateway.decide(*item), requests))


#: The credit system's candidate: thresholds by origin, where the planted disparity lies.
CANDIDATE_NAME = "Group thresholds by origin for equal opportunity"


def _shadow_candidate(state: Any, credit: TrainedSystem, history: pd.DataFrame, *, by: str) -> str:
    """Group thresholds chosen on the bank's history (everyone's outcome known), in shadow.

    Live outcomes arrive only for approved customers, so the thresholds are chosen where the
    outcome of every customer is known, as ``ethica mitigate`` would on an export of it.
    """
    from ethica.fairness import count_table
    from ethica.mitigation import group_thresholds
    from ethica.service.candidates import service
    from ethica.service.candidates.schemas import CandidateCreate

    decision = credit.spec.decision
    scores = credit.model.predict(feature_frame(history, credit.spec))
    frame = pd.DataFrame(
        {
            "origin": history["origin"].fillna("missing").astype(str).to_numpy(),
            "repaid": history["repaid"].astype(int).to_numpy(),
            "score": scores,
            "approved": (scores >= getattr(decision, "threshold", 0.5)).astype(int),
        }
    )
    table = count_table(
        frame, sensitive_features="origin", label="repaid", prediction="approved", score="score"
    )
    policy = group_thresholds(table, criterion="equal_opportunity")
    rules = [rule.__dict__ for rule in policy.rules.values()]
    create = CandidateCreate(
        name=CANDIDATE_NAME, method="thresholds", rules=rules, sensitive_features=["origin"]
    )
    with state.sessions() as session:
        chosen = service.given_thresholds(
            session, system_id=CREDIT_LIMIT, rules=rules, features=["origin"]
        )
    chosen["criterion"] = "equal_opportunity"
    added = state.gateway.writer.run(
        lambda batch: service.add_candidate(
            batch, system_id=CREDIT_LIMIT, create=create, policy=chosen, by=f"user:{by}"
        )
    )
    state.gateway.forget_system(CREDIT_LIMIT)
    return str(added.id)


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
