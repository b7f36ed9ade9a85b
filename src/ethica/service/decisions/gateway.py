"""The decision path: system → consent → minimize → score → explain → oversight → ledger → answer.

:class:`Gateway` runs the path for the REST API and for applications that embed it in-process.
Callers queue their decisions; one thread (``ethica-decisions``) takes whatever has arrived,
prepares it together (one consent query and one explanation call per system), and commits the
decisions' rows and ledger entries as one group (:meth:`LedgerWriter.write_now`). Each answer
is returned only once it is durable. Under load (more than one request waiting), the thread
waits while requests keep arriving, for at most a share of a batch's recent time
(``gateway.arrival_wait_share``): over HTTP, batches were half the size they are when the
gateway is driven in-process, as the event loop was still reading the rest.

The hot path avoids work per decision that does not change the result: no database session for
a consent hook that declares it reads none (``needs_session = False``), no savepoint for the
decision's writer job (it writes only through the batch), and the answer is built from the row's
values without an ORM object.
"""

from __future__ import annotations

import asyncio
import logging
import math
import queue
import random
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from ethica._gil import random_uuid
from ethica.errors import EthicaError, InputError
from ethica.governance import (
    UNEXPLAINED,
    Routing,
    SystemSpec,
    explanation_required,
    route,
    unlike_training,
)
from ethica.privacy import Minimized, minimize
from ethica.scoring import Scored, Scorer, caller_scored
from ethica.service.candidates.shadow import ShadowOutcome
from ethica.service.decisions.hooks import (
    AllowAll,
    ConsentHook,
    ConsentState,
    Explainer,
    as_recorded,
    default_explainer,
)
from ethica.service.decisions.idempotency import IdempotencyKeys, Waiting
from ethica.service.decisions.protected import session_cipher
from ethica.service.decisions.record import (
    FALLBACK_TEXT,
    PENDING,
    PreparedDecision,
    fallback_decision,
)
from ethica.service.decisions.schemas import DecisionCreate, DecisionRead
from ethica.service.errors import NotFoundError
from ethica.service.ledger.heads import signing_writer
from ethica.service.ledger.writer import LedgerWriter, collect_arriving, collect_queued
from ethica.service.settings import Settings
from ethica.service.systems.cache import LoadedSystem, SystemCache
from ethica.service.systems.suspension import SUSPENDED_FALLBACK_TEXT

log = logging.getLogger("ethica.service.decisions.gateway")


