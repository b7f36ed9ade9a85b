"""Decisions prepared together: each gets its own answer, as if it had come alone."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

import pytest
from service_testing import Service
from sqlalchemy import event, func, select

from ethica.errors import InputError
from ethica.service.app import state_of
from ethica.service.decisions.gateway import Gateway
from ethica.service.decisions.idempotency import Waiting
from ethica.service.decisions.schemas import DecisionCreate, DecisionRead
from ethica.service.decisions.tables import Decision
from ethica.service.errors import ConflictError
from ethica.service.ledger.service import verify_ledger


def _count(running: Service) -> int:
    with state_of(running.app).sessions() as session:
        return int(session.scalar(select(func.count()).select_from(Decision)) or 0)


def _verified(running: Service) -> bool:
    state = state_of(running.app)
    with state.sessions() as session:
        return verify_ledger(session, settings=state.settings).ok


def _with_model(service: Callable[..., Service], model: bytes) -> tuple[Service, Gateway]:
    """A running service with the system ``credit`` and its LightGBM model."""
    running = service()
    running.register("credit")
    assert running.upload("credit", model, format="lightgbm").status_code == 201
    return running, state_of(running.app).gateway


def _group(gateway: Gateway, requests: list[DecisionCreate]) -> list[Future[DecisionRead]]:
    """Run ``requests`` through the decision path as one batch, on this thread."""
    waiting = [Waiting("credit", request, Future()) for request in requests]
    gateway._decide_group("credit", waiting)
    return [w.future for w in waiting]


def test_a_bad_request_or_a_reused_key_fails_alone_in_its_batch(
    service: Callable[..., Service],
) -> None:
    running = service()
    running.register("credit")  # no model: callers send their scores
    gateway = state_of(running.app).gateway
    keyed = DecisionCreate(subject_id="b", score=0.3, idempotency_key="k")
    answers = _group(
        gateway,
        [
            DecisionCreate(subject_id="a", features={"income": 50.0}, score=0.8),
            DecisionCreate(subject_id="a", features={"income": 50.0}),  # no score
            keyed,
            keyed,  # a retry in the same batch: the same decision
            keyed.model_copy(update={"score": 0.9}),  # the key for another request
            DecisionCreate(score=0.1),  # no subject
        ],
    )
    assert all(answer.done() for answer in answers)
    first, unscored, retried, again, reused, anonymous = answers
    assert first.result().outcome == "approved" and first.result().subject_id == "a"
    with pytest.raises(InputError, match="send the score"):
        unscored.result()
    assert again.result().id == retried.result().id
    with pytest.raises(ConflictError, match="'k'"):
        reused.result()
    assert anonymous.result().outcome == "declined"
    assert _count(running) == 3
    # The next batch finds the key recorded.
    (later,) = _group(gateway, [keyed])
    assert later.result().id == retried.result().id
    assert _count(running) == 3 and _verified(running)


def test_a_batch_of_model_decisions_is_explained_as_each_alone(
    service: Callable[..., Service], lightgbm_bytes: bytes
) -> None:
    running, gateway = _with_model(service, lightgbm_bytes)
    requests = [
        DecisionCreate(
            subject_id=f"c{i}",
            features={"income": 10.0 + 7 * i, "housing": ("own", "rent")[i % 2]},
            protected={"sex": "F"},
        )
        for i in range(20)
    ]
    answers = [future.result() for future in _group(gateway, requests)]
    assert len({a.id for a in answers}) == 20 and _count(running) == 20
    outcomes = {a.outcome for a in answers}
    assert outcomes == {"approved", "declined"}
    loaded = gateway._system("credit")
    for request, answer in zip(requests, answers, strict=True):
        scored = loaded.scorer.score(request.features) if loaded.scorer else None
        assert scored is not None and answer.score == pytest.approx(scored.score, rel=1e-12)
        (alone,) = gateway.explainer.explain_many(
            spec=loaded.spec, scorer=loaded.scorer, rows=[(request.features, scored)]
        )
        assert answer.explanation == alone
    # Through the API too, many at once: each answer is durable and the chain verifies.
    key = running.api_key("decisions:write")
    bodies: list[dict[str, Any]] = [
        {"subject_id": f"d{i}", "features": {"income": 5.0 * i, "housing": "own"}}
        for i in range(12)
    ]
    futures = [gateway.submit("credit", DecisionCreate.model_validate(b)) for b in bodies]
    assert len({f.result(timeout=60).id for f in futures}) == 12
    assert running.decide("credit", bodies[0], headers=key).status_code == 201
    assert _count(running) == 33 and _verified(running)


@pytest.mark.parametrize("returning", [True, False], ids=["RETURNING", "no RETURNING"])
def test_a_batch_goes_into_each_table_in_one_statement(
    service: Callable[..., Service],
    lightgbm_bytes: bytes,
    monkeypatch: pytest.MonkeyPatch,
    returning: bool,
) -> None:
    # One statement per table, not one per row: each statement SQLite runs lets go of the GIL,
    # and waits to get it back when another thread is busy. Without INSERT ... RETURNING (SQLite
    # before 3.35) the rows go in as before, one step each, in one executemany.
    running, gateway = _with_model(service, lightgbm_bytes)
    inserts: dict[str, list[int]] = {}  # table -> rows written by each statement

    def count(*args: Any) -> None:
        statement = args[2]
        if statement.startswith("INSERT INTO"):
            rows = statement.split(" VALUES ", 1)[1].count("), (") + 1
            inserts.setdefault(statement.split()[2], []).append(rows)

    engine = state_of(running.app).sessions.kw["bind"]
    monkeypatch.setattr(engine.dialect, "insert_executemany_returning", returning)
    event.listen(engine, "before_cursor_execute", count)
    try:
        requests = [
            DecisionCreate(subject_id=f"s{i}", features={"income": 3.0 * i}, protected={"sex": "F"})
            for i in range(25)
        ]
        answers = [future.result() for future in _group(gateway, requests)]
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len({answer.id for answer in answers}) == 25
    for table in ("decisions", "protected_values", "ledger_entries"):
        assert inserts[table] == ([25] if returning else [1]), table
    assert _count(running) == 25 and _verified(running)
