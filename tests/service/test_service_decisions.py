"""The decision path through the service: scoring, minimization, oversight, idempotency."""

from __future__ import annotations

import random
import threading
from base64 import b64decode
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest
from service_testing import Service, credit_frame, credit_spec
from sqlalchemy import func, select

from ethica.ledger import canonical_json
from ethica.scoring import dump_model
from ethica.service.app import state_of
from ethica.service.db import unit_of_work
from ethica.service.decisions.gateway import Gateway
from ethica.service.decisions.protected import session_cipher
from ethica.service.decisions.schemas import DecisionCreate
from ethica.service.decisions.tables import Decision, ProtectedValue
from ethica.service.ledger.tables import LedgerEntry


def _row(income: float, housing: str) -> pd.DataFrame:
    return pd.DataFrame(
        {"income": [income], "housing": pd.Categorical([housing], categories=["own", "rent"])}
    )


def _count(running: Service, table: Any) -> int:
    with unit_of_work(state_of(running.app).sessions) as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


def test_lightgbm_decisions_match_the_model_and_keep_protected_data_apart(
    service: Callable[..., Service], lightgbm_model: Any, lightgbm_bytes: bytes
) -> None:
    running = service()
    running.register("credit")
    assert running.upload("credit", lightgbm_bytes, format="lightgbm").status_code == 201
    key = running.api_key("decisions:write", "decisions:read")
    body = {
        "subject_id": "cust-1",
        "features": {"income": 81.5, "housing": "rent", "postcode": "N1"},
        "protected": {"sex": "Xenomorph-7"},
    }
    response = running.decide("credit", body, headers=key)
    assert response.status_code == 201, response.text
    decision = response.json()
    expected = float(lightgbm_model.predict_proba(_row(81.5, "rent"))[0, 1])
    assert decision["score"] == pytest.approx(expected, rel=1e-9)
    assert decision["outcome"] == ("approved" if expected >= 0.5 else "declined")
    low = running.decide("credit", {"features": {"income": 3.0, "housing": "own"}}, headers=key)
    low_expected = float(lightgbm_model.predict_proba(_row(3.0, "own"))[0, 1])
    assert low.json()["outcome"] == ("approved" if low_expected >= 0.5 else "declined")
    assert {decision["outcome"], low.json()["outcome"]} == {"approved", "declined"}
    assert decision["model_version"] == "1" and decision["scored_by"] == "model"
    assert decision["data"]["dropped"] == ["postcode"]
    assert sorted(decision["data"]["used"]) == ["housing", "income"]

    with unit_of_work(state_of(running.app).sessions) as session:
        stored = session.scalars(select(ProtectedValue)).all()
        master = b64decode(running.settings.ledger.master_key.get_secret_value())
        cipher = session_cipher(session, master)
        assert [(p.decision_id, p.name, cipher.open(p.name, p.value)) for p in stored] == [
            (decision["id"], "sex", "Xenomorph-7")
        ]
        entry = session.get(LedgerEntry, ("credit", decision["ledger"]["sequence"]))
        assert entry is not None
        assert "Xenomorph-7" not in entry.public and "sex" not in entry.public
        assert "postcode" in entry.public  # dropped names are listed, never their values
        assert "N1" not in entry.public
    assert "Xenomorph-7" not in response.text


def test_the_model_never_sees_protected_attributes(
    service: Callable[..., Service], lightgbm_bytes: bytes
) -> None:
    running = service()
    running.register("credit")
    running.upload("credit", lightgbm_bytes, format="lightgbm")
    gateway = state_of(running.app).gateway
    scorer = gateway._system("credit").scorer
    assert scorer is not None
    seen: list[dict[str, Any]] = []
    original = scorer.score
    scorer.score = lambda features: seen.append(dict(features)) or original(features)  # type: ignore[method-assign]
    body = {"features": {"income": 60.0, "housing": "own"}, "protected": {"sex": "F"}}
    assert running.decide("credit", body).status_code == 201
    assert seen == [{"income": 60.0, "housing": "own"}]


