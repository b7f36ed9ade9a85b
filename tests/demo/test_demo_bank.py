"""`ethica demo --no-serve`: the bank's three systems on the service, with customers' decisions."""

from __future__ import annotations

import base64
import math
import secrets
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from ethica.cli import app
from ethica.demo import PRODUCTS, STAFF, TIERS, bank_specs, generate_customers
from ethica.demo._bank import build_bank
from ethica.demo._bank_models import feature_frame
from ethica.demo._bank_people import APPEALS, CONFIRMED, OVERRIDDEN, SEEDED, SEEDED_CONFIRMED
from ethica.errors import InputError
from ethica.fairness import MissingGroupWarning
from ethica.governance import RankingDecision, load_spec
from ethica.service.consent.tables import ConsentRecord, ObjectionRecord
from ethica.service.db import make_engine, session_factory
from ethica.service.decisions.explanations import SEALED, Explanations
from ethica.service.decisions.tables import Decision
from ethica.service.ledger.epochs import attach_key_file
from ethica.service.reviews.tables import Review, ReviewJudgement, SeededCase
from ethica.service.settings import Settings
from ethica.service.systems.service import get_model
from ethica.service.systems.tables import System
from ethica.service.users.tables import User

# One build of the demo serves every test here (a module fixture), so they share one worker.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("demo_bank")]

CUSTOMERS = 2500  # a fifth, 500, get three decisions each
HISTORY_DAYS = 14  # of the credit-limit system, replayed before today (the demo's default: 120)
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "bank"


@dataclass(frozen=True)
class Demo:
    output: str
    sessions: Any
    customers: pd.DataFrame


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    out = tmp_path_factory.mktemp("demo")
    with warnings.catch_warnings():
        # Origin is not disclosed by everyone: the audit says so, and the CLI prints it.
        warnings.simplefilter("ignore", MissingGroupWarning)
        result = CliRunner().invoke(
            app,
            [
                "demo",
                "--no-serve",
                "--customers",
                str(CUSTOMERS),
                "--history-days",
                str(HISTORY_DAYS),
                "--out",
                str(out),
            ],
        )
    assert result.exit_code == 0, result.output
    url = f"sqlite:///{out / 'ethica.db'}"
    engine = make_engine(url)
    sessions = session_factory(engine)
    # As the service does: the database's key file opens what is sealed (explanations, keys).
    attach_key_file(Settings(database={"url": url}), sessions)
    yield Demo(result.output, sessions, generate_customers(CUSTOMERS, seed=0))
    engine.dispose()


@pytest.fixture
def session(demo: Demo) -> Iterator[Session]:
    with demo.sessions() as session:
        yield session


def decisions(session: Session, system_id: str) -> list[Decision]:
    """Today's decisions of the system about customers (not the seeded cases, not the history)."""
    query = select(Decision).where(
        Decision.system_id == system_id,
        Decision.seeded.is_(False),
        Decision.subject_id.not_like("H%"),
    )
    return list(session.scalars(query))


def test_the_credit_history_is_replayed_reviewed_and_monitored_day_by_day(
    demo: Demo, session: Session
) -> None:
    from ethica.demo._bank_history import PER_DAY
    from ethica.service.monitoring.tables import MonitoringWindow

    history = list(session.scalars(select(Decision).where(Decision.subject_id.like("H%"))))
    assert len(history) == HISTORY_DAYS * PER_DAY
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    days = {(today - d.created_at.astimezone(UTC)).days for d in history}
    # Dated by the replay clock: each of the days before today holds its share.
    assert days == set(range(HISTORY_DAYS))  # whole days back: 0 = yesterday's
    assert all(d.system_id == "credit-limit" for d in history)
    # The demo reviewer confirmed every held decision of the past: none waits in the queue.
    assert not [d for d in history if d.review_status == "pending_review"]
    assert any(d.review_status == "confirmed" for d in history)
    # Outcomes arrive after 60 days: none of these 14 days has one yet.
    assert all(d.true_outcome is None for d in history)
    windows = session.scalars(
        select(MonitoringWindow).where(MonitoringWindow.system_id == "credit-limit")
    ).all()
    assert {w.part for w in windows} == {"decisions", "outcomes", "scores", "features"}
    assert len({w.start for w in windows}) == HISTORY_DAYS
    assert sum(w.rows for w in windows if w.part == "decisions") == len(history)
    # Every replayed customer's inputs were opened from the ledger and counted, by feature.
    features = [w for w in windows if w.part == "features"]
    assert sum(w.rows for w in features) == len(history)
    assert all("postcode_district" in (w.table or {}) for w in features)
    assert f"{len(history):,} decisions replayed" in " ".join(demo.output.split())


