"""Idempotency keys on the decision path: a retried request gets the original decision.

A request is told from a retry by its fingerprint, a keyed digest of everything but the key.
A retry while the first request is still in flight gets that request's answer; a retry after
it was recorded gets the recorded decision; the same key for a different request is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from concurrent.futures import Future
from dataclasses import dataclass
from functools import partial

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ethica.ledger import canonical_json
from ethica.service.decisions.explanations import Explanations
from ethica.service.decisions.record import decision_read
from ethica.service.decisions.schemas import DecisionCreate, DecisionRead
from ethica.service.decisions.tables import Decision
from ethica.service.errors import ConflictError


@dataclass(frozen=True)
class Waiting:
    """A decision request waiting for its batch, and the future that gets its answer."""

    system_id: str
    request: DecisionCreate
    future: Future[DecisionRead]


class IdempotencyKeys:
    """The keys of the requests in flight in one process, and lookups of the recorded ones."""

    def __init__(self, sessions: sessionmaker[Session], secret: bytes, master_key: bytes) -> None:
        self._sessions = sessions
        self._secret = secret
        self._master_key = master_key  # opens the recorded decisions' sealed explanations
        self._lock = threading.Lock()
        self._pending: dict[tuple[str, str], tuple[Future[DecisionRead], str]] = {}

    def to_decide(self, system_id: str, group: list[Waiting]) -> list[tuple[Waiting, str]]:
        """The requests of a system to decide now, with their fingerprints; answer the others.

        A request whose key is in flight gets that decision's answer; one whose key is recorded
        gets the recorded decision (looked up in one query for the group); a key used for a
        different request is refused.
        """
        fresh: list[tuple[Waiting, str]] = []
        keyed: dict[str, tuple[Waiting, str]] = {}
        for waiting in group:
            fingerprint = _fingerprint(waiting.request, self._secret)
            key = waiting.request.idempotency_key
            if not key:
                fresh.append((waiting, fingerprint))
                continue
            with self._lock:
                pending = self._pending.get((system_id, key))
                if pending is None:
                    self._pending[(system_id, key)] = (waiting.future, fingerprint)
            if pending is None:
                keyed[key] = (waiting, fingerprint)
                waiting.future.add_done_callback(partial(self._done, (system_id, key)))
            elif pending[1] != fingerprint:
                waiting.future.set_exception(_reused_key(key))
            else:  # a retry while the first is in flight: the same answer
                pending[0].add_done_callback(partial(_copy, waiting.future))
        if keyed:
            stored = self._stored(system_id, list(keyed))
            for key, (waiting, fingerprint) in keyed.items():
                found = stored.get(key)
                if found is None:
                    fresh.append((waiting, fingerprint))
                elif found[0] != fingerprint:
                    waiting.future.set_exception(_reused_key(key))
                else:
                    waiting.future.set_result(found[1])
        return fresh

    def forget(self, group: list[Waiting]) -> None:
        """Drop the in-flight keys of these requests (their batch failed; they are retried)."""
        futures = {id(waiting.future) for waiting in group}
        with self._lock:
            for key, (future, _) in list(self._pending.items()):
                if id(future) in futures:
                    del self._pending[key]

    def _done(self, key: tuple[str, str], _: Future[DecisionRead]) -> None:
        with self._lock:
            self._pending.pop(key, None)

    def _stored(self, system_id: str, keys: list[str]) -> dict[str, tuple[str, DecisionRead]]:
        """The recorded decisions of the system with these keys: fingerprint and answer."""
        with self._sessions() as session:
            rows = list(
                session.scalars(
                    select(Decision).where(
                        Decision.system_id == system_id, Decision.idempotency_key.in_(keys)
                    )
                )
            )
            explanations = Explanations.of_session(session, self._master_key)
            explanations.load(rows)
            return {
                str(row.idempotency_key): (row.request_hash, decision_read(row, explanations))
                for row in rows
            }


def _fingerprint(request: DecisionCreate, key: bytes) -> str:
    """A keyed digest of the request, to tell a retry from a reuse of its idempotency key.

    Keyed (HMAC) because the request holds personal data: a plain hash of a few low-entropy
    inputs could be reversed by trying every value.
    """
    body = request.model_dump(exclude={"idempotency_key"})
    return hmac.new(key, canonical_json(body), hashlib.sha256).hexdigest()


def _copy(target: Future[DecisionRead], source: Future[DecisionRead]) -> None:
    error = source.exception()
    if error is not None:
        target.set_exception(error)
    else:
        target.set_result(source.result())


def _reused_key(key: str) -> ConflictError:
    return ConflictError(
        f"idempotency key {key!r} was used for a different request; use a new key per decision"
    )