class Gateway:
    """Runs decisions through the governed path and records them durably."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        settings: Settings,
        *,
        consent: ConsentHook | None = None,
        explainer: Explainer | None = None,
        seed: int | None = None,
        writer: LedgerWriter | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._sessions = sessions
        # What dates each decision: the wall clock, or the demo's replay of past days.
        self._clock = clock or _utc_now
        self.settings = settings
        self.consent: ConsentHook = consent or AllowAll()
        self._cache = SystemCache(sessions, warm=self._warm)
        self._summaries = self._cache.summaries
        self.explainer: Explainer = explainer or default_explainer(self._summaries)
        self._rng = random.Random(seed)
        self._keys = IdempotencyKeys(
            sessions,
            settings.app.secret_key.get_secret_value().encode(),
            settings.ledger.master_key_bytes,
        )
        # The writer is the service's, shared with every domain; one made here is the gateway's.
        self._owns_writer = writer is None
        self.writer = writer if writer is not None else signing_writer(sessions, settings)
        with sessions() as session:  # the key file is attached to the sessions already
            self._cipher = session_cipher(session, settings.ledger.master_key_bytes)
        self._batch_max = settings.gateway.group_commit_max
        self._wait_share = settings.gateway.arrival_wait_share
        self._pause = settings.gateway.arrival_pause_ms / 1000.0
        self._batch_seconds = 0.0  # a moving average of the time a batch takes to decide
        self._inbox: queue.SimpleQueue[Waiting | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="ethica-decisions", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Finish the decisions and writes already queued."""
        self._inbox.put(None)
        self._thread.join(timeout=30)
        if self._owns_writer:
            self.writer.close()

    def decide(self, system_id: str, request: DecisionCreate) -> DecisionRead:
        """Run one decision through the path; returns once it is durably recorded."""
        return self.submit(system_id, request).result()

    async def decide_async(self, system_id: str, request: DecisionCreate) -> DecisionRead:
        """:meth:`decide` for async callers: waits without blocking the event loop."""
        return await asyncio.wrap_future(self.submit(system_id, request))

    def submit(self, system_id: str, request: DecisionCreate) -> Future[DecisionRead]:
        """Queue a decision; the future resolves once it is durably recorded (or fails)."""
        future: Future[DecisionRead] = Future()
        self._inbox.put(Waiting(system_id, request, future))
        return future

    def forget_system(self, system_id: str) -> None:
        """Drop the cached spec and model of a system (after it changed)."""
        self._cache.forget(system_id)

    def _run(self) -> None:
        """The batch loop: take what has arrived, prepare it, hand it to the writer."""
        while True:
            first = self._inbox.get()
            if first is None:
                return
            batch = [first]  # and whatever arrived while the last batch was decided
            stop = collect_queued(self._inbox, batch, limit=self._batch_max, wait=0.0)
            if not stop and len(batch) > 1 and self._wait_share > 0:
                # Under load, requests the event loop is still reading arrive within a pause
                # or two: waiting for them (a share of a batch's time at most) makes batches
                # larger, and each shares one commit and one explanation call.
                stop = collect_arriving(
                    self._inbox,
                    batch,
                    limit=self._batch_max,
                    pause=self._pause,
                    most=self._wait_share * self._batch_seconds,
                )
            started = time.monotonic()
            groups: dict[str, list[Waiting]] = {}
            for waiting in batch:
                groups.setdefault(waiting.system_id, []).append(waiting)
            for system_id, group in groups.items():
                self._decide_batch(system_id, group)
            spent = time.monotonic() - started
            self._batch_seconds += (spent - self._batch_seconds) / 8
            if stop:
                return

    def _decide_batch(self, system_id: str, group: list[Waiting]) -> None:
        """Decide a system's waiting requests together; if that fails, each alone."""
        try:
            self._decide_group(system_id, group)
        except BaseException as error:
            self._decide_one_by_one(system_id, group, error)

    def _decide_one_by_one(
        self, system_id: str, group: list[Waiting], error: BaseException
    ) -> None:
        """After a group failed, decide its undecided requests alone: only the culprit fails.

        A failure of the system itself (not registered) is everyone's: it is not retried.
        """
        undecided = [waiting for waiting in group if not waiting.future.done()]
        everyone = isinstance(error, NotFoundError) or not isinstance(error, Exception)
        if len(undecided) > 1 and not everyone:
            log.warning("a batch of %s failed; deciding its requests one by one", system_id)
            self._keys.forget(undecided)
            for waiting in undecided:
                if waiting.future.done():  # a retry answered when its first request was
                    continue
                try:
                    self._decide_group(system_id, [waiting])
                except Exception as alone:
                    if not waiting.future.done():
                        waiting.future.set_exception(alone)
            return
        for waiting in undecided:
            waiting.future.set_exception(error)

    def _decide_group(self, system_id: str, group: list[Waiting]) -> None:
        """Prepare a system's waiting decisions together and queue their writes as one parcel."""
        fresh = self._keys.to_decide(system_id, group)
        prepared = self._prepare_many(system_id, fresh)
        jobs: list[tuple[Any, Sequence[str], Future[Any]]] = []
        for (waiting, _), decision in zip(fresh, prepared, strict=True):
            if isinstance(decision, BaseException):
                waiting.future.set_exception(decision)
            else:
                jobs.append((decision.record, decision.sealing_keys, waiting.future))
        # record() writes only through the batch, so the writer needs no savepoint for it.
        self.writer.write_now(jobs)

    def _prepare_many(
        self, system_id: str, fresh: list[tuple[Waiting, str]]
    ) -> list[PreparedDecision | BaseException]:
        """Run the path up to the ledger for a system's decisions, together where it pays."""
        if not fresh:
            return []
        system = self._system(system_id)
        spec = system.spec
        subjects = [waiting.request.subject_id for waiting, _ in fresh]
        if getattr(self.consent, "needs_session", True):
            with self._sessions() as session:
                consents = self.consent.check_many(session, spec=spec, subject_ids=subjects)
        else:
            consents = self.consent.check_many(None, spec=spec, subject_ids=subjects)
        decisions: list[PreparedDecision | BaseException] = []
        for (waiting, fingerprint), consent in zip(fresh, consents, strict=True):
            try:
                decisions.append(self._prepare(system, waiting.request, fingerprint, consent))
            except Exception as error:  # this request's fault (or a bug): it fails alone
                decisions.append(error)
        return self._explain_many(spec, system.scorer, decisions)

    def _prepare(
        self,
        system: LoadedSystem,
        request: DecisionCreate,
        fingerprint: str,
        consent: ConsentState,
    ) -> PreparedDecision:
        """Minimize, score and route one decision (explained with its batch)."""
        spec = system.spec
        suspended = system.status != "active"
        forced = "the system is suspended; a person decides" if suspended else None
        minimized = minimize(
            spec, request.features, protected=request.protected, withhold=consent.withhold
        )
        opened = minimized.protected  # plain until the writer seals them; candidates read them
        explanation = None
        if consent.objects_to_automation:
            # GDPR Art. 22: no model at all; a person decides.
            forced = "the customer objected to automated decision-making (GDPR Art. 22)"
            scored, scored_by, scorer = Scored(math.nan, PENDING), "none", None
        elif consent.objects_to_profiling or suspended:
            # A suspended system's model decides nothing: its fallback (if any), held for review.
            scored, scored_by, forced = fallback_decision(spec, forced)
            scorer = None
        else:
            scored, scored_by, scorer = self._score(system, minimized, request)
        decision_id = str(random_uuid())
        policy: str | None = None
        shadow: tuple[ShadowOutcome, ...] = ()
        if scored_by in ("model", "caller"):
            scored, policy = _served_policy(system, decision_id, scored, minimized, opened)
            shadow = _shadow(system, decision_id, scored, minimized, opened)
        if scored_by == "fallback":
            text = FALLBACK_TEXT if consent.objects_to_profiling else SUSPENDED_FALLBACK_TEXT
            explanation = {"method": "fallback", "text": text}
        routing = route(
            spec,
            outcome=scored.outcome,
            score=scored.score,
            rng=self._rng,
            forced=forced,
            unfamiliar=unlike_training(spec, self._summaries.get(spec.id), minimized.features),
        )
        return PreparedDecision(
            decision_id=decision_id,
            created_at=self._clock(),
            system_id=spec.id,
            spec=spec,
            request=request,
            fingerprint=fingerprint,
            minimized=minimized,
            scored=scored,
            scored_by=scored_by,
            model_version=scorer.version if scorer is not None and scored_by == "model" else None,
            routing=routing,
            consent_version=consent.version,
            explanation=explanation,
            cipher=self._cipher,
            served_policy=policy,
            shadow=shadow,
        )

    def _explain_many(
        self,
        spec: SystemSpec,
        scorer: Scorer | None,
        decisions: list[PreparedDecision | BaseException],
    ) -> list[PreparedDecision | BaseException]:
        """The batch with its model's decisions explained (one without an explanation stands).

        Only decisions the model made are explained: a person, a fallback or no model at all
        decided the others.
        """
        by_model = [
            (i, decision)
            for i, decision in enumerate(decisions)
            if isinstance(decision, PreparedDecision) and decision.scored_by == "model"
        ]
        if not by_model:
            return decisions
        rows = [(decision.minimized.features, decision.scored) for _, decision in by_model]
        try:
            found = self.explainer.explain_many(spec=spec, scorer=scorer, rows=rows)
        except EthicaError as error:
            found = [error] * len(rows)
        explained = list(decisions)
        for (i, decision), explanation in zip(by_model, found, strict=True):
            routing = decision.routing
            if isinstance(explanation, EthicaError):
                log.warning("no explanation for a decision of %s: %s", spec.id, explanation)
                held = explanation_required(spec, outcome=decision.scored.outcome)
                if held and routing.status != "pending_review":
                    # The customer is owed the reasons: without them a person decides.
                    routing = Routing("pending_review", UNEXPLAINED)
            explained[i] = replace(decision, explanation=as_recorded(explanation), routing=routing)
        return explained

    def _score(
        self, system: LoadedSystem, minimized: Minimized, request: DecisionCreate
    ) -> tuple[Scored, str, Scorer | None]:
        scorer = system.scorer
        if scorer is not None:
            if request.score is not None:
                raise InputError(
                    f"system {system.spec.id!r} scores with its registered model; "
                    "do not send a score"
                )
            return scorer.score(minimized.features), "model", scorer
        if request.score is None:
            raise InputError(
                f"system {system.spec.id!r} has no registered model: send the score you computed"
            )
        return caller_scored(system.spec, request.score), "caller", None

    def _system(self, system_id: str) -> LoadedSystem:
        return self._cache.get(system_id)

    def _warm(self, spec: SystemSpec, scorer: Scorer) -> None:
        """Score and explain a typical row once, so the first real decision does not pay for it.

        The first explanation imports and compiles what it needs (TreeSHAP's kernel, number
        formats): about a second, and objects that belong in the frozen heap.
        """
        row = _typical_row(spec, self._summaries.get(spec.id))
        try:
            scored = scorer.score(row)
            self.explainer.explain_many(spec=spec, scorer=scorer, rows=[(row, scored)])
        except EthicaError as error:  # the model or explainer refuses it: real rows will tell
            log.info("warming system %s: %s", spec.id, error)


