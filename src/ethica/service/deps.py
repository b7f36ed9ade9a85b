"""Dependencies shared by the routes: the request's database session (one commit)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from ethica.service.db import unit_of_work


def _session(request: Request) -> Iterator[Session]:
    from ethica.service.app import state_of

    with unit_of_work(state_of(request.app).sessions) as session:
        yield session


# scope="function": the commit runs before the response is sent, so a caller is never told
# "created" about work whose commit then failed (FastAPI's default runs it afterwards).
SessionDep = Annotated[Session, Depends(_session, scope="function")]
