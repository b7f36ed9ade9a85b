"""Signing in and out: throttled per account and per address, one scrypt whoever asks, revocable."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from service_testing import PASSWORD, Service, bearer
from sqlalchemy import select, update
from web_testing import csrf_of, sign_in_form, token_of, viewing_as

from ethica.service.app import state_of
from ethica.service.db import unit_of_work
from ethica.service.users.sign_in import ACCOUNT_FAILURES, ADDRESS_FAILURES, FAILURE_WINDOW
from ethica.service.users.tables import RevokedToken, SignInFailure, User

REVIEWER = "reviewer@bank.example"


def _attempt(running: Service, email: str, password: str) -> Any:
    return running.client.post("/v1/auth/token", json={"email": email, "password": password})


def _age_failures(running: Service) -> None:
    """Move every recorded failure out of the throttling window (as 15 minutes passing would)."""
    with unit_of_work(state_of(running.app).sessions) as session:
        for failure in session.scalars(select(SignInFailure)):
            failure.failed_at -= FAILURE_WINDOW


def test_an_account_is_throttled_after_five_failures_then_free_again(
    service: Callable[..., Service],
) -> None:
    running = service()
    for _ in range(ACCOUNT_FAILURES):
        assert _attempt(running, REVIEWER, "wrong password!").status_code == 401
    refused = _attempt(running, REVIEWER, PASSWORD)  # even the right password
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "too_many_attempts"
    assert "this account" in refused.json()["error"]["message"]
    assert 0 < int(refused.headers["Retry-After"]) <= FAILURE_WINDOW.total_seconds()
    assert _attempt(running, "officer@bank.example", PASSWORD).status_code == 200
    _age_failures(running)
    assert _attempt(running, REVIEWER, PASSWORD).status_code == 200


def test_a_success_forgets_the_account_s_failures(service: Callable[..., Service]) -> None:
    running = service()
    for _ in range(ACCOUNT_FAILURES - 1):
        assert _attempt(running, REVIEWER, "wrong password!").status_code == 401
    assert _attempt(running, REVIEWER, PASSWORD).status_code == 200
    for _ in range(ACCOUNT_FAILURES - 1):
        assert _attempt(running, REVIEWER, "wrong password!").status_code == 401
    assert _attempt(running, REVIEWER, PASSWORD).status_code == 200


def test_an_address_is_throttled_after_twenty_failures_over_any_accounts(
    service: Callable[..., Service],
) -> None:
    running = service()
    for n in range(ADDRESS_FAILURES):
        assert _attempt(running, f"nobody{n}@bank.example", "guess").status_code == 401
    refused = _attempt(running, "admin@bank.example", PASSWORD)
    assert refused.status_code == 429 and "your address" in refused.json()["error"]["message"]
    _age_failures(running)
    assert _attempt(running, "admin@bank.example", PASSWORD).status_code == 200


def test_unknown_accounts_are_throttled_like_known_ones(service: Callable[..., Service]) -> None:
    running = service()
    answers = [_attempt(running, "nobody@bank.example", "guess") for _ in range(ACCOUNT_FAILURES)]
    assert [a.status_code for a in answers] == [401] * ACCOUNT_FAILURES
    assert len({a.json()["error"]["message"] for a in answers}) == 1
    assert _attempt(running, "nobody@bank.example", "guess").status_code == 429


def test_failures_keep_no_readable_email_or_address(service: Callable[..., Service]) -> None:
    running = service()
    _attempt(running, "Typed.Password.Here@bank.example", "guess")
    with state_of(running.app).sessions() as session:
        failures = session.scalars(select(SignInFailure)).all()
    assert len(failures) == 1
    digest = hashlib.sha256(b"typed.password.here@bank.example").hexdigest()
    assert failures[0].account == digest
    assert "typed" not in failures[0].address and "testclient" not in failures[0].address


@pytest.fixture
def scrypt_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[bytes]]:
    """The salts of every scrypt computed (the costly step of a password check)."""
    calls: list[bytes] = []
    real = hashlib.scrypt

    def counted(password: bytes, **options: Any) -> bytes:
        calls.append(options["salt"])
        return real(password, **options)

    monkeypatch.setattr(hashlib, "scrypt", counted)
    yield calls


def test_every_sign_in_costs_one_scrypt_whether_the_account_exists_or_not(
    service: Callable[..., Service], scrypt_calls: list[bytes]
) -> None:
    running = service()
    with unit_of_work(state_of(running.app).sessions) as session:
        session.execute(
            update(User).where(User.email == "officer@bank.example").values(active=False)
        )
    cases = {
        "unknown": ("nobody@bank.example", PASSWORD),
        "wrong password": (REVIEWER, "wrong password!"),
        "disabled": ("officer@bank.example", PASSWORD),
        "right password": ("admin@bank.example", PASSWORD),
    }
    for name, (email, password) in cases.items():
        scrypt_calls.clear()
        status = _attempt(running, email, password).status_code
        assert status == (200 if name == "right password" else 401), name
        assert len(scrypt_calls) == 1, name


def test_signing_out_revokes_the_token_and_only_that_token(
    service: Callable[..., Service],
) -> None:
    running = service()
    first = bearer(_attempt(running, REVIEWER, PASSWORD).json()["token"])
    second = bearer(_attempt(running, REVIEWER, PASSWORD).json()["token"])
    assert first != second
    assert running.client.get("/v1/reviews", headers=first).status_code == 200
    assert running.client.delete("/v1/auth/token", headers=first).status_code == 204
    after = running.client.get("/v1/reviews", headers=first)
    assert after.status_code == 401 and "sign in again" in after.json()["error"]["message"]
    assert running.client.delete("/v1/auth/token", headers=first).status_code == 401
    assert running.client.get("/v1/reviews", headers=second).status_code == 200
    with state_of(running.app).sessions() as session:
        revoked = session.scalars(select(RevokedToken)).all()
    assert len(revoked) == 1
    payload = _payload(token_of(first))
    assert revoked[0].jti == payload["jti"]
    assert revoked[0].expires_at.timestamp() == payload["exp"]


def test_a_token_without_an_id_opens_nothing(service: Callable[..., Service]) -> None:
    running = service()
    secret = running.settings.app.secret_key.get_secret_value()
    with state_of(running.app).sessions() as session:
        admin = session.scalar(select(User).where(User.email == "admin@bank.example"))
        assert admin is not None
    body = {"sub": admin.id, "kind": "user", "exp": int(time.time()) + 600}
    raw = base64.urlsafe_b64encode(json.dumps(body).encode()).rstrip(b"=")
    signature = hmac.new(secret.encode(), raw, hashlib.sha256).digest()
    token = f"{raw.decode()}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"
    assert running.client.get("/v1/systems", headers=bearer(token)).status_code == 401


def test_signing_out_of_the_pages_revokes_the_session(service: Callable[..., Service]) -> None:
    running = service()
    token = token_of(running.headers["officer"])
    with viewing_as(running.client, token) as client:
        page = client.get("/dashboard", follow_redirects=False)
        assert page.status_code == 200
        forged = client.post("/logout", follow_redirects=False)  # another site's form
        assert forged.status_code == 403
        out = client.post("/logout", data={"csrf": csrf_of(page.text)}, follow_redirects=False)
        assert out.status_code == 303
    with viewing_as(running.client, token) as client:
        again = client.get("/dashboard", follow_redirects=False)
        assert again.status_code == 303 and again.headers["location"].startswith("/login")
    assert running.client.get("/v1/systems", headers=bearer(token)).status_code == 401


def test_the_sign_in_page_is_throttled_too(service: Callable[..., Service]) -> None:
    running = service()
    with viewing_as(running.client, None) as client:
        form = {**sign_in_form(client), "email": REVIEWER, "password": "wrong password!"}
        for _ in range(ACCOUNT_FAILURES):
            assert client.post("/login", data=form).status_code == 401
        refused = client.post("/login", data={**form, "password": PASSWORD})
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert "too many failed sign-ins" in refused.text


def _payload(token: str) -> dict[str, Any]:
    raw = token.split(".")[0]
    payload: dict[str, Any] = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    return payload


def test_the_sign_in_form_needs_its_csrf_token(service: Callable[..., Service]) -> None:
    running = service()
    with viewing_as(running.client, None) as client:
        form = {"email": REVIEWER, "password": PASSWORD}
        assert client.post("/login", data=form).status_code == 403  # no form loaded
        hidden = sign_in_form(client)
        assert client.post("/login", data={**form, "csrf": "0" * 64}).status_code == 403
        client.cookies.clear()  # the token belongs to the browser that loaded the form
        assert client.post("/login", data={**form, **hidden}).status_code == 403
        answer = client.post(
            "/login", data={**form, **sign_in_form(client)}, follow_redirects=False
        )
        assert answer.status_code == 303
