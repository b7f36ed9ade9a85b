"""What the routes share: the request's database session (one commit), and ledger jobs."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Annotated, TypeVar

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from ethica.service.db import unit_of_work

if TYPE_CHECKING:
    from ethica.service.ledger.writer import Batch

T = TypeVar("T")


def _session(request: Request) -> Iterator[Session]:
    from ethica.service.app import state_of

    with unit_of_work(state_of(request.app).sessions) as session:
        yield session


# scope="function": the commit runs before the response is sent, so a caller is never told
# "created" about work whose commit then failed (FastAPI's default runs it afterwards).
SessionDep = Annotated[Session, Depends(_session, scope="function")]


async def run_job(request: Request, job: Callable[[Batch], T]) -> T:
    """Run a ledger-affecting change on the ledger writer; returns after the commit holding it."""
    from ethica.service.app import state_of

    return await asyncio.wrap_future(state_of(request.app).gateway.writer.submit(job))
