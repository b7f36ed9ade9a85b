"""Explanations on the decision path, and the fallback for customers who object to profiling."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest
from service_testing import Service, bearer, credit_frame, explained_features
from sqlalchemy import select

from ethica.explain import TrainingSummary
from ethica.governance import parse_spec
from ethica.ledger import KeyRing
from ethica.service import auth
from ethica.service.app import state_of
from ethica.service.db import unit_of_work
from ethica.service.ledger.store import SqlKeyStore, row_entry
from ethica.service.ledger.tables import LedgerEntry


def _started(service: Callable[..., Service], lightgbm_model: Any, **spec: Any) -> Service:
    from service_testing import credit_spec

    from ethica.scoring import dump_model

    running = service()
    running.register("credit", features=explained_features(), **spec)
    upload = running.upload("credit", dump_model(lightgbm_model, "lightgbm"), format="lightgbm")
    assert upload.status_code == 201, upload.text
    frame, label = credit_frame()
    summary = TrainingSummary.from_training(
        frame,
        label,
        spec=parse_spec({**credit_spec(features=explained_features(), **spec), "id": "credit"}),
    )
    stored = running.client.put(
        "/v1/systems/credit/models/1/training-summary",
        json=summary.to_dict(),
        headers=running.headers["admin"],
    )
    assert stored.status_code == 200, stored.text
    return running


def test_an_adverse_decision_is_explained_faithfully_and_a_counterfactual_holds(
    service: Callable[..., Service], lightgbm_model: Any
) -> None:
    running = _started(service, lightgbm_model)
    body = {"subject_id": "cust-7", "features": {"income": 20.0, "housing": "rent"}}
    decision = running.decide("credit", body).json()
    assert decision["outcome"] == "declined"
    explanation = decision["explanation"]
    # The attributions add up to the model's own margin (LightGBM's native contributions).
    booster = lightgbm_model.booster_
    row = pd.DataFrame(
        {"income": [20.0], "housing": pd.Categorical(["rent"], categories=["own", "rent"])}
    )
    native = booster.predict(row, pred_contrib=True)[0]
    margin = booster.predict(row, raw_score=True)[0]
    assert abs(explanation["output"] - margin) < 1e-6
    assert abs(explanation["baseline"] + sum(explanation["contributions"].values()) - margin) < 1e-6
    assert abs(explanation["contributions"]["income"] - native[0]) < 1e-6
    assert explanation["reasons"][0]["feature"] == "income"
    assert "20" in explanation["reasons"][0]["text"]
    # Every counterfactual is confirmed by the model itself, and changes only what may change.
    assert explanation["counterfactuals"], explanation
    for option in explanation["counterfactuals"]:
        assert set(option["changes"]) <= {"income"}
        changed = row.assign(**{k: [float(v["to"])] for k, v in option["changes"].items()})
        assert booster.predict(changed)[0] >= 0.5


def test_the_explanation_is_sealed_in_the_ledger_and_gone_after_erasure(
    service: Callable[..., Service], lightgbm_model: Any
) -> None:
    running = _started(service, lightgbm_model)
    body = {"subject_id": "cust-9", "features": {"income": 12.345, "housing": "rent"}}
    decision = running.decide("credit", body).json()
    state = state_of(running.app)
    with unit_of_work(state.sessions) as session:
        row = session.scalar(
            select(LedgerEntry).where(
                LedgerEntry.chain == "credit",
                LedgerEntry.sequence == decision["ledger"]["sequence"],
            )
        )
        assert row is not None
        assert "12.345" not in row.public and json.loads(row.public)["explanation"] == "sealed"
        master = __import__("base64").b64decode(state.settings.ledger.master_key.get_secret_value())
        opened = KeyRing(master, store=SqlKeyStore(session)).open(row_entry(row))
        assert opened["explanation"] == decision["explanation"]
    officer = running.headers["officer"]
    erased = running.client.post("/v1/subjects/cust-9/erasure", headers=officer)
    assert erased.status_code in (200, 201), erased.text
    again = running.client.get(f"/v1/decisions/{decision['id']}", headers=officer).json()
    assert again["explanation"] is None and again["subject_id"] is None


def _object_to_profiling(running: Service, subject: str) -> None:
    secret = running.settings.app.secret_key.get_secret_value()
    customer = bearer(
        auth.sign_token({"sub": subject, "kind": "customer"}, secret=secret, minutes=5)
    )
    made = running.client.post("/v1/me/objections", json={"kind": "profiling"}, headers=customer)
    assert made.status_code == 201, made.text


def test_an_objection_to_profiling_gets_the_declared_fallback(
    service: Callable[..., Service], lightgbm_model: Any
) -> None:
    running = _started(service, lightgbm_model, fallback={"score": 0.55})
    body = {"subject_id": "cust-3", "features": {"income": 10.0, "housing": "rent"}}
    assert running.decide("credit", body).json()["scored_by"] == "model"
    _object_to_profiling(running, "cust-3")
    decision = running.decide("credit", body).json()
    assert decision["scored_by"] == "fallback"
    assert decision["outcome"] == "approved" and decision["score"] == 0.55
    assert decision["model_version"] is None
    assert decision["explanation"]["method"] == "fallback"
    assert "objected to profiling" in decision["explanation"]["text"]


def test_without_a_declared_fallback_a_profiling_objection_goes_to_a_person(
    service: Callable[..., Service], lightgbm_model: Any
) -> None:
    running = _started(service, lightgbm_model)
    _object_to_profiling(running, "cust-4")
    body = {"subject_id": "cust-4", "features": {"income": 90.0, "housing": "own"}}
    decision = running.decide("credit", body).json()
    assert decision["scored_by"] == "none" and decision["outcome"] == "pending"
    assert decision["review"]["status"] == "pending_review"
    assert "profiling" in decision["review"]["reason"]


def test_the_adverse_action_notice_gives_the_reasons_to_the_customer_only(
    service: Callable[..., Service], lightgbm_model: Any
) -> None:
    running = _started(service, lightgbm_model)
    body = {"subject_id": "cust-5", "features": {"income": 15.0, "housing": "rent"}}
    decision = running.decide("credit", body).json()
    reasons = [r["text"] for r in decision["explanation"]["reasons"]]
    officer = running.headers["officer"]
    text = running.client.get(f"/v1/decisions/{decision['id']}/notice", headers=officer)
    assert text.status_code == 200 and text.headers["content-type"].startswith("text/plain")
    assert all(reason in text.text for reason in reasons)
    page = running.client.get(
        f"/v1/decisions/{decision['id']}/notice", params={"format": "html"}, headers=officer
    )
    assert page.headers["content-type"].startswith("text/html") and "<" in page.text
    secret = running.settings.app.secret_key.get_secret_value()

    def customer(subject: str) -> dict[str, str]:
        token = auth.sign_token({"sub": subject, "kind": "customer"}, secret=secret, minutes=5)
        return bearer(token)

    own = running.client.get(
        f"/v1/me/decisions/{decision['id']}/notice", headers=customer("cust-5")
    )
    assert own.status_code == 200 and reasons[0] in own.text
    other = running.client.get(
        f"/v1/me/decisions/{decision['id']}/notice", headers=customer("cust-6")
    )
    assert other.status_code == 404


def test_an_approvals_notice_says_it_is_in_the_customers_favour_not_reasons_against(
    service: Callable[..., Service], lightgbm_model: Any
) -> None:
    running = _started(service, lightgbm_model)
    body = {"subject_id": "cust-8", "features": {"income": 90.0, "housing": "own"}}
    decision = running.decide("credit", body).json()
    assert decision["outcome"] == "approved" and decision["explanation"]["reasons"] == []
    notice = running.client.get(
        f"/v1/decisions/{decision['id']}/notice", headers=running.headers["officer"]
    ).text
    assert "This decision is in your favour, so this notice lists no reasons against you." in (
        notice
    )
    assert "principal reasons" not in notice and "weighed against you" not in notice


def test_an_adverse_decision_that_cannot_be_explained_is_held_for_a_person(
    service: Callable[..., Service],
) -> None:
    """A high-risk system owes the reasons of a decline: without them, a person decides."""
    pytest.importorskip("skops")
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    from ethica.scoring import dump_model

    frame, label = credit_frame()
    plain = frame.assign(housing=frame["housing"].astype(str))
    encode = ColumnTransformer([("housing", OneHotEncoder(), ["housing"])], remainder="passthrough")
    pipeline = Pipeline([("encode", encode), ("model", LogisticRegression(max_iter=500))])
    pipeline.fit(plain, label)
    running = service()
    # No training summary: a model that is not a tree has no background to be explained against.
    running.register("credit", features=explained_features())
    upload = running.upload("credit", dump_model(pipeline, "skops"), format="skops")
    assert upload.status_code == 201, upload.text

    declined = running.decide("credit", {"features": {"income": 3.0, "housing": "rent"}}).json()
    assert (declined["outcome"], declined["scored_by"]) == ("declined", "model")
    assert declined["review"]["status"] == "pending_review", declined
    assert declined["review"]["reason"] == "UNEXPLAINED"

    approved = running.decide("credit", {"features": {"income": 97.0, "housing": "own"}}).json()
    assert approved["outcome"] == "approved"
    assert approved["review"]["status"] == "automatic", approved
