"""A retrained model as a candidate: trained by fairlearn's grid search (a reduction) with
LightGBM, stored as a LightGBM model version, run in shadow, compared, promoted. On SQLite and
PostgreSQL.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from service_testing import Service
from sqlalchemy import select
from test_service_candidates import DECISION, _act, _add, _compare, _entries

from ethica.fairness import audit
from ethica.mitigation import reduced_model, reductions
from ethica.scoring import dump_model
from ethica.service.app import state_of
from ethica.service.candidates.tables import ShadowDecision

lightgbm = pytest.importorskip("lightgbm")


def _people(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Income decides repayment; men earn more, and housing is a proxy for sex."""
    rng = np.random.default_rng(seed)
    sex = rng.choice(["F", "M"], n)
    income = rng.random(n) * 100 + np.where(sex == "M", 15.0, -15.0)
    rent = (sex == "F") ^ (rng.random(n) < 0.1)
    housing = pd.Categorical(np.where(rent, "rent", "own"), categories=["own", "rent"])
    frame = pd.DataFrame({"income": np.round(income, 2), "housing": housing})
    return frame, ((income + rng.normal(0, 10, n)) > 50).astype(int), sex


@pytest.fixture(scope="module")
def models() -> tuple[Any, Any]:
    """The served model and a grid search's under demographic parity, on the same data."""
    frame, label, sex = _people(2_000, seed=0)
    plain = lightgbm.LGBMClassifier(n_estimators=20, verbose=-1).fit(frame, label)
    with warnings.catch_warnings():  # fairlearn's pandas idioms that pandas 3 deprecates
        warnings.simplefilter("ignore")
        fitted = reductions(
            lightgbm.LGBMClassifier(n_estimators=20, verbose=-1),
            frame,
            label,
            sensitive_features=sex,
            criterion="demographic_parity",
            method="grid_search",
            constraint_weight=0.9,
            grid_size=11,
        )
    return plain, reduced_model(fitted)


def test_a_reduced_lightgbm_decides_in_shadow_then_decides_once_promoted(
    service: Callable[..., Service], models: tuple[Any, Any]
) -> None:
    plain, reduced = models
    running = service()
    running.register("credit", decision=DECISION)
    assert running.upload("credit", dump_model(plain, "lightgbm"), format="lightgbm").is_success
    stored = running.client.post(
        "/v1/systems/credit/models",
        params={"version": "2", "format": "lightgbm", "serve": "false"},
        content=dump_model(reduced, "lightgbm"),
        headers=running.headers["admin"],
    )
    assert stored.status_code == 201, stored.text
    name = "LightGBM by grid search under demographic parity"
    added = _add(running, {"name": name, "method": "model", "model_version": "2"})
    assert added.status_code == 201, added.text
    candidate = added.json()

    frame, _, sex = _people(80, seed=1)
    made = []
    for i, (row, group) in enumerate(zip(frame.itertuples(index=False), sex, strict=True)):
        body = {
            "subject_id": f"p{i}",
            "features": {"income": float(row.income), "housing": str(row.housing)},
            "protected": {"sex": str(group)},
        }
        response = running.decide("credit", body)
        assert response.status_code == 201, response.text
        made.append(response.json())
    served_scores = plain.predict_proba(frame)[:, 1]
    shadow_scores = reduced.predict_proba(frame)[:, 1]
    # The customer gets the served model's decision; the candidate's never reaches them.
    for decision, score in zip(made, served_scores, strict=True):
        assert decision["model_version"] == "1"
        assert decision["score"] == pytest.approx(score, rel=1e-9)
        assert decision["outcome"] == ("approved" if score >= 0.5 else "declined")
        assert candidate["id"] not in json.dumps(decision)
    with state_of(running.app).sessions() as session:
        shadow = {
            row.decision_id: (row.outcome, row.score)
            for row in session.scalars(
                select(ShadowDecision).where(ShadowDecision.candidate_id == candidate["id"])
            )
        }
    assert len(shadow) == len(made)
    for decision, score in zip(made, shadow_scores, strict=True):
        outcome, stored_score = shadow[decision["id"]]
        assert stored_score == pytest.approx(score, rel=1e-9)
        assert outcome == ("approved" if score >= 0.5 else "declined")
    served = np.array([d["outcome"] == "approved" for d in made], dtype=int)
    shadowed = np.array([shadow[d["id"]][0] == "approved" for d in made], dtype=int)
    assert (served != shadowed).any()

    # The comparison equals an offline audit of the same decisions.
    shown = _compare(running, candidate["id"])
    assert shown.status_code == 200, shown.text
    result = shown.json()["comparison"]
    assert result["rows"] == len(made)
    for side, decided in (("served", served), ("candidate", shadowed)):
        offline = audit(sensitive_features={"sex": sex}, prediction=decided, min_group_size=1)
        rates = offline.comparisons[offline.comparisons["metric"] == "selection_rate"]
        for row in rates.itertuples():
            mine = next(g for g in result["groups"] if g["group"] == row.group)
            assert mine[f"{side}_rate"] == pytest.approx(row.value, abs=1e-12)
            assert (mine[f"{side}_low"], mine[f"{side}_high"]) == pytest.approx(
                (row.value_low, row.value_high), abs=1e-12
            )
        gap = next(g for g in result["gaps"] if g["side"] == side)
        assert gap["gap"] == pytest.approx(offline.difference("selection_rate"), abs=1e-12)

    body = {
        "reason": "narrows the approval gap by sex without reading sex at decision time",
        "evidence_sha256": shown.json()["evidence_sha256"],
        "as_of": shown.json()["as_of"],
    }
    promoted = _act(running, candidate["id"], "promotion", body, "officer")
    assert promoted.status_code == 201, promoted.text
    (entry,) = _entries(running, "promotion")
    assert (entry["model_version"], entry["method"]) == ("2", "model")

    # Decisions now come from the promoted model.
    after = running.decide(
        "credit", {"features": {"income": 47.5, "housing": "rent"}, "protected": {"sex": "F"}}
    ).json()
    row = pd.DataFrame(
        {"income": [47.5], "housing": pd.Categorical(["rent"], categories=["own", "rent"])}
    )
    assert after["model_version"] == "2"
    assert after["score"] == pytest.approx(reduced.predict_proba(row)[0, 1], rel=1e-9)
    listed = running.client.get(
        "/v1/systems/credit/candidates", headers=running.headers["officer"]
    ).json()
    assert [c["status"] for c in listed["items"]] == ["served"]