def test_the_three_systems_are_registered_with_their_lightgbm_models(session: Session) -> None:
    systems = {s.id: s for s in session.scalars(select(System))}
    assert {s: systems[s].kind for s in systems} == {
        "credit-limit": "binary",
        "support-routing": "multiclass",
        "product-recommendations": "ranking",
    }
    for system in systems.values():
        assert system.model_version is not None
        stored, model = get_model(session, system_id=system.id, version=system.model_version)
        assert stored.format == "lightgbm" and type(model).__module__.startswith("lightgbm")
        assert stored.training_summary is not None and stored.training_summary["ranges"]
    assert systems["credit-limit"].risk_tier == "high"


def test_each_system_is_registered_with_its_classification_in_the_ledger(
    session: Session,
) -> None:
    from ethica.service.governance.service import classification_history

    tiers = {}
    for system_id in ("credit-limit", "support-routing", "product-recommendations"):
        (entry,) = classification_history(session, system_id=system_id)
        assert entry.sequence == 0  # the spec and its classification came in one commit
        assert entry.public["by"] == "demo"
        tiers[system_id] = entry.public["classification"]["tier"]
    assert tiers["credit-limit"] == "high"


def test_the_staff_can_sign_in_with_the_printed_logins(demo: Demo, session: Session) -> None:
    roles = {u.email: u.role for u in session.scalars(select(User))}
    assert roles == {login.email: login.role for login in STAFF}
    assert sorted(roles.values()) == ["admin", "officer", "reviewer", "reviewer"]
    output = " ".join(demo.output.split())  # the table wraps long cells
    for login in STAFF:
        assert login.password in output
    for page in ("/portal/enter?token=", "/console", "/dashboard", "/docs"):
        assert page in output


def test_every_customer_gets_a_decision_of_every_kind(session: Session) -> None:
    for system_id in ("credit-limit", "support-routing", "product-recommendations"):
        made = decisions(session, system_id)
        assert len(made) == CUSTOMERS // 5
        assert len({d.subject_id for d in made}) == len(made)
    credit = {d.outcome for d in decisions(session, "credit-limit")}
    assert {"approved", "declined"} <= credit <= {"approved", "declined", "pending"}
    routed = {d.outcome for d in decisions(session, "support-routing")}
    assert set(TIERS) <= routed <= {*TIERS, "pending"}
    for decision in decisions(session, "product-recommendations"):
        if decision.scored_by == "model":
            ranking = decision.outcome.split(",")
            assert len(ranking) == 3 and len(set(ranking)) == 3 and set(ranking) <= set(PRODUCTS)


def test_some_decisions_are_held_for_a_person_and_some_outcomes_are_known(
    session: Session,
) -> None:
    held = [d for d in session.scalars(select(Decision)) if d.review_status == "pending_review"]
    reasons = {d.review_reason for d in held}
    assert "adverse outcome of a high-risk system" in reasons
    assert "the customer objected to automated decision-making (GDPR Art. 22)" in reasons
    declined = [d for d in decisions(session, "credit-limit") if d.outcome == "declined"]
    # Every decline of this high-risk system goes to a person (some are already reviewed).
    assert declined and all(d.review_status != "automatic" for d in declined)
    known = [d for d in session.scalars(select(Decision)) if d.true_outcome is not None]
    assert known and all(
        d.review_status == "automatic" or d.review_reason == "customer appeal" for d in known
    )
    assert {d.true_outcome for d in known if d.system_id == "credit-limit"} <= {
        "repaid",
        "defaulted",
    }


def test_customers_appeal_automatic_decisions(demo: Demo, session: Session) -> None:
    appealed = list(
        session.scalars(select(Decision).where(Decision.review_reason == "customer appeal"))
    )
    assert len(appealed) == APPEALS
    assert all(d.review_status == "pending_review" and d.subject_id for d in appealed)
    assert f"Appeals filed by customers: {APPEALS}" in demo.output


