"""Every route with every role: who gets in is exactly what the scope registry says; OpenAPI."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from fastapi.routing import APIRoute
from service_testing import PASSWORD, Service, bearer, credit_spec

from ethica.service import auth
from ethica.service.deps import ScopeCheck
from ethica.service.scopes import APPLICATION_SCOPES, ROLE_SCOPES

SYSTEM = "walk-system"
_emails = itertools.count()


def _scope_checks(route: APIRoute) -> list[ScopeCheck]:
    return [d.call for d in route.dependant.dependencies if isinstance(d.call, ScopeCheck)]


def _requests(
    running: Service, decision_id: str, model: bytes
) -> dict[tuple[str, str], Callable[[dict[str, str]], Any]]:
    """A valid request for each route of the app, by (method, path template)."""
    client = running.client

    def new_user(headers: dict[str, str]) -> Any:
        body = {
            "email": f"walker{next(_emails)}@bank.example",
            "name": "Walker",
            "role": "reviewer",
            "password": PASSWORD,
        }
        return client.post("/v1/users", json=body, headers=headers)

    decision = {"subject_id": "s-1", "features": {"income": 70.0, "housing": "own"}}
    return {
        ("GET", "/health"): lambda h: client.get("/health", headers=h),
        ("POST", "/v1/auth/token"): lambda h: client.post(
            "/v1/auth/token",
            json={"email": "reviewer@bank.example", "password": PASSWORD},
            headers=h,
        ),
        # Run last (see below): it ends the caller's session.
        ("DELETE", "/v1/auth/token"): lambda h: client.delete("/v1/auth/token", headers=h),
        ("POST", "/v1/users"): new_user,
        ("POST", "/v1/api-keys"): lambda h: client.post(
            "/v1/api-keys", json={"name": "app", "scopes": ["decisions:read"]}, headers=h
        ),
        ("PUT", "/v1/systems/{system_id}"): lambda h: client.put(
            f"/v1/systems/{SYSTEM}", json=_spec(), headers=h
        ),
        ("GET", "/v1/systems"): lambda h: client.get("/v1/systems", headers=h),
        ("GET", "/v1/systems/{system_id}/obligations"): lambda h: client.get(
            f"/v1/systems/{SYSTEM}/obligations", headers=h
        ),
        ("GET", "/v1/systems/{system_id}/incidents"): lambda h: client.get(
            f"/v1/systems/{SYSTEM}/incidents", headers=h
        ),
        ("POST", "/v1/systems/{system_id}/incidents"): lambda h: client.post(
            f"/v1/systems/{SYSTEM}/incidents",
            json={"harm": "health", "description": "walk"},
            headers=h,
        ),
        ("POST", "/v1/systems/{system_id}/incidents/{incident_id}/steps"): lambda h: client.post(
            f"/v1/systems/{SYSTEM}/incidents/none/steps", json={"step": "report"}, headers=h
        ),
        ("GET", "/v1/systems/{system_id}"): lambda h: client.get(
            f"/v1/systems/{SYSTEM}", headers=h
        ),
        ("POST", "/v1/systems/{system_id}/models"): lambda h: client.post(
            f"/v1/systems/{SYSTEM}/models",
            params={"version": "1", "format": "lightgbm"},
            content=model,
            headers=h,
        ),
        ("PUT", "/v1/systems/{system_id}/models/{version}/training-summary"): lambda h: client.put(
            f"/v1/systems/{SYSTEM}/models/1/training-summary",
            json={"reference": {}, "ranges": {}, "background": None, "templates": {}},
            headers=h,
        ),
        ("GET", "/v1/decisions/{decision_id}/notice"): lambda h: client.get(
            f"/v1/decisions/{decision_id}/notice", headers=h
        ),
        ("GET", "/v1/me/decisions/{decision_id}/notice"): lambda h: client.get(
            f"/v1/me/decisions/{decision_id}/notice", headers=h
        ),
        ("POST", "/v1/systems/{system_id}/decisions"): lambda h: client.post(
            f"/v1/systems/{SYSTEM}/decisions", json=decision, headers=h
        ),
        ("GET", "/v1/decisions"): lambda h: client.get("/v1/decisions", headers=h),
        ("GET", "/v1/decisions/{decision_id}"): lambda h: client.get(
            f"/v1/decisions/{decision_id}", headers=h
        ),
        ("POST", "/v1/decisions/{decision_id}/outcome"): lambda h: client.post(
            f"/v1/decisions/{decision_id}/outcome", json={"outcome": "repaid"}, headers=h
        ),
        ("POST", "/v1/subjects/{subject_id}/links"): lambda h: client.post(
            "/v1/subjects/s-0/links", json={"minutes": 5}, headers=h
        ),
        ("GET", "/v1/me/decisions"): lambda h: client.get("/v1/me/decisions", headers=h),
        ("GET", "/v1/me/decisions/{decision_id}"): lambda h: client.get(
            f"/v1/me/decisions/{decision_id}", headers=h
        ),
        ("GET", "/v1/ledger/verification"): lambda h: client.get(
            "/v1/ledger/verification", headers=h
        ),
        ("GET", "/v1/ledger/heads"): lambda h: client.get("/v1/ledger/heads", headers=h),
        ("GET", "/v1/decisions/{decision_id}/proof"): lambda h: client.get(
            f"/v1/decisions/{decision_id}/proof", headers=h
        ),
        ("GET", "/v1/me/export"): lambda h: client.get("/v1/me/export", headers=h),
        ("GET", "/v1/subjects/{subject_id}/export"): lambda h: client.get(
            "/v1/subjects/s-0/export", params={"format": "html"}, headers=h
        ),
        ("POST", "/v1/me/erasure"): lambda h: client.post("/v1/me/erasure", headers=h),
        ("POST", "/v1/subjects/{subject_id}/erasure"): lambda h: client.post(
            "/v1/subjects/s-erased/erasure", headers=h
        ),
        ("GET", "/v1/requests"): lambda h: client.get("/v1/requests", headers=h),
        ("POST", "/v1/systems/{system_id}/suspension"): lambda h: client.post(
            f"/v1/systems/{SYSTEM}/suspension", json={"reason": "walk"}, headers=h
        ),
        ("POST", "/v1/systems/{system_id}/resumption"): lambda h: client.post(
            f"/v1/systems/{SYSTEM}/resumption", json={"reason": "walk"}, headers=h
        ),
        ("GET", "/v1/systems/{system_id}/candidates"): lambda h: client.get(
            f"/v1/systems/{SYSTEM}/candidates", headers=h
        ),
        ("POST", "/v1/systems/{system_id}/candidates"): lambda h: client.post(
            f"/v1/systems/{SYSTEM}/candidates",
            json={"name": "walk", "method": "model", "model_version": "none"},
            headers=h,
        ),
        ("GET", "/v1/systems/{system_id}/candidates/{candidate_id}/comparison"): lambda h: (
            client.get(f"/v1/systems/{SYSTEM}/candidates/none/comparison", headers=h)
        ),
        ("POST", "/v1/systems/{system_id}/candidates/{candidate_id}/promotion"): lambda h: (
            client.post(
                f"/v1/systems/{SYSTEM}/candidates/none/promotion", json={"reason": "w"}, headers=h
            )
        ),
        ("POST", "/v1/systems/{system_id}/candidates/{candidate_id}/rollback"): lambda h: (
            client.post(
                f"/v1/systems/{SYSTEM}/candidates/none/rollback", json={"reason": "w"}, headers=h
            )
        ),
        ("POST", "/v1/systems/{system_id}/candidates/{candidate_id}/withdrawal"): lambda h: (
            client.post(
                f"/v1/systems/{SYSTEM}/candidates/none/withdrawal", json={"reason": "w"}, headers=h
            )
        ),
        ("POST", "/v1/me/decisions/{decision_id}/concerns"): lambda h: client.post(
            f"/v1/me/decisions/{decision_id}/concerns", json={"text": "Why?"}, headers=h
        ),
        ("GET", "/v1/me/concerns"): lambda h: client.get("/v1/me/concerns", headers=h),
        ("GET", "/v1/concerns"): lambda h: client.get("/v1/concerns", headers=h),
        ("POST", "/v1/concerns/{concern_id}/resolution"): lambda h: client.post(
            "/v1/concerns/no-such-concern/resolution", json={"response": "Because."}, headers=h
        ),
        ("PUT", "/v1/notices/{data_use}"): lambda h: client.put(
            "/v1/notices/finance", json={"kind": "opt_out", "text": "Credit scoring."}, headers=h
        ),
        ("GET", "/v1/notices"): lambda h: client.get("/v1/notices", headers=h),
        ("POST", "/v1/subjects/{subject_id}/consent"): lambda h: client.post(
            "/v1/subjects/s-0/consent",
            json={"data_use": "finance", "status": "granted"},
            headers=h,
        ),
        ("GET", "/v1/subjects/{subject_id}/consent"): lambda h: client.get(
            "/v1/subjects/s-0/consent", headers=h
        ),
        ("POST", "/v1/subjects/{subject_id}/objections"): lambda h: client.post(
            "/v1/subjects/s-0/objections", json={"kind": "profiling"}, headers=h
        ),
        ("GET", "/v1/me/consent"): lambda h: client.get("/v1/me/consent", headers=h),
        ("POST", "/v1/me/consent"): lambda h: client.post(
            "/v1/me/consent", json={"gpc": True}, headers=h
        ),
        ("POST", "/v1/me/objections"): lambda h: client.post(
            "/v1/me/objections", json={"kind": "automated_decision", "active": False}, headers=h
        ),
        ("GET", "/v1/reviews"): lambda h: client.get("/v1/reviews", headers=h),
        ("POST", "/v1/reviews/{decision_id}/claim"): lambda h: client.post(
            f"/v1/reviews/{decision_id}/claim", headers=h
        ),
        ("POST", "/v1/reviews/{decision_id}/release"): lambda h: client.post(
            f"/v1/reviews/{decision_id}/release", headers=h
        ),
        ("POST", "/v1/reviews/{decision_id}/decision"): lambda h: client.post(
            f"/v1/reviews/{decision_id}/decision", json={"action": "confirm"}, headers=h
        ),
        ("POST", "/v1/reviews/{decision_id}/approval"): lambda h: client.post(
            f"/v1/reviews/{decision_id}/approval", json={}, headers=h
        ),
        ("POST", "/v1/reviews/{decision_id}/rejection"): lambda h: client.post(
            f"/v1/reviews/{decision_id}/rejection", json={"reason": "not convinced"}, headers=h
        ),
        ("GET", "/v1/me/notifications"): lambda h: client.get("/v1/me/notifications", headers=h),
        ("POST", "/v1/me/notifications/read"): lambda h: client.post(
            "/v1/me/notifications/read", headers=h
        ),
        ("GET", "/v1/webhooks/deliveries"): lambda h: client.get(
            "/v1/webhooks/deliveries", headers=h
        ),
        ("GET", "/v1/reviews/{decision_id}"): lambda h: client.get(
            f"/v1/reviews/{decision_id}", headers=h
        ),
        ("POST", "/v1/reviews/{decision_id}/judgement"): lambda h: client.post(
            f"/v1/reviews/{decision_id}/judgement", json={"outcome": "approved"}, headers=h
        ),
        ("GET", "/v1/reviews/stats"): lambda h: client.get("/v1/reviews/stats", headers=h),
        ("POST", "/v1/reviews/seeded"): lambda h: client.post(
            "/v1/reviews/seeded",
            json={
                "system_id": SYSTEM,
                "features": {"income": 20.0, "housing": "own"},
                "known_outcome": "declined",
            },
            headers=h,
        ),
        ("POST", "/v1/me/decisions/{decision_id}/appeal"): lambda h: client.post(
            f"/v1/me/decisions/{decision_id}/appeal", json={"statement": "I repaid."}, headers=h
        ),
    }


def _spec() -> dict[str, Any]:
    return credit_spec()


def _api_routes(running: Service) -> list[APIRoute]:
    """Every API route of the app (not the pages), looking inside included routers."""
    found: list[APIRoute] = []

    def walk(routes: list[Any]) -> None:
        for route in routes:
            if isinstance(route, APIRoute) and "web" in route.tags:
                continue  # pages: walked with cookies in test_web_access.py
            if isinstance(route, APIRoute):
                found.append(route)
            elif hasattr(route, "original_router"):  # FastAPI >= 0.160 keeps included routers
                walk(route.original_router.routes)

    walk(running.app.routes)
    return found


def test_every_route_admits_exactly_the_roles_holding_its_scope(
    service: Callable[..., Service], lightgbm_bytes: bytes
) -> None:
    running = service()
    running.register(SYSTEM)
    assert running.upload(SYSTEM, lightgbm_bytes, format="lightgbm").status_code == 201
    made = running.decide(SYSTEM, {"subject_id": "s-0", "features": {"income": 10.0}})
    assert made.status_code == 201, made.text
    requests = _requests(running, made.json()["id"], lightgbm_bytes)

    secret = running.settings.app.secret_key.get_secret_value()
    callers: dict[str, tuple[dict[str, str], frozenset[str] | None]] = {
        # None: not authenticated at all
        "anonymous": ({}, None),
        "invalid token": (bearer("not-a-token"), None),
        "unknown key": (bearer("ek_000000000000_secret"), None),
        "customer": (
            bearer(
                auth.sign_token({"sub": "cust-1", "kind": "customer"}, secret=secret, minutes=5)
            ),
            ROLE_SCOPES["customer"],
        ),
    }
    for role in ("admin", "officer", "reviewer"):
        callers[role] = (running.headers[role], ROLE_SCOPES[role])
    for scope in sorted(APPLICATION_SCOPES):
        callers[f"key with {scope}"] = (running.api_key(scope), frozenset({scope}))

    routes = _api_routes(running)
    assert {(m, r.path) for r in routes for m in r.methods} == set(requests)
    checked = 0
    signing_out = {"DELETE"}
    for route in sorted(
        routes, key=lambda r: r.path == "/v1/auth/token" and r.methods == signing_out
    ):
        checks = _scope_checks(route)
        public = route.path == "/health" or (
            route.path == "/v1/auth/token" and route.methods == {"POST"}
        )
        if route.path.startswith("/v1") and not public:
            assert len(checks) == 1, f"{route.path} declares {len(checks)} ScopeCheck dependencies"
        if public:
            assert checks == []
        for method in route.methods:
            send = requests[(method, route.path)]
            for name, (headers, scopes) in callers.items():
                status = send(headers).status_code
                where = f"{method} {route.path} as {name}: {status}"
                if public:
                    assert status not in (401, 403), where
                elif scopes is None:
                    assert status == 401, where
                elif checks[0].scope in scopes:
                    assert status not in (401, 403), where
                else:
                    assert status == 403, where
                checked += 1
    assert checked == len(requests) * len(callers)


def test_openapi_operations_have_explicit_unique_stable_ids(
    service: Callable[..., Service],
) -> None:
    running = service()
    response = running.client.get("/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    ids = [
        operation["operationId"]
        for path in schema["paths"].values()
        for operation in path.values()
        if isinstance(operation, dict) and "operationId" in operation
    ]
    operations = sum(len(path) for path in schema["paths"].values())
    assert len(ids) == operations
    assert len(ids) == len(set(ids))
    assert set(ids) == {
        "health",
        "sign_in",
        "sign_out",
        "create_user",
        "create_api_key",
        "apply_system",
        "list_systems",
        "get_system",
        "get_obligations_register",
        "list_incidents",
        "open_incident",
        "record_incident_step",
        "upload_model",
        "set_training_summary",
        "get_decision_notice",
        "get_my_decision_notice",
        "create_decision",
        "list_decisions",
        "get_decision",
        "record_outcome",
        "verify_ledger",
        "list_ledger_heads",
        "prove_decision",
        "create_customer_link",
        "list_my_decisions",
        "get_my_decision",
        "export_my_data",
        "export_subject_data",
        "erase_me",
        "erase_subject",
        "list_rights_requests",
        "suspend_system",
        "resume_system",
        "report_my_concern",
        "list_my_concerns",
        "list_concerns",
        "resolve_concern",
        "put_notice",
        "list_notices",
        "record_consent",
        "get_subject_consent",
        "record_objection",
        "get_my_consent",
        "record_my_consent",
        "record_my_objection",
        "list_review_queue",
        "claim_review",
        "release_review",
        "decide_review",
        "approve_review",
        "reject_review",
        "list_my_notifications",
        "mark_my_notifications_read",
        "list_webhook_deliveries",
        "get_review_case",
        "record_review_judgement",
        "get_reviewer_stats",
        "create_seeded_case",
        "appeal_my_decision",
        "list_candidates",
        "add_candidate",
        "compare_candidate",
        "promote_candidate",
        "roll_back_candidate",
        "withdraw_candidate",
    }
    for route in _api_routes(running):
        assert route.operation_id, f"{route.path} has no explicit operation_id"
    assert schema["info"]["title"] == "ethica"
    assert running.client.get("/docs").status_code == 200
