"""What the page tests share: being someone in the browser's cookie jar, reading CSRF tokens."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from fastapi.testclient import TestClient

from ethica.service.auth import sign_token
from ethica.service.web.session import COOKIE

_CSRF = re.compile(r'name="csrf" value="([0-9a-f]{64})"')


def token_of(headers: dict[str, str]) -> str:
    """The signed token inside ``Authorization: Bearer`` headers."""
    return headers["Authorization"].removeprefix("Bearer ")


def customer_token(subject_id: str, *, secret: str, minutes: int = 10) -> str:
    """A customer's signed link token, as the business's app would get it."""
    return sign_token({"sub": subject_id, "kind": "customer"}, secret=secret, minutes=minutes)


@contextmanager
def viewing_as(client: TestClient, token: str | None) -> Iterator[TestClient]:
    """The client with ``token`` as its session cookie (none if ``None``), restored afterwards."""
    saved = dict(client.cookies)
    client.cookies.clear()
    if token is not None:
        client.cookies.set(COOKIE, token)
    try:
        yield client
    finally:
        client.cookies.clear()
        for name, value in saved.items():
            client.cookies.set(name, value)


def csrf_of(page: str) -> str:
    """The CSRF token in a page's forms."""
    found = _CSRF.search(page)
    assert found is not None, "the page has no form with a CSRF token"
    return found.group(1)


def sign_in_form(client: TestClient) -> dict[str, str]:
    """The hidden fields of the sign-in form, as the browser got it (its CSRF token)."""
    page = client.get("/login")
    assert page.status_code == 200
    return {"csrf": csrf_of(page.text)}
