"""Bad input answered with 422 naming what was wrong, never a 500; what production adds."""

from __future__ import annotations

import base64
import os
import secrets
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient
from service_testing import Service, credit_spec

from ethica.service.app import create_app
from ethica.service.paging import MAX_OFFSET
from ethica.service.settings import Settings
from ethica.service.strict_transport import MAX_AGE_SECONDS

LISTS = ("/v1/decisions", "/v1/requests", "/v1/systems", "/v1/concerns")


def test_an_offset_past_64_bits_is_refused_and_the_largest_one_answers(
    service: Callable[..., Service],
) -> None:
    running = service()
    admin = running.headers["admin"]
    for path in LISTS:
        too_far = running.client.get(path, params={"offset": MAX_OFFSET + 1}, headers=admin)
        assert too_far.status_code == 422, (path, too_far.text)
        assert "offset" in too_far.json()["error"]["message"]
        last = running.client.get(path, params={"offset": MAX_OFFSET}, headers=admin)
        assert last.status_code == 200, (path, last.text)
        assert last.json()["items"] == []


def test_features_outside_their_type_or_range_are_refused_naming_them(
    service: Callable[..., Service],
) -> None:
    running = service()
    features = credit_spec()["features"]
    features[0] = {**features[0], "minimum": 0, "maximum": 1000}
    running.register("credit", features=features)
    cases = {
        "a 400-digit integer": ({"income": int("9" * 400)}, "too large"),
        "below the minimum": ({"income": -1}, "at least 0 and at most 1000"),
        "above the maximum": ({"income": 1000.5}, "at most 1000"),
    }
    for name, (given, expected) in cases.items():
        answer = running.decide("credit", {"subject_id": "s", "features": given, "score": 0.5})
        assert answer.status_code == 422, (name, answer.text)
        message = answer.json()["error"]["message"]
        assert "'income'" in message and expected in message, (name, message)
    fine = running.decide("credit", {"subject_id": "s", "features": {"income": 1000}, "score": 0.5})
    assert fine.status_code == 201, fine.text


def test_an_empty_features_object_is_accepted_and_recorded_as_not_provided(
    service: Callable[..., Service],
) -> None:
    running = service()
    running.register("credit")
    answer = running.decide("credit", {"subject_id": "s", "features": {}, "score": 0.2})
    assert answer.status_code == 201, answer.text
    withheld = {w["feature"]: w["reason"] for w in answer.json()["data"]["withheld"]}
    assert withheld == {"income": "not provided", "housing": "not provided"}
    schema = running.client.get("/openapi.json").json()
    described = schema["components"]["schemas"]["DecisionCreate"]["properties"]["features"]
    assert "not provided" in described["description"]


def test_a_caller_s_score_outside_0_1_on_a_binary_system_is_refused(
    service: Callable[..., Service],
) -> None:
    running = service()
    running.register("credit")
    for score in (-0.1, 1.5, 1e300):
        answer = running.decide("credit", {"subject_id": "s", "score": score})
        assert answer.status_code == 422, answer.text
        assert "score must be between 0 and 1" in answer.json()["error"]["message"]
    assert running.decide("credit", {"subject_id": "s", "score": 1.0}).status_code == 201


def test_every_api_operation_documents_its_error_answers(
    service: Callable[..., Service],
) -> None:
    running = service()
    schema = running.client.get("/openapi.json").json()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            answers = set(operation["responses"])
            if path == "/health":
                continue
            assert {"401", "422"} <= answers, (method, path, answers)
            if path != "/v1/auth/token" or method != "post":
                assert {"403", "404", "409", "413"} <= answers, (method, path, answers)
            bodies = operation["responses"]["422"]["content"].values()
            assert {"$ref": "#/components/schemas/ErrorRead"} in [b["schema"] for b in bodies]
    sign_in = schema["paths"]["/v1/auth/token"]["post"]["responses"]
    assert "429" in sign_in


def test_production_answers_with_strict_transport_security(tmp_path: Path) -> None:
    key = base64.b64encode(os.urandom(32)).decode()
    settings = Settings(
        app={"environment": "production", "secret_key": secrets.token_urlsafe(32)},
        ledger={"master_key": key, "signing_key": base64.b64encode(os.urandom(32)).decode()},
        database={"url": f"sqlite:///{tmp_path / 'production.db'}"},
    )
    with TestClient(create_app(settings)) as client:
        for path in ("/health", "/login", "/v1/systems"):
            header = client.get(path).headers.get("strict-transport-security")
            assert header == f"max-age={MAX_AGE_SECONDS}; includeSubDomains", path
    development = Settings(database={"url": f"sqlite:///{tmp_path / 'development.db'}"})
    with TestClient(create_app(development)) as client:
        assert "strict-transport-security" not in client.get("/health").headers
