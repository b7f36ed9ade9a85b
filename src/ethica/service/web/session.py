"""Who is looking at a page: the session cookie, the CSRF token, the scope a page needs.

The cookie holds the same signed token as ``Authorization: Bearer`` does for the API (a staff
session token, or a customer's link token), so one verification path serves both. A change made
from a page (any method but GET/HEAD) must carry the CSRF token — an HMAC of the session token —
in the ``X-CSRF-Token`` header (htmx sends it from ``<body hx-headers>``) or a ``csrf`` form field.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from ethica.service.auth import Principal, authenticate
from ethica.service.errors import AuthenticationError, PermissionDeniedError
from ethica.service.notifications.service import unread_count
from ethica.service.scopes import SCOPES
from ethica.service.state import state_of
from ethica.service.users.tables import User

COOKIE = "ethica_session"
LOGIN_COOKIE = "ethica_login"
"""A random value tying the sign-in form's CSRF token to the browser that loaded the form."""
OUT_OF_DATE = "this form is out of date or came from another site; reload the page and try again"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class SignInRequired(AuthenticationError):
    """A page was asked for without a valid session: the browser is sent to sign in."""


@dataclass(frozen=True)
class Viewer:
    """The signed-in person looking at a page."""

    principal: Principal
    name: str
    csrf: str
    unread: int = 0  # a customer's unread notifications, shown in the menu

    @property
    def role(self) -> str:
        """``customer``, ``reviewer``, ``officer`` or ``admin``."""
        return self.principal.role

    @property
    def subject(self) -> str:
        """A customer's own subject id (pages for customers only)."""
        if self.principal.subject is None:
            raise PermissionDeniedError("this page is for customers")
        return self.principal.subject


def csrf_token(session_token: str, *, secret: str) -> str:
    """The CSRF token that goes with a session token."""
    return hmac.new(secret.encode(), b"csrf:" + session_token.encode(), hashlib.sha256).hexdigest()


def cookie_settings(request: Request) -> dict[str, Any]:
    """How the session cookie is set: HttpOnly, SameSite=Lax, Secure in production."""
    production = state_of(request.app).settings.app.environment == "production"
    return {"httponly": True, "samesite": "lax", "secure": production, "path": "/"}


class PageScopeCheck:
    """A page dependency that requires one scope; unlike the API's, it reads the cookie."""

    def __init__(self, scope: str) -> None:
        if scope not in SCOPES:
            raise ValueError(f"unknown scope {scope!r}")
        self.scope = scope

    async def __call__(self, request: Request) -> Viewer:
        token = request.cookies.get(COOKIE)
        if not token:
            raise SignInRequired("sign in to see this page")
        secret = state_of(request.app).settings.app.secret_key.get_secret_value()
        principal, name, unread = await run_in_threadpool(_signed_in, request, token)
        csrf = csrf_token(token, secret=secret)
        if request.method not in _SAFE_METHODS:
            await _check_csrf(request, csrf)
        if not principal.can(self.scope):
            raise PermissionDeniedError("your role does not give access to this page")
        return Viewer(principal, name, csrf, unread)


def page_requires(scope: str) -> Any:
    """``Depends`` on the signed-in viewer holding ``scope``; returns the :class:`Viewer`."""
    return Depends(PageScopeCheck(scope))


def _signed_in(request: Request, token: str) -> tuple[Principal, str, int]:
    state = state_of(request.app)
    with state.sessions() as session:
        try:
            principal = authenticate(
                session, f"Bearer {token}", secret=state.settings.app.secret_key.get_secret_value()
            )
        except AuthenticationError as error:
            raise SignInRequired(str(error)) from error
        if principal.kind == "application":
            raise SignInRequired("API keys cannot sign in to pages")
        if principal.subject is not None:
            return principal, "Customer", unread_count(session, subject_id=principal.subject)
        user = session.get(User, principal.id) if principal.kind == "user" else None
        return principal, user.name if user is not None else "Customer", 0


async def _check_csrf(request: Request, expected: str) -> None:
    given = request.headers.get(CSRF_HEADER)
    if given is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        field = (await request.form()).get(CSRF_FIELD)
        given = field if isinstance(field, str) else None
    if given is None or not hmac.compare_digest(given, expected):
        raise PermissionDeniedError(OUT_OF_DATE)