def _served_policy(
    system: LoadedSystem,
    decision_id: str,
    scored: Scored,
    minimized: Minimized,
    protected: dict[str, str],
) -> tuple[Scored, str | None]:
    """The outcome under promoted group thresholds, and the candidate that gave it.

    A customer of a group the policy has no rule for is decided by the system's own threshold.
    """
    policy = system.served_policy
    if policy is None:
        return scored, None
    decided = policy.decide(system.spec, decision_id, scored, minimized.features, protected)
    if decided is None:
        return scored, None
    return replace(scored, outcome=decided.outcome), policy.id


def _shadow(
    system: LoadedSystem,
    decision_id: str,
    scored: Scored,
    minimized: Minimized,
    protected: dict[str, str],
) -> tuple[ShadowOutcome, ...]:
    """What each candidate in shadow decides; one that fails is logged, never the customer's."""
    outcomes = []
    for candidate in system.shadow:
        try:
            decided = candidate.decide(
                system.spec, decision_id, scored, minimized.features, protected
            )
        except Exception as error:  # a candidate's failure must not touch the served decision
            log.warning("candidate %s failed in shadow: %s", candidate.id, error)
            continue
        if decided is not None:
            outcomes.append(decided)
    return tuple(outcomes)


def _typical_row(spec: SystemSpec, summary: Any) -> dict[str, Any]:
    """A row of the spec's features: typical training values where known, else plain ones."""
    reference = getattr(summary, "reference", {}) or {}
    row: dict[str, Any] = {}
    for feature in spec.features:
        if feature.name in reference:
            row[feature.name] = reference[feature.name]
        elif feature.categories:
            row[feature.name] = feature.categories[0]
        elif feature.type == "boolean":
            row[feature.name] = False
        elif feature.type == "text":
            row[feature.name] = ""
        else:
            row[feature.name] = feature.minimum if feature.minimum is not None else 0.0
    return row


def _utc_now() -> datetime:
    return datetime.now(UTC)
