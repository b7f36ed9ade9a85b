"""Fixtures of the service tests: a fresh database on SQLite and PostgreSQL, a running app, roles.

``database_url``
    Parametrized: a new SQLite file in ``tmp_path``, and a PostgreSQL database created for the
    test module (``CREATE DATABASE ethica_test_<random>``, dropped afterwards) whose schema is
    emptied before each test. PostgreSQL tests skip, with the reason, when the server is
    unreachable (``ETHICA_TEST_POSTGRESQL_URL``, default the ``postgres`` database on localhost).
``service``
    A factory: ``service(**settings)`` builds the app on ``database_url`` and enters its
    ``TestClient``, with an admin, an officer and a reviewer signed in.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest
from fastapi.testclient import TestClient
from service_testing import PASSWORD, STAFF, Service, credit_frame, sign_in
from sqlalchemy import select

from ethica.service.app import create_app, state_of
from ethica.service.db import unit_of_work
from ethica.service.settings import Settings
from ethica.service.users import service as users
from ethica.service.users.tables import User

POSTGRESQL_URL_VARIABLE = "ETHICA_TEST_POSTGRESQL_URL"
DEFAULT_SERVER_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


@pytest.fixture(scope="session")
def lightgbm_model() -> Any:
    """A small LightGBM classifier on :func:`credit_frame`."""
    lightgbm = pytest.importorskip("lightgbm")
    frame, label = credit_frame()
    return lightgbm.LGBMClassifier(n_estimators=20, verbose=-1).fit(frame, label)


@pytest.fixture(scope="session")
def lightgbm_bytes(lightgbm_model: Any) -> bytes:
    """The LightGBM model in its text format."""
    from ethica.scoring import dump_model

    return dump_model(lightgbm_model, "lightgbm")


# --- databases ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def postgresql_database() -> Iterator[str]:
    """A new PostgreSQL database for this module, dropped afterwards."""
    psycopg = pytest.importorskip("psycopg", reason="psycopg is not installed")
    from psycopg import sql

    server = os.environ.get(POSTGRESQL_URL_VARIABLE, DEFAULT_SERVER_URL)
    name = f"ethica_test_{uuid.uuid4().hex[:12]}"
    try:
        with psycopg.connect(server, autocommit=True, connect_timeout=3) as connection:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.Error as error:
        pytest.skip(
            f"PostgreSQL is unreachable at {server} (set {POSTGRESQL_URL_VARIABLE}): {error}"
        )
    base, _, _ = server.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(server, autocommit=True) as connection:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)],
)
def database_url(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    """A fresh, empty database: a SQLite file, or the module's PostgreSQL database emptied."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ethica.db'}"
    import psycopg

    url: str = request.getfixturevalue("postgresql_database")
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("DROP SCHEMA public CASCADE")
        connection.execute("CREATE SCHEMA public")
    return url


# --- a running service -------------------------------------------------------------------


@pytest.fixture
def service(database_url: str) -> Iterator[Callable[..., Service]]:
    """Factory of running services on the test's database (each closed after the test)."""
    with ExitStack() as stack:

        def start(**settings: Any) -> Service:
            app = create_app(Settings(database={"url": database_url}, **settings))
            client = stack.enter_context(TestClient(app))
            running = Service(app, client)
            with unit_of_work(state_of(app).sessions) as session:
                for role in STAFF:
                    if session.scalar(select(User).where(User.email == f"{role}@bank.example")):
                        continue
                    users.create_user(
                        session,
                        email=f"{role}@bank.example",
                        name=role.title(),
                        role=role,
                        password=PASSWORD,
                    )
            for role in STAFF:
                running.headers[role] = sign_in(client, f"{role}@bank.example")
            return running

        yield start


@pytest.fixture(autouse=True)
def _cheaper_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """scrypt at a low cost: the tests sign in often, and the hashing logic is what they check."""
    from ethica.service import auth

    monkeypatch.setattr(auth, "_SCRYPT", {**auth._SCRYPT, "n": 2**8})