def test_scikit_learn_pipeline_and_xgboost_models_score(service: Callable[..., Service]) -> None:
    pytest.importorskip("skops")
    xgboost = pytest.importorskip("xgboost")
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    frame, label = credit_frame()
    plain = frame.assign(housing=frame["housing"].astype(str))
    pipeline = Pipeline(
        [
            (
                "encode",
                ColumnTransformer(
                    [("housing", OneHotEncoder(), ["housing"])], remainder="passthrough"
                ),
            ),
            ("model", LogisticRegression(max_iter=500)),
        ]
    ).fit(plain, label)
    numeric = pd.DataFrame({"income": frame["income"], "age": np.arange(len(frame)) % 60 + 18.0})
    booster = xgboost.XGBClassifier(n_estimators=10, max_depth=2).fit(numeric, label)

    running = service()
    running.register("pipeline")
    numbers = [
        {"name": "income", "type": "number", "data_category": "user.financial"},
        {"name": "age", "type": "integer", "data_category": "user.demographic"},
    ]
    running.client.put(
        "/v1/systems/boosted",
        json=credit_spec(features=numbers),
        headers=running.headers["admin"],
    )
    assert (
        running.upload("pipeline", dump_model(pipeline, "skops"), format="skops").status_code == 201
    )
    assert (
        running.upload("boosted", dump_model(booster, "xgboost"), format="xgboost").status_code
        == 201
    )

    made = running.decide("pipeline", {"features": {"income": 42.0, "housing": "own"}}).json()
    peer = pipeline.predict_proba(pd.DataFrame({"income": [42.0], "housing": ["own"]}))[0, 1]
    assert made["score"] == pytest.approx(float(peer), rel=1e-9)
    made = running.decide("boosted", {"features": {"income": 77.0, "age": 30}}).json()
    peer = booster.predict_proba(pd.DataFrame({"income": [77.0], "age": [30.0]}))[0, 1]
    assert made["score"] == pytest.approx(float(peer), rel=1e-6)
    assert made["scored_by"] == "model"


def test_caller_scores_without_a_model_and_is_refused_with_one(
    service: Callable[..., Service], lightgbm_bytes: bytes
) -> None:
    running = service()
    running.register("credit")
    made = running.decide("credit", {"features": {"income": 1.0}, "score": 0.7}).json()
    assert (made["outcome"], made["scored_by"], made["model_version"]) == (
        "approved",
        "caller",
        None,
    )
    made = running.decide("credit", {"features": {"income": 1.0}, "score": 0.2}).json()
    assert made["outcome"] == "declined"
    no_score = running.decide("credit", {"features": {"income": 1.0}})
    assert no_score.status_code == 422 and "send the score" in no_score.text
    running.upload("credit", lightgbm_bytes, format="lightgbm")
    # the upload is visible to the very next decision (no stale cache of the system)
    refused = running.decide("credit", {"features": {"income": 1.0}, "score": 0.7})
    assert refused.status_code == 422, refused.text
    assert "do not send a score" in refused.text


def test_oversight_holds_adverse_outcomes_and_the_margin(service: Callable[..., Service]) -> None:
    running = service()
    running.register("held", oversight={"review_adverse": True})
    adverse = running.decide("held", {"score": 0.1}).json()
    assert (adverse["outcome"], adverse["final"]) == ("declined", False)
    assert adverse["review"]["status"] == "pending_review"
    assert "adverse" in adverse["review"]["reason"]
    favourable = running.decide("held", {"score": 0.9}).json()
    assert (favourable["final"], favourable["review"]["status"]) == (True, "automatic")

    running.register("margin", oversight={"margin": 0.1})
    assert running.decide("margin", {"score": 0.55}).json()["final"] is False
    assert running.decide("margin", {"score": 0.45}).json()["final"] is False
    assert running.decide("margin", {"score": 0.75}).json()["final"] is True


def test_sample_rate_follows_a_seeded_generator(service: Callable[..., Service]) -> None:
    running = service()
    running.register("sampled", risk_tier="limited", oversight={"sample_rate": 0.3})
    state = state_of(running.app)
    gateway = Gateway(state.sessions, state.settings, seed=11)
    try:
        held = [
            gateway.decide("sampled", DecisionCreate(score=0.9)).review.status == "pending_review"
            for _ in range(40)
        ]
    finally:
        gateway.close()
    draws = random.Random(11)
    assert held == [draws.random() < 0.3 for _ in range(40)]
    assert 0 < sum(held) < 40


def test_idempotency_keys(service: Callable[..., Service]) -> None:
    running = service()
    running.register("credit")
    body = {"subject_id": "c", "features": {"income": 5.0}, "score": 0.6, "idempotency_key": "k1"}
    first = running.decide("credit", body).json()
    again = running.decide("credit", body).json()
    assert again == first
    by_header = {k: v for k, v in body.items() if k != "idempotency_key"}
    headers = {**running.headers["admin"], "Idempotency-Key": "k1"}
    assert running.decide("credit", by_header, headers=headers).json()["id"] == first["id"]
    other = running.decide("credit", {**body, "score": 0.1})
    assert other.status_code == 409 and "k1" in other.json()["error"]["message"]
    assert _count(running, Decision) == 1


