"""The application factory: settings, database, gateway, every router, one error handler."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ethica._version import __version__
from ethica.errors import EthicaError
from ethica.service.candidates.api import router as candidates
from ethica.service.concerns.api import router as concerns
from ethica.service.consent.api import router as consent
from ethica.service.decisions.api import router as decisions
from ethica.service.decisions.retention import start_schedule
from ethica.service.errors import STATUS, TooManyAttemptsError
from ethica.service.governance.api import router as governance
from ethica.service.health import router as health
from ethica.service.ledger import heads
from ethica.service.ledger.api import router as ledger
from ethica.service.monitoring.job import start_schedule as monitoring_schedule
from ethica.service.notifications import webhooks
from ethica.service.notifications.api import router as notifications
from ethica.service.reviews import escalation
from ethica.service.reviews.api import router as reviews
from ethica.service.settings import Settings, get_settings
from ethica.service.state import ServiceState, build_state, state_of
from ethica.service.strict_transport import StrictTransport
from ethica.service.subjects.api import router as subjects
from ethica.service.subjects.replay import RestoredErasureError, refuse_restored_erasures
from ethica.service.systems.api import router as systems
from ethica.service.text import CleanText
from ethica.service.users.api import router as users
from ethica.service.web import is_page, wants_page
from ethica.service.web.assets import router as assets
from ethica.service.web.console.case import router as console_case
from ethica.service.web.console.routes import router as console
from ethica.service.web.dashboard.candidates import router as dashboard_candidates
from ethica.service.web.dashboard.decision import router as dashboard_decision
from ethica.service.web.dashboard.governance import router as dashboard_governance
from ethica.service.web.dashboard.monitoring import router as dashboard_monitoring
from ethica.service.web.dashboard.routes import router as dashboard
from ethica.service.web.dashboard.transparency import router as dashboard_transparency
from ethica.service.web.errors import page_error
from ethica.service.web.pages import router as pages
from ethica.service.web.portal.routes import router as portal
from ethica.service.web.rendering import STATIC

log = logging.getLogger("ethica.service")

__all__ = ["ServiceState", "create_app", "create_worker_app", "state_of"]


def create_app(settings: Settings | None = None, *, migrate: bool = True) -> FastAPI:
    """Build the service: connect the database, bring it up to date, mount every router."""
    settings = settings or get_settings()
    state = build_state(settings, migrate=migrate, background_checkpoints=True)
    try:  # a database restored from before an erasure serves nobody until it is replayed
        refuse_restored_erasures(state.sessions, master_key=settings.ledger.master_key_bytes)
    except RestoredErasureError:
        state.close()
        raise

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        retention = start_schedule(state.writer, hours=settings.gateway.retention_interval_hours)
        escalating = escalation.start_schedule(state.writer)
        monitoring = monitoring_schedule(
            state.writer,
            database_url=settings.database.url,
            master_key=settings.ledger.master_key_bytes,
            hours=settings.gateway.monitoring_interval_hours,
        )
        notifying = webhooks.start_schedule(state.sessions, settings.notifications)
        signing = heads.start_schedule(
            state.writer, state.heads, seconds=settings.ledger.head_every_seconds
        )
        yield
        if signing is not None:
            signing.cancel()
        if retention is not None:
            retention.cancel()
        if escalating is not None:
            escalating.cancel()
        if monitoring is not None:
            monitoring.cancel()
        if notifying is not None:
            notifying.cancel()
        state.close()

    app = FastAPI(
        title="ethica",
        version=__version__,
        description="The decision gateway: consent, minimization, scoring, explanation, "
        "human oversight and a tamper-evident ledger for customer-facing AI decisions.",
        lifespan=lifespan,
        # Swagger UI is served from the package (web/assets.py); ReDoc would load from a CDN.
        docs_url=None,
        redoc_url=None,
    )
    app.state.ethica = state
    _mount(app)
    _handle_errors(app)
    app.add_middleware(CleanText)
    if settings.app.environment == "production":
        app.add_middleware(StrictTransport)
    app.add_middleware(BodyLimit, limit=settings.app.max_request_bytes)  # outermost
    return app


def create_worker_app() -> FastAPI:
    """The app of one of several worker processes (``ethica serve --workers``).

    Settings come from the environment; the parent process migrated the database already.
    """
    return create_app(migrate=False)


def _mount(app: FastAPI) -> None:
    """Every router, in one place."""
    # Decisions first: the router tries routes in order, and the decision path is the hot one
    # (no other router's paths overlap the decision routes' paths).
    routers = (
        decisions, health, users, systems, governance, ledger, subjects, consent, reviews,
        concerns, notifications, candidates,
    )  # fmt: skip
    for router in routers:
        app.include_router(router)
    for face in (
        assets,
        pages,
        portal,
        console,
        console_case,
        dashboard,
        dashboard_decision,
        dashboard_monitoring,
        dashboard_candidates,
        dashboard_transparency,  # before the governance pages, which take any path as a system
        dashboard_governance,
    ):
        app.include_router(face)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")


def _handle_errors(app: FastAPI) -> None:
    @app.exception_handler(EthicaError)
    async def domain_error(request: Request, error: EthicaError) -> Response:
        for kind, status, code in STATUS:
            if isinstance(error, kind):
                if is_page(request.url.path):
                    return page_error(request, error, status, str(error))
                return _error(status, code, str(error), headers=_headers(error))
        log.exception("unexpected domain error", exc_info=error)
        return _error(500, "internal", "the service failed; the error was logged")

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> Response:
        details = [
            {"location": ".".join(str(p) for p in e["loc"]), "message": e["msg"]}
            for e in error.errors()
        ]
        message = "; ".join(f"{d['location']}: {d['message']}" for d in details[:5])
        if is_page(request.url.path):
            return page_error(request, error, 422, f"what was sent is not valid: {message}")
        return _error(422, "invalid", f"the request is not valid: {message}", details)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        if is_page(request.url.path) or wants_page(request):
            return page_error(request, error, error.status_code, str(error.detail))
        code = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "error")
        return _error(error.status_code, code, str(error.detail))


def _error(
    status: int,
    code: str,
    message: str,
    details: Any = None,
    *,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {"error": {"code": code, "message": message}}
    if details is not None:
        body["error"]["details"] = details
    return JSONResponse(body, status_code=status, headers=headers)


def _headers(error: EthicaError) -> dict[str, str] | None:
    if isinstance(error, TooManyAttemptsError):
        return {"Retry-After": str(error.retry_after_seconds)}
    return None


class BodyLimit:
    """Refuse request bodies over ``limit`` bytes with 413, before reading them whole."""

    def __init__(self, app: ASGIApp, *, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(send)
            return
        received = 0
        exceeded = False
        answered = False

        async def limited() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    exceeded = True
                    raise _TooLarge
            return message

        async def guarded(message: Message) -> None:
            # Whatever the app answers to a body cut short (FastAPI turns the error into a 400
            # "error parsing the body") is replaced by the 413 that says what happened.
            nonlocal answered
            if exceeded:
                return
            answered = True
            await send(message)

        try:
            await self.app(scope, limited, guarded)
        except Exception:
            if not exceeded:
                raise
        if exceeded and not answered:
            await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        response = _error(
            413, "payload_too_large", f"the request body is over the limit of {self.limit} bytes"
        )
        await response({"type": "http"}, _no_body, send)


class _TooLarge(Exception):
    pass


async def _no_body() -> Message:
    return {"type": "http.request", "body": b""}
