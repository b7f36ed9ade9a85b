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


SessionDep = Annotated[Session, Depends(_session)]
