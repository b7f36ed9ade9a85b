"""Signing in to the pages: staff by password, customers by link; CSRF; errors as pages."""

from __future__ import annotations

from collections.abc import Callable

from service_testing import PASSWORD, Service
from web_testing import csrf_of, customer_token, sign_in_form, viewing_as

from ethica.service.web.rendering import CONTENT_SECURITY_POLICY
from ethica.service.web.session import COOKIE


def test_staff_sign_in_sets_an_httponly_cookie_and_lands_on_their_face(
    service: Callable[..., Service],
) -> None:
    running = service()
    client = running.client
    with viewing_as(client, None):
        page = client.get("/login")
        assert page.status_code == 200
        assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert 'for="email"' in page.text and 'for="password"' in page.text
        answer = client.post(
            "/login",
            data={
                "email": "Reviewer@bank.example",
                "password": PASSWORD,
                "csrf": csrf_of(page.text),
            },
            follow_redirects=False,
        )
        assert answer.status_code == 303
        assert answer.headers["location"] == "/console"
        cookie = answer.headers["set-cookie"]
        assert cookie.startswith(f"{COOKIE}=") and "HttpOnly" in cookie
        assert "samesite=lax" in cookie.lower()
        assert client.get("/", follow_redirects=False).headers["location"] == "/console"


def test_wrong_password_shows_the_form_again_with_a_message(
    service: Callable[..., Service],
) -> None:
    running = service()
    with viewing_as(running.client, None) as client:
        form = {**sign_in_form(client), "email": "officer@bank.example", "password": "no"}
        answer = client.post("/login", data=form)
        assert answer.status_code == 401
        assert "wrong email or password" in answer.text
        assert COOKIE not in client.cookies


def test_sign_in_goes_on_only_to_local_pages(service: Callable[..., Service]) -> None:
    running = service()
    with viewing_as(running.client, None) as client:
        hidden = sign_in_form(client)
        for target, expected in (
            ("/dashboard", "/dashboard"),
            ("https://evil.example/", "/dashboard"),
            ("//evil.example/", "/dashboard"),
        ):
            answer = client.post(
                "/login",
                data={
                    **hidden,
                    "email": "officer@bank.example",
                    "password": PASSWORD,
                    "next": target,
                },
                follow_redirects=False,
            )
            assert answer.headers["location"] == expected


def test_a_customer_link_moves_the_token_into_the_cookie(service: Callable[..., Service]) -> None:
    running = service()
    secret = running.settings.app.secret_key.get_secret_value()
    with viewing_as(running.client, None) as client:
        token = customer_token("cust-7", secret=secret)
        answer = client.get(f"/portal/enter?token={token}", follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"] == "/portal"
        assert client.cookies[COOKIE] == token


def test_a_forged_or_staff_link_is_refused_with_a_page(service: Callable[..., Service]) -> None:
    running = service()
    staff_token = running.headers["officer"]["Authorization"].removeprefix("Bearer ")
    with viewing_as(running.client, None) as client:
        for token in ("forged.token", staff_token):
            answer = client.get(f"/portal/enter?token={token}", follow_redirects=False)
            assert answer.status_code == 401
            assert answer.headers["content-type"].startswith("text/html")
            assert "Open the link in your bank's app again" in answer.text
            assert COOKIE not in client.cookies


def test_demo_customer_login_only_when_switched_on(service: Callable[..., Service]) -> None:
    off = service()
    with viewing_as(off.client, None) as client:
        assert "Demo: customer id" not in client.get("/login").text
        form = {**sign_in_form(client), "subject_id": "cust-1"}
        assert client.post("/login/customer", data=form).status_code == 403
    on = service(app={"demo_logins": True})
    with viewing_as(on.client, None) as client:
        assert "Demo: customer id" in client.get("/login").text
        form = {**sign_in_form(client), "subject_id": "cust-1"}
        answer = client.post("/login/customer", data=form, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"] == "/portal"


def test_demo_logins_are_refused_outside_development() -> None:
    import pytest

    from ethica.service.settings import Settings

    with pytest.raises(ValueError, match="demo logins"):
        Settings(
            app={"environment": "production", "demo_logins": True, "secret_key": "s" * 40},
            ledger={"master_key": "m" * 44, "signing_key": "k" * 44},
        )


def test_pages_answer_errors_as_pages_and_the_api_as_json(
    service: Callable[..., Service],
) -> None:
    running = service()
    with viewing_as(running.client, None) as client:
        page = client.get("/console/no-such-page", follow_redirects=False)
        api = client.get("/v1/no-such-route")
    assert page.headers["content-type"].startswith("text/html")
    assert page.status_code in (303, 404)
    assert api.headers["content-type"].startswith("application/json")
    assert api.json()["error"]["code"] == "not_found"