def test_concurrent_retries_of_one_key_record_one_decision(service: Callable[..., Service]) -> None:
    running = service()
    running.register("credit")
    gateway = state_of(running.app).gateway
    request = DecisionCreate(subject_id="c", score=0.8, idempotency_key="same")
    barrier = threading.Barrier(8)
    ids: list[str] = []
    errors: list[BaseException] = []

    def send() -> None:
        barrier.wait()
        try:
            ids.append(gateway.decide("credit", request).id)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(ids) == 8 and len(set(ids)) == 1
    assert _count(running, Decision) == 1


def test_outcomes_are_recorded_once_and_reach_the_ledger(service: Callable[..., Service]) -> None:
    running = service()
    running.register("credit")
    key = running.api_key("decisions:write", "outcomes:write")
    made = running.decide("credit", {"subject_id": "c", "score": 0.8}, headers=key).json()
    url = f"/v1/decisions/{made['id']}/outcome"
    recorded = running.client.post(url, json={"outcome": "repaid"}, headers=key)
    assert recorded.status_code == 200 and recorded.json()["true_outcome"] == "repaid"
    assert running.client.post(url, json={"outcome": "repaid"}, headers=key).status_code == 200
    conflict = running.client.post(url, json={"outcome": "defaulted"}, headers=key)
    assert conflict.status_code == 409 and "repaid" in conflict.text
    missing = running.client.post("/v1/decisions/nope/outcome", json={"outcome": "x"}, headers=key)
    assert missing.status_code == 404
    with unit_of_work(state_of(running.app).sessions) as session:
        kinds = session.execute(
            select(LedgerEntry.kind, LedgerEntry.public).order_by(LedgerEntry.sequence)
        ).all()
    assert [k for k, _ in kinds] == ["decision", "outcome"]
    assert (
        kinds[1][1]
        == canonical_json({"decision_id": made["id"], "true_outcome": "repaid"}).decode()
    )


def test_listing_filters_and_pages(service: Callable[..., Service]) -> None:
    running = service()
    running.register("alpha", oversight={"review_adverse": True})
    running.register("beta")
    made = []
    for i in range(7):
        system = "alpha" if i % 2 == 0 else "beta"
        body = {"subject_id": f"s{i % 3}", "score": 0.9 if i % 3 else 0.1}
        made.append(running.decide(system, body).json())
    headers = running.headers["officer"]

    def listed(**params: Any) -> dict[str, Any]:
        response = running.client.get("/v1/decisions", params=params, headers=headers)
        assert response.status_code == 200, response.text
        return dict(response.json())

    def expect(rows: list[dict[str, Any]], **params: Any) -> None:
        page = listed(**params)
        assert page["total"] == len(rows)
        assert {d["id"] for d in page["items"]} == {d["id"] for d in rows}

    expect(made)
    expect([d for d in made if d["system_id"] == "alpha"], system_id="alpha")
    expect([d for d in made if d["subject_id"] == "s1"], subject_id="s1")
    expect([d for d in made if not d["final"]], review_status="pending_review")
    expect([d for d in made if d["outcome"] == "declined"], outcome="declined")
    middle = datetime.fromisoformat(made[3]["created_at"])
    expect([d for d in made if datetime.fromisoformat(d["created_at"]) >= middle], since=middle)
    expect([d for d in made if datetime.fromisoformat(d["created_at"]) < middle], until=middle)
    future = datetime.now(UTC) + timedelta(days=1)
    expect([], since=future.isoformat())

    pages = [listed(limit=3, offset=offset) for offset in (0, 3, 6)]
    assert [len(p["items"]) for p in pages] == [3, 3, 1]
    assert all(p["total"] == 7 for p in pages)
    ordered = [d["id"] for p in pages for d in p["items"]]
    assert sorted(ordered) == sorted(d["id"] for d in made)
    stamps = [d["created_at"] for p in pages for d in p["items"]]
    assert stamps == sorted(stamps, reverse=True)
    naive = running.client.get("/v1/decisions?since=2024-01-01T00:00:00", headers=headers)
    assert naive.status_code == 422 and "since" in naive.text
    assert running.client.get("/v1/decisions?limit=0", headers=headers).status_code == 422
