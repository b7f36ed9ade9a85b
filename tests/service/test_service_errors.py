"""Bad input gets a clear JSON 4xx saying what was wrong, and nothing is half-written."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from service_testing import PASSWORD, Service, bearer
from sqlalchemy import func, select, update

from ethica.service import auth
from ethica.service.app import state_of
from ethica.service.db import unit_of_work
from ethica.service.systems.tables import ModelVersion
from ethica.service.users.tables import ApiKey


class NotAnEstimator:
    """A type no model file may carry: loading it could run arbitrary code."""

    def __init__(self) -> None:
        self.payload = [1, 2, 3]


def _error(response: Any, status: int) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()["error"]
    assert body["code"] and body["message"]
    return str(body["message"])


@pytest.fixture
def credit(service: Callable[..., Service]) -> Service:
    running = service(app={"max_request_bytes": 4000})
    running.register("credit")
    return running


def _model_versions(running: Service) -> int:
    with unit_of_work(state_of(running.app).sessions) as session:
        return int(session.scalar(select(func.count()).select_from(ModelVersion)) or 0)


def test_malformed_json_and_wrong_types_are_422(credit: Service) -> None:
    headers = {**credit.headers["admin"], "content-type": "application/json"}
    url = "/v1/systems/credit/decisions"
    message = _error(credit.client.post(url, content=b'{"features": {', headers=headers), 422)
    assert "json" in message.lower()
    message = _error(credit.decide("credit", {"features": [1, 2]}), 422)
    assert "features" in message
    message = _error(credit.decide("credit", {"subject_id": 5, "score": 0.4}), 422)
    assert "subject_id" in message
    message = _error(credit.decide("credit", {"score": 0.4, "colour": "red"}), 422)
    assert "colour" in message


def test_unknown_system_is_404(credit: Service) -> None:
    message = _error(credit.decide("no-such-system", {"score": 0.5}), 404)
    assert "no-such-system" in message
    _error(credit.client.get("/v1/systems/no-such-system", headers=credit.headers["admin"]), 404)
    _error(credit.client.get("/v1/decisions/nope", headers=credit.headers["admin"]), 404)


@pytest.mark.parametrize(
    ("raw", "said"),
    [
        (b'{"score": 0.4, "features": {"income": "lots"}}', "number"),
        (b'{"score": 0.4, "features": {"income": true}}', "number"),
        (b'{"score": 0.4, "features": {"income": NaN}}', "finite"),
        (b'{"score": 0.4, "features": {"income": Infinity}}', "finite"),
        (b'{"score": 0.4, "features": {"housing": "castle"}}', "one of"),
        (b'{"score": 0.4, "features": {"sex": "F"}}', "protected"),
        (b'{"score": 0.4, "protected": {"religion": "x"}}', "not declared"),
        (b'{"score": NaN}', "finite"),
    ],
)
def test_bad_features_are_422_and_nothing_is_recorded(
    credit: Service, raw: bytes, said: str
) -> None:
    headers = {**credit.headers["admin"], "content-type": "application/json"}
    response = credit.client.post("/v1/systems/credit/decisions", content=raw, headers=headers)
    assert said in _error(response, 422)
    listed = credit.client.get("/v1/decisions", headers=credit.headers["admin"]).json()
    assert listed["total"] == 0


def test_oversize_bodies_are_413_declared_or_streamed(credit: Service) -> None:
    big = b'{"score": 0.4, "features": {"income": 1.0}, "subject_id": "' + b"x" * 5000 + b'"}'
    url = "/v1/systems/credit/decisions"
    headers = {**credit.headers["admin"], "content-type": "application/json"}
    assert "4000" in _error(credit.client.post(url, content=big, headers=headers), 413)

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(big), 1000):
            yield big[start : start + 1000]

    streamed = credit.client.post(url, content=chunks(), headers=headers)
    assert "content-length" not in {k.lower() for k in streamed.request.headers}
    _error(streamed, 413)

    upload = credit.client.post(
        "/v1/systems/credit/models",
        params={"version": "1", "format": "lightgbm"},
        content=chunks(),
        headers=credit.headers["admin"],
    )
    _error(upload, 413)
    assert _model_versions(credit) == 0


def test_wrong_credentials_are_401(credit: Service) -> None:
    client = credit.client
    unknown = client.post("/v1/auth/token", json={"email": "who@x.org", "password": PASSWORD})
    wrong = client.post(
        "/v1/auth/token", json={"email": "admin@bank.example", "password": "not the password"}
    )
    # the same message, so that a caller cannot learn which emails exist
    assert _error(unknown, 401) == _error(wrong, 401)

    secret = credit.settings.app.secret_key.get_secret_value()
    user_id = _user_id(credit, "admin@bank.example")
    expired = auth.sign_token({"sub": user_id, "kind": "user"}, secret=secret, minutes=-1)
    assert "expired" in _error(client.get("/v1/systems", headers=bearer(expired)), 401)

    valid = auth.sign_token({"sub": user_id, "kind": "user"}, secret=secret, minutes=5)
    assert client.get("/v1/systems", headers=bearer(valid)).status_code == 200
    payload, signature = valid.split(".")
    flipped = payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1]
    _error(client.get("/v1/systems", headers=bearer(f"{flipped}.{signature}")), 401)
    other = auth.sign_token({"sub": user_id, "kind": "user"}, secret="another-secret", minutes=5)
    _error(client.get("/v1/systems", headers=bearer(other)), 401)
    _error(client.get("/v1/systems", headers={"Authorization": "Basic abc"}), 401)


def _user_id(running: Service, email: str) -> str:
    from ethica.service.users.tables import User

    with unit_of_work(state_of(running.app).sessions) as session:
        return str(session.scalar(select(User.id).where(User.email == email)))


def test_revoked_and_unknown_api_keys_are_401(credit: Service) -> None:
    headers = credit.api_key("systems:read")
    assert credit.client.get("/v1/systems", headers=headers).status_code == 200
    key_id = headers["Authorization"].split("_")[1]
    with unit_of_work(state_of(credit.app).sessions) as session:
        session.execute(update(ApiKey).where(ApiKey.id == key_id).values(active=False))
    _error(credit.client.get("/v1/systems", headers=headers), 401)
    unknown = headers["Authorization"].replace(key_id, "ffffffffffff")
    _error(credit.client.get("/v1/systems", headers={"Authorization": unknown}), 401)
    wrong_secret = headers["Authorization"][:-4] + "abcd"
    _error(credit.client.get("/v1/systems", headers={"Authorization": wrong_secret}), 401)


@pytest.mark.parametrize("scopes", [["users:write"], ["decisions:read", "ledger:verify"], ["x:y"]])
def test_keys_get_application_scopes_only(credit: Service, scopes: list[str]) -> None:
    response = credit.client.post(
        "/v1/api-keys", json={"name": "app", "scopes": scopes}, headers=credit.headers["admin"]
    )
    message = _error(response, 422)
    assert str(sorted(set(scopes) - {"decisions:read"})) in message


def test_spec_errors_list_every_problem(credit: Service) -> None:
    spec = {
        "name": "",
        "purpose": "Not Dotted",
        "decision": {"kind": "binary", "threshold": 2},
        "features": [{"name": "income", "type": "number", "data_category": "bad category"}],
        "colour": "red",
    }
    response = credit.client.put("/v1/systems/broken", json=spec, headers=credit.headers["admin"])
    message = _error(response, 422)
    for location in (
        "name",
        "purpose",
        "decision.threshold",
        "features[0].data_category",
        "owner: is required",
        "colour: is not a known field",
    ):
        assert location in message, location
    mismatch = credit.client.put(
        "/v1/systems/other", json={**spec, "id": "credit"}, headers=credit.headers["admin"]
    )
    _error(mismatch, 422)
    assert (
        credit.client.get("/v1/systems/broken", headers=credit.headers["admin"]).status_code == 404
    )


def test_unsafe_or_garbage_models_are_refused_and_nothing_is_stored(credit: Service) -> None:
    sio = pytest.importorskip("skops.io")
    unsafe = sio.dumps(NotAnEstimator())
    for content, format in [
        (b"not a model at all", "lightgbm"),
        (b"\x00\x01garbage", "skops"),
        (b"{}", "xgboost"),
        (b"not json", "xgboost"),
        (unsafe, "skops"),
    ]:
        response = credit.upload("credit", content, format=format)
        message = _error(response, 422)
        if content is unsafe:
            assert "NotAnEstimator" in message
    _error(credit.upload("credit", b"x", format="pickle"), 422)
    assert _model_versions(credit) == 0
    system = credit.client.get("/v1/systems/credit", headers=credit.headers["admin"]).json()
    assert system["model_version"] is None
