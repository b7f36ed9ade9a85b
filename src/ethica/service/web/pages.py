"""Signing in and out of the pages, and where each role lands.

Staff sign in with email and password; customers arrive with a signed link from the business's
app (``/portal/enter?token=...``), or — in development with ``demo_logins`` on — by typing a
customer id on the sign-in page.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from ethica.service.auth import read_token, sign_token
from ethica.service.deps import AddressDep, SessionDep
from ethica.service.errors import (
    AuthenticationError,
    PermissionDeniedError,
    TooManyAttemptsError,
)
from ethica.service.settings import AppSettings
from ethica.service.state import state_of
from ethica.service.subjects.ids import MAX_LENGTH, PATTERN
from ethica.service.users.sign_in import revoke, sign_in
from ethica.service.users.tables import User
from ethica.service.web.rendering import render
from ethica.service.web.session import (
    COOKIE,
    LOGIN_COOKIE,
    OUT_OF_DATE,
    cookie_settings,
    csrf_token,
)

router = APIRouter(tags=["web"], include_in_schema=False)

#: Where each role lands after signing in.
HOME = {
    "customer": "/portal",
    "reviewer": "/console",
    "officer": "/dashboard",
    "admin": "/dashboard",
}


def _settings(request: Request) -> AppSettings:
    return state_of(request.app).settings.app


def _safe_next(target: str | None, fallback: str) -> str:
    """A local path to go on to (never another site), or ``fallback``."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return fallback


def _signed_in(target: str, token: str, request: Request) -> RedirectResponse:
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(COOKIE, token, **cookie_settings(request))
    return response


@router.get("/")
def home(request: Request, session: SessionDep) -> Response:
    """Send a signed-in person to their face, anyone else to sign in."""
    token = request.cookies.get(COOKIE)
    if token:
        try:
            payload = read_token(token, secret=_settings(request).secret_key.get_secret_value())
        except AuthenticationError:
            payload = {}
        if payload.get("kind") == "customer":
            return RedirectResponse("/portal", status_code=303)
        user = session.get(User, str(payload.get("sub"))) if payload.get("kind") == "user" else None
        if user is not None and user.active:
            return RedirectResponse(HOME.get(user.role, "/login"), status_code=303)
    return RedirectResponse("/login", status_code=303)


@router.get("/login")
def login_page(
    request: Request, next: Annotated[str | None, Query(max_length=500)] = None
) -> Response:
    """The sign-in form (and, if the browser has none yet, the cookie its CSRF token is tied to)."""
    nonce = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(32)
    page = render(
        request, "login.html", _login_context(request, next=next, error=None, nonce=nonce)
    )
    if request.cookies.get(LOGIN_COOKIE) != nonce:
        page.set_cookie(LOGIN_COOKIE, nonce, **{**cookie_settings(request), "path": "/login"})
    return page


@router.post("/login")
def login(
    request: Request,
    address: AddressDep,
    email: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=1000)],
    csrf: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str | None, Form(max_length=500)] = None,
) -> Response:
    """Check a staff member's email and password; on success set the session cookie."""
    _check_login_csrf(request, csrf)
    settings = _settings(request)
    sessions = state_of(request.app).sessions
    try:
        user = sign_in(sessions, email=email, password=password, address=address)
    except AuthenticationError as error:
        context = _login_context(request, next=next, error=str(error), email=email)
        return render(request, "login.html", context, status=401)
    except TooManyAttemptsError as error:
        context = _login_context(request, next=next, error=str(error), email=email)
        wait = {"Retry-After": str(error.retry_after_seconds)}
        return render(request, "login.html", context, status=429, headers=wait)
    token = sign_token(
        {"sub": user.user_id, "kind": "user"},
        secret=settings.secret_key.get_secret_value(),
        minutes=settings.session_minutes,
    )
    return _signed_in(_safe_next(next, HOME.get(user.role, "/")), token, request)


@router.post("/login/customer")
def demo_customer_login(
    request: Request,
    subject_id: Annotated[str, Form(min_length=1, max_length=MAX_LENGTH, pattern=PATTERN)],
    csrf: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Sign in as a customer by id: the demo's customer login, development only."""
    _check_login_csrf(request, csrf)
    settings = _settings(request)
    if settings.environment != "development" or not settings.demo_logins:
        context = _login_context(
            request, next=None, error="customers sign in with the link from their bank's app"
        )
        return render(request, "login.html", context, status=403)
    token = sign_token(
        {"sub": subject_id.strip(), "kind": "customer"},
        secret=settings.secret_key.get_secret_value(),
        minutes=settings.customer_link_minutes,
    )
    return _signed_in("/portal", token, request)


@router.get("/portal/enter")
def enter_portal(
    request: Request, token: Annotated[str, Query(min_length=1, max_length=4000)]
) -> Response:
    """A customer arrives with a signed link; the token moves into the cookie, off the URL."""
    payload = read_token(token, secret=_settings(request).secret_key.get_secret_value())
    if payload.get("kind") != "customer":
        raise AuthenticationError("this link is not a customer link")
    return _signed_in("/portal", token, request)


@router.post("/logout")
def logout(
    request: Request, session: SessionDep, csrf: Annotated[str, Form(max_length=200)] = ""
) -> Response:
    """End the session (its token is revoked) and forget the cookie; the form's CSRF token
    must be the session's, so another site cannot sign a person out."""
    token = request.cookies.get(COOKIE)
    if token:
        secret = _settings(request).secret_key.get_secret_value()
        if not hmac.compare_digest(csrf, csrf_token(token, secret=secret)):
            raise PermissionDeniedError(OUT_OF_DATE)
        try:
            payload = read_token(token, secret=secret)
        except AuthenticationError:
            payload = {}
        if isinstance(payload.get("jti"), str):
            revoke(session, jti=payload["jti"], expires=int(payload["exp"]))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


def _check_login_csrf(request: Request, given: str) -> None:
    """Refuse a sign-in form that did not come from our sign-in page in this browser."""
    nonce = request.cookies.get(LOGIN_COOKIE)
    if not nonce or not hmac.compare_digest(given, _login_csrf(request, nonce)):
        raise PermissionDeniedError(OUT_OF_DATE)


def _login_csrf(request: Request, nonce: str) -> str:
    return csrf_token(f"login:{nonce}", secret=_settings(request).secret_key.get_secret_value())


def _login_context(
    request: Request,
    *,
    next: str | None,
    error: str | None,
    email: str = "",
    nonce: str | None = None,
) -> dict[str, object]:
    settings = _settings(request)
    nonce = nonce or request.cookies.get(LOGIN_COOKIE) or ""
    return {
        "login_csrf": _login_csrf(request, nonce),
        "next": _safe_next(next, ""),
        "error": error,
        "email": email,
        "demo_logins": settings.environment == "development" and settings.demo_logins,
    }
