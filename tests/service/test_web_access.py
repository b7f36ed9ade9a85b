"""Every page with every role: who gets in is exactly what the scope registry says.

The pages' twin of test_service_routes.py: each page route declares one ``PageScopeCheck``; a
signed-in person holding its scope gets in, one without it gets a 403 page, nobody signed in is
sent to sign in (staff pages) or told to open their link (the portal). A change from a page
without the CSRF token is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from service_testing import Service
from web_testing import customer_token, token_of, viewing_as

from ethica.service.scopes import ROLE_SCOPES
from ethica.service.web.session import CSRF_FIELD, PageScopeCheck, csrf_token

SYSTEM = "credit"
#: Pages anyone may open: signing in and out, and where each role lands.
PUBLIC = {
    ("GET", "/"),
    ("GET", "/login"),
    ("POST", "/login"),
    ("POST", "/login/customer"),
    ("GET", "/portal/enter"),
    ("POST", "/logout"),
    ("GET", "/favicon.ico"),  # assets anyone may load
    ("GET", "/docs"),
}

Send = Callable[[TestClient, dict[str, str]], Any]


def _requests(decision_id: str) -> dict[tuple[str, str], Send]:
    """A valid request for each page route; ``form`` carries the CSRF field of the caller."""
    decision = f"/portal/decisions/{decision_id}"
    case = f"/console/cases/{decision_id}"
    return {
        # The customer portal (the erasure comes last among its routes: it ends the session).
        ("GET", "/portal"): lambda c, form: c.get("/portal"),
        ("GET", "/portal/notifications"): lambda c, form: c.get("/portal/notifications"),
        ("GET", "/portal/decisions/{decision_id}"): lambda c, form: c.get(decision),
        ("GET", "/portal/decisions/{decision_id}/notice"): lambda c, form: c.get(
            f"{decision}/notice"
        ),
        ("POST", "/portal/decisions/{decision_id}/appeal"): lambda c, form: c.post(
            f"{decision}/appeal", data={**form, "statement": "please look again"}
        ),
        ("POST", "/portal/decisions/{decision_id}/concerns"): lambda c, form: c.post(
            f"{decision}/concerns", data={**form, "text": "a concern"}
        ),
        ("GET", "/portal/privacy"): lambda c, form: c.get("/portal/privacy"),
        ("POST", "/portal/privacy/consent"): lambda c, form: c.post(
            "/portal/privacy/consent", data={**form, "data_use": "marketing", "status": "granted"}
        ),
        ("POST", "/portal/privacy/objections"): lambda c, form: c.post(
            "/portal/privacy/objections", data={**form, "kind": "profiling", "active": "true"}
        ),
        ("POST", "/portal/privacy/gpc"): lambda c, form: c.post("/portal/privacy/gpc", data=form),
        ("GET", "/portal/privacy/export"): lambda c, form: c.get("/portal/privacy/export"),
        ("GET", "/portal/privacy/erasure"): lambda c, form: c.get("/portal/privacy/erasure"),
        ("POST", "/portal/privacy/erasure"): lambda c, form: c.post(
            "/portal/privacy/erasure", data={**form, "confirm": "yes"}
        ),
        # The reviewer console.
        # (staff pages send nobody to sign in: the 303 is the answer, not the form it leads to)
        ("GET", "/console"): lambda c, form: c.get("/console", follow_redirects=False),
        ("GET", "/console/stats"): lambda c, form: c.get("/console/stats", follow_redirects=False),
        ("GET", "/console/cases/{decision_id}"): lambda c, form: c.get(
            case, follow_redirects=False
        ),
        ("POST", "/console/cases/{decision_id}/claim"): lambda c, form: c.post(
            f"{case}/claim", data=form
        ),
        ("POST", "/console/cases/{decision_id}/release"): lambda c, form: c.post(
            f"{case}/release", data=form
        ),
        ("POST", "/console/cases/{decision_id}/judgement"): lambda c, form: c.post(
            f"{case}/judgement", data={**form, "outcome": "approved"}
        ),
        ("POST", "/console/cases/{decision_id}/decision"): lambda c, form: c.post(
            f"{case}/decision", data={**form, "action": "confirm"}
        ),
        ("POST", "/console/cases/{decision_id}/approval"): lambda c, form: c.post(
            f"{case}/approval", data=form
        ),
        # The officer dashboard (not following redirects: a 303 to sign in is the answer).
        ("GET", "/dashboard"): lambda c, form: c.get("/dashboard", follow_redirects=False),
        ("GET", "/dashboard/ledger"): lambda c, form: c.get(
            "/dashboard/ledger", follow_redirects=False
        ),
        ("GET", "/dashboard/systems/{system_id}"): lambda c, form: c.get(
            f"/dashboard/systems/{SYSTEM}", follow_redirects=False
        ),
        ("POST", "/dashboard/systems/{system_id}/suspension"): lambda c, form: c.post(
            f"/dashboard/systems/{SYSTEM}/suspension",
            data={**form, "reason": "a check"},
            follow_redirects=False,
        ),
        ("POST", "/dashboard/systems/{system_id}/resumption"): lambda c, form: c.post(
            f"/dashboard/systems/{SYSTEM}/resumption",
            data={**form, "reason": "checked"},
            follow_redirects=False,
        ),
        ("POST", "/dashboard/systems/{system_id}/seeded-cases"): lambda c, form: c.post(
            f"/dashboard/systems/{SYSTEM}/seeded-cases",
            data={**form, "feature.income": "12", "known_outcome": "approved"},
            follow_redirects=False,
        ),
        ("GET", "/dashboard/systems/{system_id}/monitoring"): lambda c, form: c.get(
            f"/dashboard/systems/{SYSTEM}/monitoring", follow_redirects=False
        ),
        ("GET", "/dashboard/systems/{system_id}/monitoring/alerts/{sequence}/decisions"): (
            lambda c, form: c.get(
                f"/dashboard/systems/{SYSTEM}/monitoring/alerts/1/decisions",
                follow_redirects=False,
            )
        ),
        ("POST", "/dashboard/systems/{system_id}/monitoring/alerts/{sequence}"): (
            lambda c, form: c.post(
                f"/dashboard/systems/{SYSTEM}/monitoring/alerts/1",
                data={**form, "to": "acknowledged", "why": "a check"},
                follow_redirects=False,
            )
        ),
        ("GET", "/dashboard/systems/{system_id}/candidates"): lambda c, form: c.get(
            f"/dashboard/systems/{SYSTEM}/candidates", follow_redirects=False
        ),
        ("POST", "/dashboard/systems/{system_id}/candidates/{candidate_id}"): (
            lambda c, form: c.post(
                f"/dashboard/systems/{SYSTEM}/candidates/none",
                data={**form, "to": "rollback", "why": "a check"},
                follow_redirects=False,
            )
        ),
        ("GET", "/dashboard/decisions/{decision_id}"): lambda c, form: c.get(
            f"/dashboard/decisions/{decision_id}", follow_redirects=False
        ),
        ("POST", "/console/cases/{decision_id}/rejection"): lambda c, form: c.post(
            f"/console/cases/{decision_id}/rejection",
            data={**form, "reason": "not convinced"},
            follow_redirects=False,
        ),
        ("GET", "/dashboard/governance"): lambda c, form: c.get(
            "/dashboard/governance", follow_redirects=False
        ),
        ("GET", "/dashboard/governance/{system_id}"): lambda c, form: c.get(
            f"/dashboard/governance/{SYSTEM}", follow_redirects=False
        ),
        ("GET", "/dashboard/governance/{system_id}/documents/{document}.{format}"): (
            lambda c, form: c.get(
                f"/dashboard/governance/{SYSTEM}/documents/annex-iv.json", follow_redirects=False
            )
        ),
        ("POST", "/dashboard/governance/{system_id}/attestations"): lambda c, form: c.post(
            f"/dashboard/governance/{SYSTEM}/attestations",
            data={**form, "obligation": "ai-act-9", "by": "A", "role": "B", "statement": "C"},
            follow_redirects=False,
        ),
        ("POST", "/dashboard/governance/{system_id}/fria-signoffs"): lambda c, form: c.post(
            f"/dashboard/governance/{SYSTEM}/fria-signoffs",
            data={**form, "role": "system owner", "name": "A", "statement": "C"},
            follow_redirects=False,
        ),
        ("POST", "/dashboard/governance/{system_id}/incidents"): lambda c, form: c.post(
            f"/dashboard/governance/{SYSTEM}/incidents",
            data={**form, "harm": "health", "description": "what happened"},
            follow_redirects=False,
        ),
        ("POST", "/dashboard/governance/{system_id}/incidents/{incident_id}/steps"): (
            lambda c, form: c.post(
                f"/dashboard/governance/{SYSTEM}/incidents/none/steps",
                data={**form, "step": "report"},
                follow_redirects=False,
            )
        ),
        ("GET", "/dashboard/governance/transparency"): lambda c, form: c.get(
            "/dashboard/governance/transparency", follow_redirects=False
        ),
        ("POST", "/dashboard/governance/transparency"): lambda c, form: c.post(
            "/dashboard/governance/transparency",
            data={**form, "period": "p", "start": "2026-01-01", "end": "2026-01-31"},
            follow_redirects=False,
        ),
        ("GET", "/dashboard/concerns"): lambda c, form: c.get(
            "/dashboard/concerns", follow_redirects=False
        ),
        ("POST", "/dashboard/concerns/{concern_id}/resolution"): lambda c, form: c.post(
            "/dashboard/concerns/no-such-concern/resolution",
            data={**form, "response": "ok"},
            follow_redirects=False,
        ),
    }


def _page_routes(running: Service) -> list[APIRoute]:
    found: list[APIRoute] = []

    def walk(routes: list[Any]) -> None:
        for route in routes:
            if isinstance(route, APIRoute) and "web" in route.tags:
                found.append(route)
            elif hasattr(route, "original_router"):
                walk(route.original_router.routes)

    walk(running.app.routes)
    return found


def _page_checks(route: APIRoute) -> list[PageScopeCheck]:
    return [d.call for d in route.dependant.dependencies if isinstance(d.call, PageScopeCheck)]


def test_every_page_admits_exactly_the_roles_holding_its_scope(
    service: Callable[..., Service], lightgbm_bytes: bytes
) -> None:
    running = service()
    running.register(SYSTEM)
    assert running.upload(SYSTEM, lightgbm_bytes, format="lightgbm").status_code == 201
    made = running.decide(SYSTEM, {"subject_id": "cust-1", "features": {"income": 10.0}})
    assert made.status_code == 201, made.text
    requests = _requests(made.json()["id"])
    secret = running.settings.app.secret_key.get_secret_value()

    viewers: dict[str, tuple[str | None, frozenset[str] | None]] = {
        "nobody": (None, None),
        "forged": ("not-a-token", None),
        "customer": (customer_token("cust-1", secret=secret), ROLE_SCOPES["customer"]),
    }
    for role in ("admin", "officer", "reviewer"):
        viewers[role] = (token_of(running.headers[role]), ROLE_SCOPES[role])

    routes = _page_routes(running)
    walked = {(m, r.path) for r in routes for m in r.methods or () if (m, r.path) not in PUBLIC}
    assert walked == set(requests)
    for route in routes:
        checks = _page_checks(route)
        for method in route.methods or ():
            if (method, route.path) in PUBLIC:
                assert checks == [], f"{route.path} is public but checks a scope"
                continue
            assert len(checks) == 1, f"{route.path} declares {len(checks)} PageScopeChecks"
            scope = checks[0].scope
            for name, (token, scopes) in viewers.items():
                form = {CSRF_FIELD: csrf_token(token, secret=secret)} if token else {}
                with viewing_as(running.client, token) as client:
                    status = requests[(method, route.path)](client, form).status_code
                where = f"{method} {route.path} as {name}: {status}"
                if scopes is None:
                    assert status in (303, 401), where
                elif scope in scopes:
                    assert status not in (401, 403), where
                else:
                    assert status == 403, where
