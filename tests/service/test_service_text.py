"""Text at the edge: NUL and control characters refused with 422 everywhere; poison isolated."""

from __future__ import annotations

import typing
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.routing import APIRoute
from service_testing import Service, credit_spec
from sqlalchemy import func, select

from ethica.service.app import state_of
from ethica.service.decisions.idempotency import Waiting
from ethica.service.decisions.schemas import DecisionCreate, DecisionRead
from ethica.service.decisions.tables import Decision
from ethica.service.ledger.service import verify_ledger
from ethica.service.text import CleanJson, RequestSchema, first_forbidden, forbidden_character


def _count(running: Service) -> int:
    with state_of(running.app).sessions() as session:
        return int(session.scalar(select(func.count()).select_from(Decision)) or 0)


def test_forbidden_characters_are_control_characters_and_lone_surrogates() -> None:
    for bad in ("\x00", "\x01", "\x1b", "\x7f", "\x85", "\ud800"):
        assert forbidden_character(f"ok{bad}ok") == f"U+{ord(bad):04X}"
    for good in ("plain", "tab\tline\nreturn\r", "Zoë 😀", "#!/\\'\"", ""):
        assert forbidden_character(good) is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"subject_id": "a\x00b", "score": 0.5}, "subject_id"),
        ({"subject_id": "a", "score": 0.5, "idempotency_key": "k\x00"}, "idempotency_key"),
        ({"subject_id": "a", "score": 0.5, "features": {"income\x00": 1.0}}, "features"),
        ({"subject_id": "a", "score": 0.5, "features": {"housing": "own\x07"}}, "housing"),
        ({"subject_id": "a", "score": 0.5, "protected": {"sex": "F\x00"}}, "protected.sex"),
    ],
)
def test_a_body_with_a_control_character_is_refused_naming_the_field(
    service: Callable[..., Service], body: dict[str, Any], field: str
) -> None:
    running = service()
    running.register("credit")
    answer = running.decide("credit", body)
    assert answer.status_code == 422, answer.text
    message = answer.json()["error"]["message"]
    assert field in message and "U+00" in message
    assert _count(running) == 0


def test_every_kind_of_string_a_caller_sends_is_checked(service: Callable[..., Service]) -> None:
    running = service()
    running.register("credit")
    admin = running.headers["admin"]
    client = running.client
    answers = {
        "path": client.get("/v1/systems/cre%00dit", headers=admin),
        "query": client.get("/v1/decisions", params={"subject_id": "a\x00"}, headers=admin),
        "query name": client.get("/v1/decisions?sub%01ject=1", headers=admin),
        "spec": client.put(
            "/v1/systems/other", json=credit_spec(description="a\x00b"), headers=admin
        ),
        "login": client.post("/v1/auth/token", json={"email": "a@b\x00", "password": "x"}),
        "form": client.post("/login", data={"email": "a\x00@bank.example", "password": "x"}),
        "user": client.post(
            "/v1/users",
            json={
                "email": "n@bank.example",
                "name": "N\x00",
                "role": "admin",
                "password": "p" * 12,
            },
            headers=admin,
        ),
    }
    for where, answer in answers.items():
        assert answer.status_code == 422, (where, answer.status_code, answer.text)
        assert "U+000" in answer.text, where


def test_every_api_body_is_a_checked_schema(service: Callable[..., Service]) -> None:
    """Pages send forms (checked by the middleware); the API's bodies check themselves."""
    running = service()
    checked = 0

    def walk(routes: list[Any]) -> None:
        nonlocal checked
        for route in routes:
            if isinstance(route, APIRoute) and "web" not in route.tags:
                for param in route.dependant.body_params:
                    annotation = param.field_info.annotation
                    schema = isinstance(annotation, type) and issubclass(annotation, RequestSchema)
                    clean = list(param.field_info.metadata) == list(typing.get_args(CleanJson)[1:])
                    assert schema or clean, f"{route.path}: {param.name} is not checked"
                    checked += 1
            elif hasattr(route, "original_router"):
                walk(route.original_router.routes)

    walk(running.app.routes)
    assert checked >= 20


def _poisoned(i: int) -> dict[str, Any]:
    if i % 2:
        return {"subject_id": f"bad-{i}\x00", "score": 0.5}
    return {"subject_id": f"bad-{i}", "score": 0.5, "idempotency_key": f"key-{i}\x00"}


def test_poison_pill_64_concurrent_clients_8_with_nul_bytes(
    service: Callable[..., Service],
) -> None:
    running = service()
    running.register("credit")
    key = running.api_key("decisions:write")
    bodies = [
        _poisoned(i)
        if i % 8 == 0
        else {"subject_id": f"good-{i}", "score": i / 64, "idempotency_key": f"key-{i}"}
        for i in range(64)
    ]

    def send(body: dict[str, Any]) -> int:
        return int(running.decide("credit", body, headers=key).status_code)

    for _ in range(2):  # twice: the second round meets recorded keys
        with ThreadPoolExecutor(max_workers=64) as pool:
            statuses = list(pool.map(send, bodies))
        for body, status in zip(bodies, statuses, strict=True):
            assert status == (201 if body["subject_id"].startswith("good") else 422), body
    assert _count(running) == 56
    state = state_of(running.app)
    with state.sessions() as session:
        assert verify_ledger(session, settings=state.settings).ok


def test_a_request_the_database_refuses_fails_alone_in_its_batch(
    service: Callable[..., Service], database_url: str
) -> None:
    """Past the edge (the Python gateway builds requests unchecked), a batch still isolates."""
    running = service()
    running.register("credit")
    gateway = state_of(running.app).gateway
    requests = [
        DecisionCreate(subject_id=f"good-{i}", score=0.5, idempotency_key=f"k-{i}")
        for i in range(12)
    ]
    requests[3] = DecisionCreate.model_construct(subject_id="bad\x00", score=0.5)
    requests[7] = DecisionCreate.model_construct(
        subject_id="bad-key", score=0.5, idempotency_key="k\x00"
    )
    waiting = [Waiting("credit", request, Future[DecisionRead]()) for request in requests]
    gateway._decide_batch("credit", waiting)
    answers = [w.future.exception(timeout=60) for w in waiting]
    for i, error in enumerate(answers):
        if i not in (3, 7):
            assert error is None, (i, error)
        elif database_url.startswith("postgresql"):
            assert error is not None, i  # PostgreSQL refuses NUL in text
    assert _count(running) == 10 + (0 if database_url.startswith("postgresql") else 2)


@pytest.mark.parametrize(
    ("value", "place"),
    [
        ({"a": [1, {"b": ("ok", "x\x00")}]}, "a[1].b[1]"),
        ({"k\x1b": 1.5}, "a key"),
        ([None, True, 2, 3.5, ["deep", ["er", "st\ud800"]]], "[4][1][1]"),
        ({"a": "fine", "b": {"c": "fine", "d": "line\nand\ttab"}}, None),
    ],
)
def test_the_one_search_fast_path_finds_and_names_what_the_walk_would(
    value: Any, place: str | None
) -> None:
    found = first_forbidden(value)
    assert (found[0] if found else None) == place
