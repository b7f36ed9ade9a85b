"""The decision route answers as FastAPI's own handler would, on its fast path and off it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from service_testing import Service

from ethica.service.decisions.route import DecisionRoute

VARYING = ("id", "created_at", "ledger")  # differ between any two decisions


def _never_called() -> None:  # pragma: no cover - only its presence in the overrides counts
    raise AssertionError("no route depends on this")


def _answers(running: Service, requests: list[dict[str, Any]]) -> list[tuple[int, Any]]:
    answers = []
    for request in requests:
        response = running.client.post("/v1/systems/credit/decisions", **request)
        body = response.json()
        if response.status_code == 201:
            body = {k: v for k, v in body.items() if k not in VARYING}
        answers.append((response.status_code, body))
    return answers


def test_every_answer_of_the_fast_path_is_what_fastapis_handler_gives(
    service: Callable[..., Service],
) -> None:
    running = service()
    running.register("credit")
    writer = running.api_key("decisions:write")
    reader = running.api_key("decisions:read")
    body = {"subject_id": "s-1", "features": {"income": 2100, "housing": "rent"}, "score": 0.7}
    long_key = {**writer, "Idempotency-Key": "k" * 201}
    requests: list[dict[str, Any]] = [
        {"json": body, "headers": writer},
        {"json": {**body, "subject_id": None}, "headers": writer},
        {"json": body, "headers": {**writer, "Idempotency-Key": "retry-1"}},
        {"json": body, "headers": {**writer, "Idempotency-Key": "retry-1"}},
        {"json": body},  # no credentials
        {"json": body, "headers": reader},  # without the scope
        {"json": {**body, "unknown": 1}, "headers": writer},
        {"json": {**body, "unknown": 1}},  # invalid and no credentials
        {"content": b"{not json", "headers": {**writer, "Content-Type": "application/json"}},
        {"content": b"[]", "headers": {**writer, "Content-Type": "application/json"}},
        {"content": b'{"features": {}}', "headers": {**writer, "Content-Type": "text/plain"}},
        {"json": body, "headers": long_key},
        {"json": {**body, "score": None}, "headers": writer},  # the system has no model
    ]
    fast = _answers(running, requests)
    running.app.dependency_overrides[_never_called] = _never_called  # FastAPI's handler
    try:
        generic = _answers(running, requests)
    finally:
        running.app.dependency_overrides.clear()
    statuses = [status for status, _ in fast]
    assert statuses == [201, 201, 201, 201, 401, 403, 422, 401, 422, 422, 422, 422, 422]
    # The retry got the first decision back, on either path.
    assert fast[2] == fast[3]
    for (fast_status, fast_body), (status, answer) in zip(fast, generic, strict=True):
        assert fast_status == status
        assert fast_body == answer


def test_the_decision_route_is_served_by_the_decision_route_class(
    service: Callable[..., Service],
) -> None:
    running = service()
    routes: list[Any] = []

    def walk(found: list[Any]) -> None:
        for route in found:
            if getattr(route, "operation_id", None) == "create_decision":
                routes.append(route)
            elif hasattr(route, "original_router"):  # FastAPI >= 0.160 keeps included routers
                walk(route.original_router.routes)

    walk(running.app.routes)
    schema = running.client.get("/openapi.json").json()
    operation = schema["paths"]["/v1/systems/{system_id}/decisions"]["post"]
    assert operation["operationId"] == "create_decision"
    assert "201" in operation["responses"]
    assert routes and all(isinstance(route, DecisionRoute) for route in routes)
