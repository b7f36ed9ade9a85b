"""Candidate mitigations in shadow: never served, compared as an audit would, promoted, rolled
back.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from service_testing import Service
from sqlalchemy import select

from ethica.fairness import audit
from ethica.service.app import state_of
from ethica.service.candidates.tables import ShadowDecision
from ethica.service.ledger.tables import LedgerEntry

DECISION = {"kind": "binary", "threshold": 0.5, "favourable_truth": "repaid"}
#: Group thresholds that approve women from 0.3 and men from 0.6 (deterministic rules).
RULES = [
    {"group": "F", "p0": 1.0, "threshold0": 0.3, "p1": 0.0, "threshold1": 0.3},
    {"group": "M", "p0": 1.0, "threshold0": 0.6, "p1": 0.0, "threshold1": 0.6},
]


def _applicants(n: int, *, seed: int) -> list[dict[str, Any]]:
    rng = np.random.default_rng(seed)
    return [
        {
            "subject_id": f"s-{seed}-{i}",
            "features": {"income": float(rng.random() * 100), "housing": "own"},
            "protected": {"sex": str(rng.choice(["F", "M"]))},
            "score": round(float(rng.random()), 4),
        }
        for i in range(n)
    ]


def _decide_all(running: Service, applicants: list[dict[str, Any]]) -> list[dict[str, Any]]:
    made = []
    for body in applicants:
        response = running.decide("credit", body)
        assert response.status_code == 201, response.text
        made.append(response.json())
    return made


def _add(running: Service, body: dict[str, Any], role: str = "officer") -> Any:
    return running.client.post(
        "/v1/systems/credit/candidates", json=body, headers=running.headers[role]
    )


def _compare(running: Service, candidate: str, **params: Any) -> Any:
    return running.client.get(
        f"/v1/systems/credit/candidates/{candidate}/comparison",
        params=params,
        headers=running.headers["officer"],
    )


def _act(running: Service, candidate: str, act: str, body: dict[str, Any], role: str) -> Any:
    return running.client.post(
        f"/v1/systems/credit/candidates/{candidate}/{act}", json=body, headers=running.headers[role]
    )


def _entries(running: Service, *kinds: str) -> list[dict[str, Any]]:
    with state_of(running.app).sessions() as session:
        rows = session.scalars(
            select(LedgerEntry)
            .where(LedgerEntry.chain == "credit", LedgerEntry.kind.in_(kinds))
            .order_by(LedgerEntry.sequence)
        )
        return [{"kind": row.kind, **json.loads(row.public)} for row in rows]


def _record_outcomes(running: Service, made: list[dict[str, Any]], every: int) -> dict[str, str]:
    truths = {}
    for index, decision in enumerate(made):
        if index % every:
            continue
        truth = "repaid" if index % 3 else "defaulted"
        response = running.client.post(
            f"/v1/decisions/{decision['id']}/outcome",
            json={"outcome": truth},
            headers=running.headers["admin"],
        )
        assert response.status_code == 200, response.text
        truths[decision["id"]] = truth
    return truths


def test_a_threshold_candidate_decides_in_shadow_and_its_comparison_equals_an_offline_audit(
    service: Callable[..., Service],
) -> None:
    running = service()
    running.register("credit", decision=DECISION)
    added = _add(
        running, {"name": "Group thresholds (F 0.3, M 0.6)", "method": "thresholds", "rules": RULES}
    )
    assert added.status_code == 201, added.text
    candidate = added.json()
    assert (candidate["status"], candidate["guard_rail"]) == ("shadow", None)
    applicants = _applicants(120, seed=1)
    made = _decide_all(running, applicants)

    # The served decision is the system's own: approved from 0.5, whatever the candidate says.
    for body, decision in zip(applicants, made, strict=True):
        assert decision["outcome"] == ("approved" if body["score"] >= 0.5 else "declined")
        assert candidate["id"] not in json.dumps(decision)
    for entry in _entries(running, "decision"):
        assert "served_policy" not in entry and candidate["id"] not in json.dumps(entry)
    truths = _record_outcomes(running, made, every=2)

    with state_of(running.app).sessions() as session:
        shadow = {
            row.decision_id: row.outcome
            for row in session.scalars(
                select(ShadowDecision).where(ShadowDecision.candidate_id == candidate["id"])
            )
        }
    expected_shadow = {
        d["id"]: "approved"
        if b["score"] > (0.3 if b["protected"]["sex"] == "F" else 0.6)
        else "declined"
        for b, d in zip(applicants, made, strict=True)
    }
    assert shadow == expected_shadow

    compared = _compare(running, candidate["id"])
    assert compared.status_code == 200, compared.text
    result = compared.json()["comparison"]
    assert result["rows"] == 120

    # The offline audit of the same decisions, from what was sent and what the rules say.
    frame = pd.DataFrame(
        {
            "sex": [b["protected"]["sex"] for b in applicants],
            "served": [int(d["outcome"] == "approved") for d in made],
            "candidate": [int(expected_shadow[d["id"]] == "approved") for d in made],
        }
    )
    for side in ("served", "candidate"):
        offline = audit(frame, sensitive_features=["sex"], prediction=side, min_group_size=1)
        rates = offline.comparisons[offline.comparisons["metric"] == "selection_rate"]
        for row in rates.itertuples():
            mine = next(g for g in result["groups"] if g["group"] == row.group)
            assert mine[f"{side}_rate"] == pytest.approx(row.value, abs=1e-12)
            assert mine[f"{side}_low"] == pytest.approx(row.value_low, abs=1e-12)
            assert mine[f"{side}_high"] == pytest.approx(row.value_high, abs=1e-12)
        gap = next(g for g in result["gaps"] if g["side"] == side)
        assert gap["gap"] == pytest.approx(offline.difference("selection_rate"), abs=1e-12)
        assert gap["low"] < gap["gap"] < gap["high"]
    agree = (frame["served"] == frame["candidate"]).mean()
    assert result["agreement"]["value"] == pytest.approx(agree)
    labelled = [i for i, d in enumerate(made) if d["id"] in truths]
    assert result["accuracy"]["served"]["trials"] == len(labelled)
    truth = np.array([int(truths[made[i]["id"]] == "repaid") for i in labelled])
    for side in ("served", "candidate"):
        right = (frame[side].to_numpy()[labelled] == truth).mean()
        assert result["accuracy"][side]["value"] == pytest.approx(right)


def test_promotion_cites_the_evidence_and_rollback_restores_the_system_threshold(
    service: Callable[..., Service],
) -> None:
    running = service()
    running.register("credit", decision=DECISION)
    candidate = _add(running, {"name": "thresholds", "method": "thresholds", "rules": RULES}).json()
    _decide_all(running, _applicants(40, seed=2))
    shown = _compare(running, candidate["id"]).json()
    evidence = {"evidence_sha256": shown["evidence_sha256"], "as_of": shown["as_of"]}
    reason = {"reason": "closes the approval gap at a cost of 1 point of accuracy"}

    assert _act(running, candidate["id"], "promotion", reason, "officer").status_code == 422
    forbidden = _act(running, candidate["id"], "promotion", {**reason, **evidence}, "admin")
    assert forbidden.status_code == 403, forbidden.text
    other = {**reason, **evidence, "evidence_sha256": "0" * 64}
    assert _act(running, candidate["id"], "promotion", other, "officer").status_code == 409
    assert _entries(running, "promotion") == []
    # The same moment gives the same digest, even after more decisions arrived.
    _decide_all(running, _applicants(5, seed=3))
    again = _compare(running, candidate["id"], as_of=shown["as_of"]).json()
    assert again["evidence_sha256"] == shown["evidence_sha256"]

    promoted = _act(running, candidate["id"], "promotion", {**reason, **evidence}, "officer")
    assert promoted.status_code == 201, promoted.text
    assert promoted.json()["by"].startswith("user:")
    woman = {"features": {"income": 40.0, "housing": "rent"}, "protected": {"sex": "F"}}
    man = {"features": {"income": 40.0, "housing": "rent"}, "protected": {"sex": "M"}}
    served_f = running.decide("credit", {**woman, "score": 0.4}).json()
    served_m = running.decide("credit", {**man, "score": 0.55}).json()
    assert (served_f["outcome"], served_m["outcome"]) == ("approved", "declined")
    twice = _act(running, candidate["id"], "promotion", {**reason, **evidence}, "officer")
    assert twice.status_code == 409

    back = _act(running, candidate["id"], "rollback", {"reason": "complaints"}, "officer")
    assert back.status_code == 201, back.text
    after_f = running.decide("credit", {**woman, "score": 0.4}).json()
    after_m = running.decide("credit", {**man, "score": 0.55}).json()
    assert (after_f["outcome"], after_m["outcome"]) == ("declined", "approved")

    moves = _entries(running, "candidate", "promotion", "rollback")
    assert [m["kind"] for m in moves] == ["candidate", "promotion", "rollback"]
    assert moves[1]["evidence_sha256"] == shown["evidence_sha256"]
    assert moves[1]["reason"] == reason["reason"] and moves[1]["by"] == promoted.json()["by"]
    assert moves[2]["status"] == "rolled_back"
    decided = [e for e in _entries(running, "decision") if e.get("served_policy")]
    assert [e["decision_id"] for e in decided] == [served_f["id"], served_m["id"]]
    verified = running.client.get("/v1/ledger/verification", headers=running.headers["officer"])
    assert verified.json()["ok"] is True, verified.text


def test_where_group_thresholds_are_unlawful_the_candidate_says_so_and_is_never_served(
    service: Callable[..., Service],
) -> None:
    running = service()
    facts = {
        "intended_purpose": "Evaluate the creditworthiness of retail customers.",
        "domain": "creditworthiness",
        "affected": ["customers"],
        "roles": ["deployer"],
        "jurisdictions": ["us"],
    }
    running.register("credit", decision=DECISION, ai_act=facts)
    candidate = _add(running, {"name": "thresholds", "method": "thresholds", "rules": RULES}).json()
    assert "Equal Credit Opportunity Act" in candidate["guard_rail"]
    assert "reweigh" in candidate["guard_rail"]
    _decide_all(running, _applicants(40, seed=4))
    shown = _compare(running, candidate["id"]).json()
    body = {
        "reason": "closes the gap",
        "evidence_sha256": shown["evidence_sha256"],
        "as_of": shown["as_of"],
    }
    refused = _act(running, candidate["id"], "promotion", body, "officer")
    assert refused.status_code == 422, refused.text
    assert "disparate treatment in US credit" in refused.json()["error"]["message"]
    assert _entries(running, "promotion") == []
    listed = running.client.get(
        "/v1/systems/credit/candidates", headers=running.headers["officer"]
    ).json()
    assert [c["status"] for c in listed["items"]] == ["shadow"]


def test_bad_candidates_are_refused_with_what_to_fix(service: Callable[..., Service]) -> None:
    running = service()
    running.register("credit", decision=DECISION)
    both = _add(running, {"name": "x", "method": "thresholds"})
    assert both.status_code == 422 and "criterion" in both.json()["error"]["message"]
    odd = [{"group": "F", "p0": 2.0, "threshold0": 0.3, "p1": -1.0, "threshold1": 0.3}]
    bad = _add(running, {"name": "x", "method": "thresholds", "rules": odd})
    assert bad.status_code == 422 and "probabilities" in bad.json()["error"]["message"]
    unknown = _add(
        running,
        {"name": "x", "method": "thresholds", "rules": RULES, "sensitive_features": ["age"]},
    )
    assert unknown.status_code == 422 and "['sex']" in unknown.json()["error"]["message"]
    missing = _add(running, {"name": "x", "method": "model", "model_version": "9"})
    assert missing.status_code == 404
    reviewer = _add(running, {"name": "x", "method": "thresholds", "rules": RULES}, "reviewer")
    assert reviewer.status_code == 403
    none = _compare(running, "no-such-candidate")
    assert none.status_code == 404


def test_a_withdrawn_candidate_decides_no_more_and_its_withdrawal_is_a_ledger_entry(
    service: Callable[..., Service],
) -> None:
    running = service()
    running.register("credit", decision=DECISION)
    candidate = _add(running, {"name": "thresholds", "method": "thresholds", "rules": RULES}).json()
    _decide_all(running, _applicants(30, seed=5))
    reason = {"reason": "the gap it closes is within the intervals; not worth the randomness"}

    assert _act(running, candidate["id"], "withdrawal", reason, "reviewer").status_code == 403
    blank = _act(running, candidate["id"], "withdrawal", {"reason": "  "}, "officer")
    assert blank.status_code == 422 and "reason" in blank.json()["error"]["message"]
    assert _entries(running, "withdrawal") == []
    withdrawn = _act(running, candidate["id"], "withdrawal", reason, "officer")
    assert withdrawn.status_code == 201, withdrawn.text
    assert (withdrawn.json()["act"], withdrawn.json()["status"]) == ("withdrawal", "withdrawn")

    # It decides beside no later decision, and can be neither withdrawn again nor promoted.
    later = _decide_all(running, _applicants(10, seed=6))
    with state_of(running.app).sessions() as session:
        decided = set(
            session.scalars(
                select(ShadowDecision.decision_id).where(
                    ShadowDecision.candidate_id == candidate["id"]
                )
            )
        )
    assert len(decided) == 30 and not decided & {d["id"] for d in later}
    assert _act(running, candidate["id"], "withdrawal", reason, "officer").status_code == 409
    shown = _compare(running, candidate["id"]).json()
    evidence = {"evidence_sha256": shown["evidence_sha256"], "as_of": shown["as_of"]}
    again = _act(running, candidate["id"], "promotion", {**reason, **evidence}, "officer")
    assert again.status_code == 409, again.text
    assert "only a candidate in shadow" in again.json()["error"]["message"]
    listed = running.client.get(
        "/v1/systems/credit/candidates", headers=running.headers["officer"]
    ).json()
    assert [c["status"] for c in listed["items"]] == ["withdrawn"]

    moves = _entries(running, "candidate", "withdrawal")
    assert [m["kind"] for m in moves] == ["candidate", "withdrawal"]
    assert moves[1]["reason"] == reason["reason"] and moves[1]["by"] == withdrawn.json()["by"]
    assert (moves[1]["status_before"], moves[1]["status"]) == ("shadow", "withdrawn")
    with state_of(running.app).sessions() as session:
        entry = session.scalars(
            select(LedgerEntry).where(
                LedgerEntry.chain == "credit", LedgerEntry.kind == "withdrawal"
            )
        ).one()
        assert (entry.sequence, entry.hash) == (
            withdrawn.json()["ledger"]["sequence"],
            withdrawn.json()["ledger"]["hash"],
        )
    verified = running.client.get("/v1/ledger/verification", headers=running.headers["officer"])
    assert verified.json()["ok"] is True, verified.text
