"""Live audits of every kind of decision: binary, multiclass and ranking, over a period.

Each test sends decisions through the gateway, audits the log with :func:`audit_live_decisions`
(in the database on PostgreSQL, in memory on SQLite) and compares with a direct audit of the
same decisions as a table: the live log, sealed labels and SQL included, must change nothing.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest
from service_testing import Service, credit_frame

from ethica.errors import InputError
from ethica.fairness import Audit, audit
from ethica.scoring import dump_model
from ethica.service.app import state_of
from ethica.service.db import utcnow
from ethica.service.decisions.live_audit import audit_live_decisions

TIERS = ["basic", "standard", "priority"]
ITEMS = ["savings", "card", "loan"]
GROUPS = ["Fem-ale", "Ma-le", "Non-binary"]


@pytest.fixture(scope="module")
def three_way_model() -> bytes:
    """A LightGBM classifier of three classes (income tertiles), in its text format."""
    lightgbm = pytest.importorskip("lightgbm")
    frame, _ = credit_frame(600, seed=1)
    label = np.digitize(frame["income"], [33.0, 66.0])
    model = lightgbm.LGBMClassifier(n_estimators=15, verbose=-1).fit(frame, label)
    return dump_model(model, "lightgbm")


def _registered(service: Callable[..., Service], model: bytes, decision: dict[str, Any]) -> Service:
    running = service()
    running.register("sys", risk_tier="limited", decision=decision)
    upload = running.upload("sys", model, format="lightgbm")
    assert upload.status_code == 201, upload.text
    return running


def _decide_many(running: Service, n: int = 90, *, seed: int = 5) -> list[dict[str, Any]]:
    """Decisions whose income differs by group, so the groups get different outcomes."""
    rng = np.random.default_rng(seed)
    made = []
    for i in range(n):
        group = GROUPS[i % 3]
        income = float(np.clip(rng.normal(30.0 + 20.0 * (i % 3), 20.0), 0, 100))
        body = {
            "subject_id": f"s-{i}",
            "features": {"income": income, "housing": ["own", "rent"][i % 2]},
            "protected": {"sex": group},
        }
        response = running.decide("sys", body)
        assert response.status_code == 201, response.text
        made.append({"sex": group, **response.json()})
    return made


def _live(running: Service, database_url: str, **kwargs: Any) -> Audit:
    master = base64.b64decode(running.settings.ledger.master_key.get_secret_value())
    with state_of(running.app).sessions() as session:
        return audit_live_decisions(
            session, database_url=database_url, master_key=master, system_id="sys", **kwargs
        )


def _same_by_group(live: Audit, direct: Audit) -> None:
    ours, theirs = live.by_group("sex"), direct.by_group("sex")
    assert list(ours.index) == list(theirs.index) == GROUPS
    assert list(ours.columns) == list(theirs.columns)
    numeric = ours.select_dtypes("number").columns
    assert len(numeric) > 1
    np.testing.assert_allclose(
        ours[numeric].to_numpy(float), theirs[numeric].to_numpy(float), atol=1e-12
    )


def test_a_multiclass_system_is_audited_by_class_as_a_direct_audit_would(
    service: Callable[..., Service], database_url: str, three_way_model: bytes
) -> None:
    running = _registered(
        service, three_way_model, {"kind": "multiclass", "classes": TIERS, "adverse": ["basic"]}
    )
    made = _decide_many(running)
    assert {m["outcome"] for m in made} == set(TIERS)
    live = _live(running, database_url)
    assert live.table.kind == "multiclass" and live.table.classes == tuple(TIERS)
    frame = pd.DataFrame({"sex": [m["sex"] for m in made], "tier": [m["outcome"] for m in made]})
    direct = audit(
        frame,
        sensitive_features=["sex"],
        prediction="tier",
        kind="multiclass",
        options={"classes": TIERS},
    )
    _same_by_group(live, direct)
    rates = live.by_group("sex")
    assert rates.filter(like="basic").iloc[:, 0].nunique() > 1  # the groups differ


def test_a_multiclass_audit_with_outcomes_uses_the_true_classes(
    service: Callable[..., Service], database_url: str, three_way_model: bytes
) -> None:
    running = _registered(service, three_way_model, {"kind": "multiclass", "classes": TIERS})
    made = _decide_many(running, 60)
    truths = {}
    for i, decision in enumerate(made[:45]):
        truth = TIERS[(i // 3) % 3]
        truths[decision["id"]] = truth
        recorded = running.client.post(
            f"/v1/decisions/{decision['id']}/outcome",
            json={"outcome": truth},
            headers=running.headers["admin"],
        )
        assert recorded.status_code in (200, 201), recorded.text
    live = _live(running, database_url, with_outcomes=True)
    assert live.table.rows == 45
    labelled = [m for m in made if m["id"] in truths]
    frame = pd.DataFrame(
        {
            "sex": [m["sex"] for m in labelled],
            "tier": [m["outcome"] for m in labelled],
            "truth": [truths[m["id"]] for m in labelled],
        }
    )
    direct = audit(
        frame,
        sensitive_features=["sex"],
        prediction="tier",
        label="truth",
        kind="multiclass",
        options={"classes": TIERS},
    )
    _same_by_group(live, direct)


def test_a_ranking_is_audited_one_item_at_a_time_by_its_position(
    service: Callable[..., Service], database_url: str, three_way_model: bytes
) -> None:
    running = _registered(service, three_way_model, {"kind": "ranking", "top_k": 2, "items": ITEMS})
    made = _decide_many(running)
    lists = [m["outcome"].split(",") for m in made]
    assert all(len(ranked) == 2 for ranked in lists)
    for item in ITEMS:
        live = _live(running, database_url, item=item)
        assert live.table.kind == "ranking"
        positions = [ranked.index(item) + 1 if item in ranked else 3 for ranked in lists]
        frame = pd.DataFrame({"sex": [m["sex"] for m in made], "position": positions})
        direct = audit(
            frame,
            sensitive_features=["sex"],
            prediction="position",
            kind="ranking",
            options={"max_position": 2, "top_k": (1, 2)},
        )
        _same_by_group(live, direct)
    top = _live(running, database_url, item="loan").by_group("sex")["in_top_k[2]"]
    assert top.nunique() > 1  # income differs by group, and so does who is offered the loan


def test_a_period_bounds_the_audit_and_pending_decisions_are_left_out(
    service: Callable[..., Service], database_url: str, three_way_model: bytes
) -> None:
    running = _registered(service, three_way_model, {"kind": "multiclass", "classes": TIERS})
    made = _decide_many(running, 60)
    suspended = running.client.post(
        "/v1/systems/sys/suspension", json={"reason": "audit"}, headers=running.headers["officer"]
    )
    assert suspended.status_code == 201, suspended.text
    held = running.decide("sys", {"subject_id": "x", "features": {"income": 50.0}})
    assert held.json()["outcome"] == "pending"
    assert _live(running, database_url).table.rows == len(made)
    now = utcnow()
    assert _live(running, database_url, until=now + timedelta(minutes=1)).table.rows == 60
    with pytest.raises(InputError, match="no decisions in this period|no rows"):
        _live(running, database_url, since=now + timedelta(minutes=1))


def test_the_audit_says_what_it_cannot_do(
    service: Callable[..., Service], database_url: str, three_way_model: bytes
) -> None:
    running = _registered(service, three_way_model, {"kind": "ranking", "top_k": 2, "items": ITEMS})
    with pytest.raises(InputError, match="one item at a time: pass item= one of"):
        _live(running, database_url)
    with pytest.raises(InputError, match="not 'mortgage'"):
        _live(running, database_url, item="mortgage")
    with pytest.raises(InputError, match="uses no recorded outcomes"):
        _live(running, database_url, item="loan", with_outcomes=True)
    running.register("sys", decision={"kind": "score"})
    with pytest.raises(InputError, match="is a score system"):
        _live(running, database_url)
