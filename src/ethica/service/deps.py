"""What routes may depend on: the service state, its parts, the request's session and scopes.

Routes reach the state only through these aliases (never by importing the app), as in
full-stack-fastapi-template's ``api/deps.py``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from ethica.service.auth import Principal, authenticate, cached_application
from ethica.service.db import unit_of_work
from ethica.service.decisions.gateway import Gateway
from ethica.service.errors import PermissionDeniedError
from ethica.service.ledger.writer import Batch, LedgerWriter
from ethica.service.scopes import SCOPES
from ethica.service.settings import Settings
from ethica.service.state import ServiceState, state_of

T = TypeVar("T")

# Async, so resolving them costs no trip to the thread pool.


async def _state(request: Request) -> ServiceState:
    return state_of(request.app)


async def _settings(request: Request) -> Settings:
    return state_of(request.app).settings


async def _gateway(request: Request) -> Gateway:
    return state_of(request.app).gateway


async def _writer(request: Request) -> LedgerWriter:
    return state_of(request.app).writer


def _address(request: Request) -> str:
    # The proxy's address, unless the server trusts forwarded headers (uvicorn --proxy-headers).
    return request.client.host if request.client is not None else "unknown"


StateDep = Annotated[ServiceState, Depends(_state)]
SettingsDep = Annotated[Settings, Depends(_settings)]
AddressDep = Annotated[str, Depends(_address)]
"""The caller's network address (sign-in throttling counts failures per address)."""
GatewayDep = Annotated[Gateway, Depends(_gateway)]
WriterDep = Annotated[LedgerWriter, Depends(_writer)]


def _session(request: Request) -> Iterator[Session]:
    with unit_of_work(state_of(request.app).sessions) as session:
        yield session


# scope="function": the commit runs before the response is sent, so a caller is never told
# "created" about work whose commit then failed (FastAPI's default runs it afterwards).
SessionDep = Annotated[Session, Depends(_session, scope="function")]


async def run_job(request: Request, job: Callable[[Batch], T]) -> T:
    """Run a ledger-affecting change on the ledger writer; returns after the commit holding it."""
    return await asyncio.wrap_future(state_of(request.app).writer.submit(job))


class ScopeCheck:
    """A route dependency that requires one scope; routes declare it so tests can find it."""

    def __init__(self, scope: str) -> None:
        if scope not in SCOPES:
            raise ValueError(f"unknown scope {scope!r}")
        self.scope = scope

    async def __call__(self, request: Request) -> Principal:
        # A cached API key is checked on the event loop; anything else reads the database in
        # the thread pool, as a sync dependency would.
        principal = cached_application(request.headers.get("authorization"))
        if principal is None:
            principal = await run_in_threadpool(_principal, request)
        if not principal.can(self.scope):
            raise PermissionDeniedError(f"this needs the scope {self.scope!r}")
        return principal


def _principal(request: Request) -> Principal:
    state = state_of(request.app)
    with state.sessions() as session:
        return authenticate(
            session,
            request.headers.get("authorization"),
            secret=state.settings.app.secret_key.get_secret_value(),
        )


def requires(scope: str) -> Any:
    """``Depends`` on the caller holding ``scope``; returns the :class:`Principal`."""
    return Depends(ScopeCheck(scope))