def test_the_reviewers_worked_part_of_the_queue_with_four_eyes_on_overrides(
    session: Session,
) -> None:
    statuses = [d.review_status for d in decisions(session, "credit-limit")]
    assert statuses.count("confirmed") == CONFIRMED
    # Overriding a high-risk decline needs a second reviewer: one override still waits for it.
    assert statuses.count("overridden") == OVERRIDDEN - 1
    assert statuses.count("awaiting_second_approval") == 1
    overridden = [d for d in decisions(session, "credit-limit") if d.review_status == "overridden"]
    assert all(d.outcome == "approved" for d in overridden)


def test_consent_withdrawals_and_objections_shape_the_decisions(session: Session) -> None:
    automation = {
        o.subject_id
        for o in session.scalars(select(ObjectionRecord))
        if o.kind == "automated_decision"
    }
    assert automation
    for decision in session.scalars(select(Decision).where(Decision.subject_id.in_(automation))):
        assert decision.scored_by == "none" and decision.review_status == "pending_review"
    withdrawn = list(
        session.scalars(select(ConsentRecord).where(ConsentRecord.status == "withdrawn"))
    )
    postcode = {
        r.subject_id for r in withdrawn if r.data_category == "user.contact.address.postal_code"
    } - automation
    assert postcode
    for decision in decisions(session, "credit-limit"):
        withheld = {w["feature"] for w in decision.data["withheld"]}
        assert ("postcode_district" in withheld) == (decision.subject_id in postcode)
    personalization = {r.subject_id for r in withdrawn if r.data_use == "personalize"} - automation
    assert personalization
    fallback = bank_specs()["product-recommendations"].fallback
    assert fallback is not None and fallback.ranking is not None
    for decision in decisions(session, "product-recommendations"):
        if decision.subject_id in personalization:
            assert decision.scored_by == "fallback"
            assert decision.outcome == ",".join(fallback.ranking)


def _explanations(session: Session) -> Explanations:
    """Opens the explanations sealed in the demo's ledger (the demo runs with the dev key)."""
    return Explanations.of_session(session, Settings().ledger.master_key_bytes)


def _customer_row(demo: Demo, subject_id: str, spec: Any) -> pd.DataFrame:
    row = demo.customers[demo.customers["customer_id"] == subject_id]
    return feature_frame(row, spec)


