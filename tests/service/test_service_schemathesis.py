"""Schemathesis over every API operation, as every kind of caller: no 5xx, no undocumented status.

Examples are bounded per operation (:data:`EXAMPLES`, derandomized, so a run is repeatable);
each example is sent by every caller: nobody, each staff role, a customer, and an application
holding every application scope. Staff and customer tokens are signed afresh for each example,
so an example that signs out (``DELETE /v1/auth/token``) does not disarm the next ones.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from service_testing import PASSWORD, STAFF, Service, bearer, sign_in
from sqlalchemy import select

from ethica.service import auth
from ethica.service.app import create_app, state_of
from ethica.service.db import unit_of_work
from ethica.service.scopes import APPLICATION_SCOPES
from ethica.service.settings import Settings
from ethica.service.users import service as users
from ethica.service.users.tables import User

schemathesis = pytest.importorskip("schemathesis")

pytestmark = pytest.mark.slow

EXAMPLES = 8
"""Examples generated per operation (each sent by every caller)."""


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)]
)
def running(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Service]:
    """One service for the module on each database, with a system, a model and a decision."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('schemathesis') / 'ethica.db'}"
    else:
        url = request.getfixturevalue("postgresql_database")
    app = create_app(Settings(database={"url": url}))
    with TestClient(app) as client:
        service = Service(app, client)
        with unit_of_work(state_of(app).sessions) as session:
            for role in STAFF:
                users.create_user(
                    session,
                    email=f"{role}@bank.example",
                    name=role.title(),
                    role=role,
                    password=PASSWORD,
                )
        for role in STAFF:
            service.headers[role] = sign_in(client, f"{role}@bank.example")
        service.register("credit")
        model = request.getfixturevalue("lightgbm_bytes")
        assert service.upload("credit", model, format="lightgbm").status_code == 201
        body = {"subject_id": "cust-1", "features": {"income": 20.0, "housing": "own"}}
        assert service.decide("credit", body).status_code == 201
        service.register("caller-scored")  # no model: callers send their scores
        service.headers["application"] = service.api_key(*sorted(APPLICATION_SCOPES))
        yield service


def _callers(running: Service) -> dict[str, dict[str, str]]:
    secret = running.settings.app.secret_key.get_secret_value()
    callers: dict[str, dict[str, str]] = {
        "nobody": {},
        "application": running.headers["application"],
        "customer": bearer(
            auth.sign_token({"sub": "cust-1", "kind": "customer"}, secret=secret, minutes=5)
        ),
    }
    with state_of(running.app).sessions() as session:
        for role in STAFF:
            user = session.scalar(select(User.id).where(User.email == f"{role}@bank.example"))
            callers[role] = bearer(
                auth.sign_token({"sub": user, "kind": "user"}, secret=secret, minutes=5)
            )
    return callers


def test_no_server_error_and_no_undocumented_status(running: Service) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", running.app)
    problems: list[str] = []
    statuses: Counter[int] = Counter()
    operations = 0
    for loaded in schema.get_all_operations():
        _examples(running, loaded.ok(), problems, statuses)()
        operations += 1
    assert operations >= 40
    assert sum(statuses.values()) >= operations * len(_callers(running)) * 2, statuses
    assert problems == []


def _examples(running: Service, operation: Any, problems: list[str], statuses: Counter[int]) -> Any:
    """The bounded examples of one operation, each sent by every caller."""
    documented = set(operation.definition.raw["responses"])

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],
        database=None,
    )
    def send(case: Any) -> None:
        for caller, headers in _callers(running).items():
            response = case.call(headers=headers)
            status = response.status_code
            statuses[status] += 1
            if status >= 500 or str(status) not in documented:
                problems.append(
                    f"{case.method} {case.formatted_path} as {caller}: {status} "
                    f"{response.text[:200]}"
                )

    return send
