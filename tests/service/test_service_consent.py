"""Consent through the service: notices, choices, objections, GPC, and their effect on decisions."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest
from service_testing import Service, bearer, credit_spec
from sqlalchemy import func, select

from ethica.governance import parse_spec
from ethica.service import auth
from ethica.service.app import state_of
from ethica.service.consent.hook import SqlConsentHook
from ethica.service.consent.tables import ConsentRecord, NoticeVersion, ObjectionRecord
from ethica.service.db import unit_of_work
from ethica.service.ledger.tables import LedgerEntry

INCOME_DEFAULT = 20.0


def _features(**changes: Any) -> list[dict[str, Any]]:
    features: list[dict[str, Any]] = credit_spec()["features"]
    features[0] = {**features[0], "default": INCOME_DEFAULT, **changes}
    return features


def _row(income: float, housing: str) -> pd.DataFrame:
    return pd.DataFrame(
        {"income": [income], "housing": pd.Categorical([housing], categories=["own", "rent"])}
    )


def _customer(running: Service, subject: str) -> dict[str, str]:
    secret = running.settings.app.secret_key.get_secret_value()
    return bearer(auth.sign_token({"sub": subject, "kind": "customer"}, secret=secret, minutes=5))


def _started(service: Callable[..., Service], lightgbm_bytes: bytes, **spec: Any) -> Service:
    running = service()
    running.register("credit", features=_features(), **spec)
    assert running.upload("credit", lightgbm_bytes, format="lightgbm").status_code == 201
    return running


def _decide(running: Service, subject: str | None, income: float = 90.0) -> dict[str, Any]:
    body = {"subject_id": subject, "features": {"income": income, "housing": "own"}}
    response = running.decide("credit", body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def _withheld(decision: dict[str, Any]) -> dict[str, str]:
    return {w["feature"]: w["reason"] for w in decision["data"]["withheld"]}


def _count(running: Service, table: Any) -> int:
    with unit_of_work(state_of(running.app).sessions) as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


def test_a_withdrawn_category_is_withheld_from_the_very_next_decision(
    service: Callable[..., Service], lightgbm_model: Any, lightgbm_bytes: bytes
) -> None:
    running = _started(service, lightgbm_bytes)
    customer = _customer(running, "cust-1")
    before = _decide(running, "cust-1")
    assert _withheld(before) == {}
    assert before["score"] == pytest.approx(
        float(lightgbm_model.predict_proba(_row(90.0, "own"))[0, 1]), rel=1e-9
    )

    withdrawn = running.client.post(
        "/v1/me/consent",
        json={"data_use": "finance", "status": "withdrawn", "data_category": "user.financial"},
        headers=customer,
    )
    assert withdrawn.status_code == 201, withdrawn.text
    [record] = withdrawn.json()["items"]
    assert (record["subject_id"], record["source"], record["status"]) == (
        "cust-1",
        "portal",
        "withdrawn",
    )

    after = _decide(running, "cust-1")
    reasons = _withheld(after)
    assert list(reasons) == ["income"]  # housing (user.demographic) is still used
    assert "user.financial" in reasons["income"] and "finance" in reasons["income"]
    assert after["data"]["used"] == ["housing"]
    # The model received the declared default instead of the customer's income.
    expected = float(lightgbm_model.predict_proba(_row(INCOME_DEFAULT, "own"))[0, 1])
    assert after["score"] == pytest.approx(expected, rel=1e-9)
    assert expected != pytest.approx(before["score"])
    assert after["consent_version"] != before["consent_version"]
    # Another customer is unaffected.
    assert _withheld(_decide(running, "cust-2")) == {}

    granted = running.client.post(
        "/v1/me/consent",
        json={"data_use": "finance", "status": "granted", "data_category": "user.financial"},
        headers=customer,
    )
    assert granted.status_code == 201
    again = _decide(running, "cust-1")
    assert _withheld(again) == {}
    assert again["consent_version"] not in (before["consent_version"], after["consent_version"])


def test_an_objection_to_automation_sends_the_next_decision_to_a_person(
    service: Callable[..., Service], lightgbm_bytes: bytes
) -> None:
    running = _started(service, lightgbm_bytes)
    app = running.api_key("consent:write")
    assert _decide(running, "cust-1")["review"]["status"] == "automatic"

    objected = running.client.post(
        "/v1/subjects/cust-1/objections", json={"kind": "automated_decision"}, headers=app
    )
    assert objected.status_code == 201, objected.text
    assert objected.json()["active"] is True and objected.json()["source"] == "api"
    # Tracked as a data subject request with its statutory deadline, complete at once.
    requests = running.client.get(
        "/v1/requests", params={"subject_id": "cust-1"}, headers=running.headers["officer"]
    ).json()
    objections = [r for r in requests["items"] if r["kind"] == "objection"]
    assert len(objections) == 1 and objections[0]["status"] == "completed"
    assert objections[0]["overdue"] is False
    held = _decide(running, "cust-1")
    assert held["review"]["status"] == "pending_review"
    assert "Art. 22" in held["review"]["reason"]
    assert held["final"] is False
    # GDPR Art. 22: no model at all; the outcome waits for the person who decides.
    assert held["scored_by"] == "none"
    assert held["outcome"] == "pending" and held["score"] is None and held["explanation"] is None
    # An objection to profiling does not hold decisions for review.
    assert _decide(running, "cust-2")["review"]["status"] == "automatic"

    lifted = running.client.post(
        "/v1/me/objections",
        json={"kind": "automated_decision", "active": False},
        headers=_customer(running, "cust-1"),
    )
    assert lifted.status_code == 201 and lifted.json()["source"] == "portal"
    assert _decide(running, "cust-1")["review"]["status"] == "automatic"

    history = running.client.get("/v1/subjects/cust-1/consent", headers=app).json()
    assert [o["active"] for o in history["objections"]] == [False, True]  # newest first


def test_consent_basis_needs_a_grant_under_the_current_notice(
    service: Callable[..., Service], lightgbm_bytes: bytes
) -> None:
    running = _started(service, lightgbm_bytes, legal_basis="consent")
    officer = running.headers["officer"]
    customer = _customer(running, "cust-1")

    # No record and no subject: every feature is withheld for lack of consent.
    for subject in ("cust-1", None):
        reasons = _withheld(_decide(running, subject))
        assert set(reasons) == {"income", "housing"}
        assert all("no consent" in reason for reason in reasons.values())

    first = running.client.put(
        "/v1/notices/finance", json={"kind": "opt_in", "text": "We use your data."}, headers=officer
    )
    assert first.status_code == 201, first.text
    assert (first.json()["version"], first.json()["min_consent_version"]) == (1, 1)
    same = running.client.put(
        "/v1/notices/finance", json={"kind": "opt_in", "text": "We use your data."}, headers=officer
    )
    assert same.status_code == 200 and same.json()["version"] == 1

    grant = running.client.post(
        "/v1/me/consent", json={"data_use": "finance", "status": "granted"}, headers=customer
    )
    assert grant.status_code == 201, grant.text
    assert grant.json()["items"][0]["notice_version"] == 1  # the version the customer was shown
    granted = _decide(running, "cust-1")
    assert _withheld(granted) == {}

    # A minor rewording keeps the grant; a material one asks for fresh consent.
    minor = running.client.put(
        "/v1/notices/finance", json={"kind": "opt_in", "text": "We use your data!"}, headers=officer
    )
    assert minor.status_code == 201 and minor.json()["min_consent_version"] == 1
    assert _withheld(_decide(running, "cust-1")) == {}
    material = running.client.put(
        "/v1/notices/finance",
        json={"kind": "opt_in", "text": "We share your data.", "fresh_consent": True},
        headers=officer,
    )
    assert material.status_code == 201
    assert (material.json()["version"], material.json()["min_consent_version"]) == (3, 3)
    stale = _decide(running, "cust-1")
    assert set(_withheld(stale)) == {"income", "housing"}
    assert all("notice v1" in r and "v3" in r for r in _withheld(stale).values())
    assert stale["consent_version"] != granted["consent_version"]

    too_new = running.client.post(
        "/v1/me/consent",
        json={"data_use": "finance", "status": "granted", "notice_version": 4},
        headers=customer,
    )
    assert too_new.status_code == 422 and "versions 1 to 3" in too_new.text
    regrant = running.client.post(
        "/v1/me/consent",
        json={"data_use": "finance", "status": "granted", "notice_version": 3},
        headers=customer,
    )
    assert regrant.status_code == 201
    assert _withheld(_decide(running, "cust-1")) == {}

    listed = running.client.get("/v1/notices", headers=running.headers["reviewer"]).json()
    assert [(n["data_use"], n["version"]) for n in listed["items"]] == [("finance", 3)]
    every = running.client.get(
        "/v1/notices", params={"every_version": "true"}, headers=officer
    ).json()
    assert sorted(n["version"] for n in every["items"]) == [1, 2, 3]
    assert [n["text"] for n in every["items"] if n["version"] == 1] == ["We use your data."]


def test_global_privacy_control_withdraws_the_gpc_uses(
    service: Callable[..., Service], lightgbm_bytes: bytes
) -> None:
    running = _started(service, lightgbm_bytes)
    running.register("offers", purpose="marketing.advertising", legal_basis="legitimate_interests")
    officer = running.headers["officer"]
    running.client.put(
        "/v1/notices/marketing", json={"kind": "opt_out", "text": "Offers."}, headers=officer
    )

    by_header = running.client.post(
        "/v1/me/consent", json={}, headers={**_customer(running, "cust-1"), "Sec-GPC": "1"}
    )
    assert by_header.status_code == 201, by_header.text
    records = by_header.json()["items"]
    assert sorted(r["data_use"] for r in records) == [
        "marketing",
        "personalize",
        "third_party_sharing",
    ]
    assert {(r["status"], r["source"]) for r in records} == {("withdrawn", "gpc")}
    notice_versions = {r["data_use"]: r["notice_version"] for r in records}
    assert notice_versions == {"marketing": 1, "personalize": None, "third_party_sharing": None}

    app = running.api_key("consent:write", "decisions:write")
    by_body = running.client.post("/v1/subjects/cust-2/consent", json={"gpc": True}, headers=app)
    assert by_body.status_code == 201
    assert len(by_body.json()["items"]) == 3
    empty = running.client.post("/v1/subjects/cust-3/consent", json={}, headers=app)
    assert empty.status_code == 422 and "Global Privacy Control" in empty.text

    for subject in ("cust-1", "cust-2"):
        offer = running.client.post(
            "/v1/systems/offers/decisions",
            json={"subject_id": subject, "score": 0.9, "features": {"income": 50.0}},
            headers=app,
        )
        assert offer.status_code == 201, offer.text
        assert set(_withheld(offer.json())) == {"income", "housing"}
    # GPC does not reach a credit decision (finance is not a GPC use).
    assert _withheld(_decide(running, "cust-1")) == {}


def test_every_change_is_in_the_ledger_with_no_personal_values(
    service: Callable[..., Service], lightgbm_bytes: bytes
) -> None:
    running = _started(service, lightgbm_bytes)
    app = running.api_key("consent:write")
    customer = _customer(running, "cust-1")
    calls = [
        running.client.put(
            "/v1/notices/finance",
            json={"kind": "opt_out", "text": "Credit scoring."},
            headers=running.headers["officer"],
        ),
        running.client.post(
            "/v1/subjects/cust-1/consent",
            json={"data_use": "finance", "status": "withdrawn", "source": "agent"},
            headers=app,
        ),
        running.client.post("/v1/me/consent", json={"gpc": True}, headers=customer),
        running.client.post("/v1/me/objections", json={"kind": "profiling"}, headers=customer),
    ]
    assert [c.status_code for c in calls] == [201, 201, 201, 201]

    with unit_of_work(state_of(running.app).sessions) as session:
        entries = {
            e.sequence: e
            for e in session.scalars(select(LedgerEntry).where(LedgerEntry.chain == "consent"))
        }
        rows: list[Any] = [
            *session.scalars(select(NoticeVersion)),
            *session.scalars(select(ConsentRecord)),
            *session.scalars(select(ObjectionRecord)),
        ]
    assert len(rows) == len(entries) == 1 + 1 + 3 + 1
    named = running.key_prefix("cust-1").rstrip("#")  # entries name cust-1 by pseudonym
    for row in rows:
        entry = entries[row.ledger_sequence]
        assert entry.hash == row.ledger_hash
        assert entry.sealed_ciphertext is None  # nothing personal, not even the subject id
        public = json.loads(entry.public)
        if isinstance(row, NoticeVersion):
            assert (entry.kind, entry.subject) == ("notice", None)
            assert (public["data_use"], public["version"]) == (row.data_use, row.version)
        elif isinstance(row, ConsentRecord):
            assert (entry.kind, entry.subject) == ("consent", named)
            assert {k: public[k] for k in ("data_use", "status", "notice_version", "source")} == {
                "data_use": row.data_use,
                "status": row.status,
                "notice_version": row.notice_version,
                "source": row.source,
            }
        else:
            assert (entry.kind, entry.subject) == ("objection", named)
            assert (public["kind"], public["active"]) == ("profiling", True)
    history = running.client.get("/v1/me/consent", headers=customer).json()
    assert {r["ledger"]["sequence"] for r in history["records"]} == {
        r.ledger_sequence for r in rows if isinstance(r, ConsentRecord)
    }
    verified = running.client.get("/v1/ledger/verification", headers=running.headers["officer"])
    assert verified.json()["ok"] is True, verified.json()
    assert verified.json()["heads"]["consent"] == max(entries)


def test_customers_and_staff_cannot_touch_another_subjects_consent(
    service: Callable[..., Service], lightgbm_bytes: bytes
) -> None:
    running = _started(service, lightgbm_bytes)
    app = running.api_key("consent:write")
    alice, bob = _customer(running, "alice"), _customer(running, "bob")
    written = running.client.post(
        "/v1/subjects/bob/consent", json={"data_use": "finance", "status": "granted"}, headers=app
    )
    assert written.status_code == 201
    choice = {"data_use": "finance", "status": "withdrawn"}
    for method, path in (
        ("POST", "/v1/subjects/bob/consent"),
        ("GET", "/v1/subjects/bob/consent"),
        ("POST", "/v1/subjects/bob/objections"),
    ):
        body = {"kind": "profiling"} if path.endswith("objections") else choice
        for headers in (alice, running.headers["reviewer"], running.headers["officer"]):
            response = running.client.request(method, path, json=body, headers=headers)
            assert response.status_code == 403, (method, path, response.text)
    assert (
        running.client.put(
            "/v1/notices/finance", json={"kind": "opt_in", "text": "x"}, headers=alice
        ).status_code
        == 403
    )
    # A customer's own view never shows another customer's records.
    assert running.client.get("/v1/me/consent", headers=alice).json()["records"] == []
    assert len(running.client.get("/v1/me/consent", headers=bob).json()["records"]) == 1
    assert running.client.post("/v1/me/consent", json=choice, headers=alice).status_code == 201
    bobs = running.client.get("/v1/subjects/bob/consent", headers=app).json()["records"]
    assert [r["status"] for r in bobs] == ["granted"]


def test_bad_choices_are_refused_and_write_nothing(
    service: Callable[..., Service], lightgbm_bytes: bytes
) -> None:
    running = _started(service, lightgbm_bytes)
    app = running.api_key("consent:write")
    before = _count(running, LedgerEntry)
    refused = {
        "unknown use": {"data_use": "marketng", "status": "granted"},
        "unknown category": {"data_use": "finance", "status": "granted", "data_category": "usr"},
        "no status": {"data_use": "finance"},
        "no notice": {"data_use": "finance", "status": "granted", "notice_version": 1},
        "bad status": {"data_use": "finance", "status": "maybe"},
        "gpc as source": {"data_use": "finance", "status": "granted", "source": "gpc"},
    }
    for name, body in refused.items():
        response = running.client.post("/v1/subjects/cust-1/consent", json=body, headers=app)
        assert response.status_code == 422, (name, response.text)
    suggestion = running.client.post(
        "/v1/subjects/cust-1/consent", json=refused["unknown use"], headers=app
    )
    assert "marketing" in suggestion.json()["error"]["message"]
    notice = running.client.put(
        "/v1/notices/not.a.use", json={"kind": "opt_in", "text": "x"}, headers=app
    )
    assert notice.status_code == 403
    unknown = running.client.put(
        "/v1/notices/not.a.use",
        json={"kind": "opt_in", "text": "x"},
        headers=running.headers["officer"],
    )
    assert unknown.status_code == 422
    assert _count(running, LedgerEntry) == before
    assert _count(running, ConsentRecord) == _count(running, NoticeVersion) == 0


def test_the_hook_reports_profiling_objections_and_opt_outs_of_personalization(
    service: Callable[..., Service],
) -> None:
    running = service()
    customer = _customer(running, "cust-1")
    spec = parse_spec(
        {
            **credit_spec(),
            "id": "feed",
            "purpose": "personalize.content",
            "legal_basis": "legitimate_interests",
        }
    )
    hook = state_of(running.app).gateway.consent  # the gateway's own: changes reach it at once
    assert isinstance(hook, SqlConsentHook)

    def check(subject: str | None = "cust-1") -> Any:
        with state_of(running.app).sessions() as session:
            return hook.check(session, spec=spec, subject_id=subject)

    start = check()
    assert (start.withhold, start.objects_to_profiling, start.objects_to_automation) == (
        {},
        False,
        False,
    )
    assert check(None).withhold == {}  # legitimate interests: nothing needs consent

    objected = running.client.post(
        "/v1/me/objections", json={"kind": "profiling"}, headers=customer
    )
    assert objected.status_code == 201
    profiling = check()
    assert profiling.objects_to_profiling and not profiling.objects_to_automation
    assert profiling.withhold == {}
    assert profiling.version != start.version
    assert not check("cust-2").objects_to_profiling

    # An objection scoped to another data use does not apply here.
    running.client.post(
        "/v1/me/objections",
        json={"kind": "automated_decision", "data_use": "finance"},
        headers=customer,
    )
    assert not check().objects_to_automation

    running.client.post(
        "/v1/me/objections", json={"kind": "profiling", "active": False}, headers=customer
    )
    assert not check().objects_to_profiling
    # Opting out of personalization as a whole also counts as objecting to profiling.
    running.client.post(
        "/v1/me/consent", json={"data_use": "personalize", "status": "withdrawn"}, headers=customer
    )
    opted_out = check()
    assert opted_out.objects_to_profiling
    assert set(opted_out.withhold) == {"income", "housing"}


def test_one_query_for_a_batch_gives_each_subject_their_own_state(
    service: Callable[..., Service],
) -> None:
    running = service()
    spec = parse_spec(
        {
            **credit_spec(),
            "id": "feed",
            "purpose": "personalize.content",
            "legal_basis": "legitimate_interests",
        }
    )
    objects = _customer(running, "obj")
    opted_out = _customer(running, "out")
    running.client.post("/v1/me/objections", json={"kind": "profiling"}, headers=objects)
    running.client.post("/v1/me/objections", json={"kind": "automated_decision"}, headers=opted_out)
    running.client.post(
        "/v1/me/consent", json={"data_use": "personalize", "status": "withdrawn"}, headers=opted_out
    )
    subjects = ["obj", None, "out", "nobody", "obj", "out"]
    with state_of(running.app).sessions() as session:
        # A hook of its own, so that nothing is cached: every subject comes from the query.
        batch = SqlConsentHook(state_of(running.app).sessions).check_many(
            session, spec=spec, subject_ids=subjects
        )
        one_by_one = [
            SqlConsentHook().check(session, spec=spec, subject_id=subject) for subject in subjects
        ]
    assert batch == one_by_one
    states = dict(zip(subjects, batch, strict=False))
    assert states["obj"].objects_to_profiling and not states["obj"].objects_to_automation
    assert states["out"].objects_to_automation and set(states["out"].withhold) == {
        "income",
        "housing",
    }
    assert states["nobody"] == states[None]
    assert not states["nobody"].objects_to_profiling and states["nobody"].withhold == {}