def test_a_declined_credit_decision_is_explained_faithfully_to_the_model(
    demo: Demo, session: Session
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # shap's plotting colours warn on import
        shap = pytest.importorskip("shap")
    spec = bank_specs()["credit-limit"]
    system = session.get(System, "credit-limit")
    assert system is not None and system.model_version is not None
    _, model = get_model(session, system_id="credit-limit", version=system.model_version)
    explainer = shap.TreeExplainer(model)
    declined = [
        d
        for d in decisions(session, "credit-limit")
        if d.outcome == "declined" and d.scored_by == "model" and not d.data["withheld"]
    ]
    assert len(declined) >= 5
    names = [f.name for f in spec.features]
    explanations = _explanations(session)
    for decision in declined[:5]:
        assert decision.explanation == SEALED  # the row keeps a marker, the ledger the rest
        explanation = explanations.explanation(decision)
        assert explanation is not None and explanation["method"] == "lightgbm-treeshap"
        contributions = explanation["contributions"]
        assert set(contributions) == set(names)
        # The explanation records its baseline and output, and they add up.
        total = explanation["baseline"] + math.fsum(contributions.values())
        assert total == pytest.approx(explanation["output"], abs=1e-6)
        row = _customer_row(demo, decision.subject_id or "", spec)
        margin = float(model.predict(row, raw_score=True)[0])
        assert explanation["output"] == pytest.approx(margin, abs=1e-9)
        assert decision.score == pytest.approx(1 / (1 + math.exp(-margin)), abs=1e-12)
        with warnings.catch_warnings():
            # shap warns that binary LightGBM output changed shape; we check the shape here.
            warnings.simplefilter("ignore", UserWarning)
            values = np.asarray(explainer.shap_values(row))
        assert values.shape == (1, len(names))
        values = values[0]
        for j, name in enumerate(names):
            assert contributions[name] == pytest.approx(float(values[j]), abs=1e-6)
        expected = float(np.ravel(explainer.expected_value)[0])
        assert explanation["baseline"] == pytest.approx(expected, abs=1e-6)
        # Reasons: what pushed most towards declining, never the postcode (a proxy for origin).
        adverse = sorted(
            (n for n in names if contributions[n] < 0 and n != "postcode_district"),
            key=lambda n: contributions[n],
        )
        reasons = explanation["reasons"]
        assert [r["feature"] for r in reasons] == adverse[:4]
        for reason in reasons:
            assert reason["contribution"] == pytest.approx(-contributions[reason["feature"]])
            assert reason["text"] and reason["text"] in explanation["text"]


def test_a_credit_counterfactual_is_confirmed_by_the_model(demo: Demo, session: Session) -> None:
    spec = bank_specs()["credit-limit"]
    system = session.get(System, "credit-limit")
    assert system is not None and system.model_version is not None
    _, model = get_model(session, system_id="credit-limit", version=system.model_version)
    actionable = {f.name for f in spec.features if f.actionable}
    confirmed = 0
    explanations = _explanations(session)
    for decision in decisions(session, "credit-limit"):
        explanation = explanations.explanation(decision) or {}
        if decision.outcome != "declined" or not explanation.get("counterfactuals"):
            continue
        if decision.data["withheld"]:
            continue  # the model did not see this customer's postcode: the row below has it
        row = _customer_row(demo, decision.subject_id or "", spec)
        assert float(model.predict(row)[0]) < 0.7
        for option in explanation["counterfactuals"]:
            assert set(option["changes"]) <= actionable
            changed = row.copy()
            for name, change in option["changes"].items():
                assert changed.at[0, name] == pytest.approx(change["from"])
                changed.at[0, name] = change["to"]
            assert float(model.predict(changed)[0]) >= 0.7
            assert option["outcome"] == "approved"
            confirmed += 1
    assert confirmed >= 5


def test_the_examples_are_the_demo_specs_in_yaml() -> None:
    specs = bank_specs()
    files = sorted(p.stem for p in EXAMPLES.glob("*.yaml"))
    assert files == sorted(specs)
    for system_id, spec in specs.items():
        assert load_spec(EXAMPLES / f"{system_id}.yaml") == spec


def test_the_demo_refuses_to_run_outside_development(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ETHICA__APP__ENVIRONMENT", "production")
    monkeypatch.setenv("ETHICA__APP__SECRET_KEY", secrets.token_urlsafe(32))
    for name in ("LEDGER__MASTER_KEY", "LEDGER__SIGNING_KEY"):
        monkeypatch.setenv(f"ETHICA__{name}", base64.b64encode(secrets.token_bytes(32)).decode())
    with pytest.raises(InputError, match="development"):
        build_bank(tmp_path / "ethica.db", generate_customers(100, seed=0))
    assert not (tmp_path / "ethica.db").exists()


def test_a_newcomer_opens_the_three_faces_on_the_demo_database(demo: Demo) -> None:
    import re

    from fastapi.testclient import TestClient

    from ethica.service.app import create_app

    database = demo.sessions.kw["bind"].url.render_as_string(hide_password=False)
    logins = {login.role: login for login in STAFF}
    with TestClient(create_app(Settings(database={"url": database}))) as client:
        link = re.search(r"/portal/enter\?token=[\w.-]+", " ".join(demo.output.split()))
        assert link is not None
        portal = client.get(link.group(0))
        assert portal.status_code == 200 and "Declined" in portal.text

        client.cookies.clear()
        officer = logins["officer"]
        client.post(
            "/login",
            data={**_sign_in_form(client), "email": officer.email, "password": officer.password},
        )
        dashboard = client.get("/dashboard")
        assert dashboard.status_code == 200
        for name in ("Credit limit", "Support", "Product recommendations"):
            assert name in dashboard.text
        # A ranking is counted by the item it put first, not by each distinct list.
        ranking = bank_specs()["product-recommendations"].decision
        assert isinstance(ranking, RankingDecision)
        firsts = set(re.findall(r"[\d,]+ with ([\w ]+?) first", dashboard.text))
        assert firsts and firsts <= {ranking.label(item) for item in PRODUCTS}
        assert ",".join(PRODUCTS[:2]) not in dashboard.text
        for system_id in bank_specs():
            page = client.get(f"/dashboard/systems/{system_id}")
            assert page.status_code == 200, (system_id, page.text[:500])
            assert "decisions in the last 30 days" in page.text
            # Customers who did not disclose their origin: said on the page, audited apart.
            said = "Origin was not given for" in page.text and "is missing on" not in page.text
            assert said or system_id != "credit-limit"
            assert "Add a seeded case" in page.text
        credit = client.get("/dashboard/systems/credit-limit").text
        tally = f"{SEEDED['credit-limit']} seeded cases; {SEEDED_CONFIRMED} decided by reviewers"
        assert tally in credit

        client.cookies.clear()
        reviewer = logins["reviewer"]
        client.post(
            "/login",
            data={**_sign_in_form(client), "email": reviewer.email, "password": reviewer.password},
        )
        queue = client.get("/console")
        assert queue.status_code == 200 and "(page 1 of" in queue.text
        case = re.search(r'href="(/console/cases/[0-9a-f-]+)"', queue.text)
        assert case is not None and client.get(case.group(1)).status_code == 200
        routing = client.get("/console", params={"system": "support-routing"})
        case = re.search(r'href="(/console/cases/[0-9a-f-]+)"', routing.text)
        assert case is not None
        assert "reviewed <strong>blind-first</strong>" in client.get(case.group(1)).text


def test_seeded_cases_with_known_answers_wait_among_real_ones_and_some_are_decided(
    demo: Demo, session: Session
) -> None:
    rows = session.execute(
        select(Decision, SeededCase).join(SeededCase, SeededCase.decision_id == Decision.id)
    ).all()
    per_system = {s: sum(1 for d, _ in rows if d.system_id == s) for s in SEEDED}
    assert per_system == SEEDED
    assert all(d.seeded and d.subject_id is None and d.scored_by == "model" for d, _ in rows)
    tiers = {c.known_outcome for d, c in rows if d.system_id == "support-routing"}
    assert tiers <= set(TIERS)
    assert {c.known_outcome for d, c in rows if d.system_id == "credit-limit"} <= {
        "approved",
        "declined",
    }
    # Reviewers decided some (their steps say whether they matched the known answer); the
    # rest wait in the queue like any held decision.
    seeded_ids = {d.id for d, _ in rows}
    steps = [
        r
        for r in session.scalars(select(Review).where(Review.decision_id.in_(seeded_ids)))
        if r.action in ("confirm", "override")
    ]
    assert len(steps) == SEEDED_CONFIRMED + 1
    assert all(r.matched_known is not None for r in steps)
    waiting = [d for d, _ in rows if d.review_status == "pending_review"]
    assert len(waiting) == len(rows) - len(steps)
    output = " ".join(demo.output.split())
    assert f"{SEEDED_CONFIRMED + 1} decided by the demo reviewers" in output


def test_support_routing_is_reviewed_blind_first(session: Session) -> None:
    spec = bank_specs()["support-routing"]
    assert spec.oversight.blind_first
    stored = session.get(System, "support-routing")
    assert stored is not None and stored.spec["oversight"]["blind_first"] is True
    # The second reviewer's seeded routing case: their own tier recorded before the decision.
    (judgement,) = session.scalars(select(ReviewJudgement))
    decision = session.get(Decision, judgement.decision_id)
    assert decision is not None and decision.system_id == "support-routing" and decision.seeded
    (step,) = session.scalars(select(Review).where(Review.decision_id == decision.id))
    assert step.reviewer_id == judgement.reviewer_id and step.created_at >= judgement.created_at
    # Real routing cases still wait for a reviewer to meet blind-first review in the console.
    assert any(d.review_status == "pending_review" for d in decisions(session, "support-routing"))


def _sign_in_form(client: Any) -> dict[str, str]:
    """The sign-in form's CSRF field, as a browser loading /login gets it."""
    import re

    found = re.search(r'name="csrf" value="([0-9a-f]{64})"', client.get("/login").text)
    assert found is not None
    return {"csrf": found.group(1)}


def test_the_credit_system_has_a_candidate_mitigation_deciding_in_shadow(
    demo: Demo, session: Session
) -> None:
    from ethica.service.candidates.tables import Candidate, ShadowDecision

    (candidate,) = session.scalars(select(Candidate))
    assert (candidate.system_id, candidate.method, candidate.status) == (
        "credit-limit",
        "thresholds",
        "shadow",
    )
    assert candidate.policy["sensitive_features"] == ["origin"]
    assert {"Origin A", "Origin B"} <= {r["group"] for r in candidate.policy["rules"]}
    shadow = list(session.scalars(select(ShadowDecision)))
    credit = {d.id: d for d in decisions(session, "credit-limit")}
    # Every credit decision the model made was also decided by the candidate, beside it.
    by_model = {i for i, d in credit.items() if d.scored_by == "model"}
    assert {s.decision_id for s in shadow} == by_model
    assert candidate.policy["criterion"] == "equal_opportunity"
    assert {s.outcome for s in shadow} == {"approved", "declined"}
    assert "/dashboard/systems/credit-limit/candidates" in " ".join(demo.output.split())
