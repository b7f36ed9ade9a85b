"""Seeded cases: review cases with a known correct outcome, to measure reviewers' quality.

An officer gives a system, inputs and the known answer; the system's registered model scores
and explains them; the case enters the queue looking exactly like a real held decision. When a
reviewer decides it, the review step records whether they matched the known answer. A seeded
case is never a real decision: its row is flagged ``seeded`` and the decision lists, customer
views and live audits leave it out; its ledger entry is a ``seeded_case``, not a ``decision``.

Creating one takes two steps so that scoring and explaining stay off the ledger writer's thread:
:func:`prepare_seeded_case` (any thread, with a session) and :func:`record_seeded_case` (a
writer job).
"""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ethica.errors import InputError
from ethica.governance import SystemSpec, parse_spec, route, unlike_training
from ethica.privacy import minimize
from ethica.scoring import Scored, Scorer
from ethica.service.db import new_id, utcnow
from ethica.service.decisions.hooks import as_recorded, default_explainer
from ethica.service.decisions.record import FINAL_REVIEW_STATUSES
from ethica.service.decisions.tables import Decision
from ethica.service.ledger.naming import sealing_subject
from ethica.service.ledger.writer import Batch
from ethica.service.reviews.cases import PENDING_REVIEW
from ethica.service.reviews.judgements import valid_outcome
from ethica.service.reviews.schemas import SeededCaseCreate, SeededCaseRead
from ethica.service.reviews.tables import SeededCase
from ethica.service.systems.service import get_model, get_system

SAMPLE_REASON = "random quality sample"
"""The reason shown for a seeded case the policy would not hold: the same as a real sample's."""


@dataclass(frozen=True)
class PreparedSeededCase:
    """A seeded case scored, explained and routed, ready to be recorded."""

    decision_id: str
    created_at: datetime
    spec: SystemSpec
    features: dict[str, Any]
    data: dict[str, Any]
    scored: Scored
    model_version: str
    explanation: dict[str, Any] | None
    reason: str
    known_outcome: str


def prepare_seeded_case(
    session: Session, *, body: SeededCaseCreate, rng: random.Random | None = None
) -> PreparedSeededCase:
    """Score and explain a seeded case's inputs with the system's registered model.

    Raises NotFoundError for an unknown system; InputError when it has no registered model,
    for inputs the spec refuses, or a known outcome the system cannot give.
    """
    system = get_system(session, system_id=body.system_id)
    spec = parse_spec(system.spec)
    known = valid_outcome(spec, body.known_outcome)
    if system.model_version is None:
        raise InputError(
            f"system {spec.id!r} has no registered model: seeded cases are scored by it"
        )
    stored, model = get_model(session, system_id=spec.id, version=system.model_version)
    minimized = minimize(spec, body.features)
    scorer = Scorer(model, spec, version=system.model_version)
    scored = scorer.score(minimized.features)
    summary = _summary(stored.training_summary)
    # As on the decision path: a case without an explanation still stands.
    explanation = as_recorded(
        default_explainer({spec.id: summary}).explain_many(
            spec=spec, scorer=scorer, rows=[(minimized.features, scored)]
        )[0]
    )
    routing = route(
        spec,
        outcome=scored.outcome,
        score=scored.score,
        rng=rng or random.Random(),
        unfamiliar=unlike_training(spec, summary, minimized.features),
    )
    data: dict[str, Any] = {
        "used": minimized.used,
        "withheld": [{"feature": w.feature, "reason": w.reason} for w in minimized.withheld],
        "dropped": minimized.dropped,
    }
    return PreparedSeededCase(
        decision_id=new_id(),
        created_at=utcnow(),
        spec=spec,
        features=minimized.features,
        data=data,
        scored=scored,
        model_version=system.model_version,
        explanation=explanation,
        reason=routing.reason if routing.held and routing.reason else SAMPLE_REASON,
        known_outcome=known,
    )


def record_seeded_case(
    batch: Batch, prepared: PreparedSeededCase, *, created_by: str
) -> SeededCaseRead:
    """Append the seeded case to its system's chain and put it in the queue (a writer job)."""
    spec = prepared.spec
    score = None if math.isnan(prepared.scored.score) else prepared.scored.score
    entry = batch.ledger.append(
        "seeded_case",
        chain=spec.id,
        # Sealed like a real decision's inputs, under a key of the case's own (no customer).
        subject=sealing_subject(
            batch.ledger.keyring, f"seeded-{prepared.decision_id}", spec.id, prepared.created_at
        ),
        public={
            "decision_id": prepared.decision_id,
            "system_id": spec.id,
            "created_by": created_by,
            "known_outcome": prepared.known_outcome,
            "outcome": prepared.scored.outcome,
            "score": score,
            "model_version": prepared.model_version,
            "review": {"status": PENDING_REVIEW, "reason": prepared.reason},
            "data": prepared.data,
        },
        personal={"features": prepared.features},
    )
    batch.session.add(
        Decision(
            id=prepared.decision_id,
            system_id=spec.id,
            subject_id=None,
            idempotency_key=None,
            request_hash=hashlib.sha256(prepared.decision_id.encode()).hexdigest(),
            created_at=prepared.created_at,
            kind=spec.decision.kind,
            outcome=prepared.scored.outcome,
            score=score,
            model_version=prepared.model_version,
            scored_by="model",
            review_status=PENDING_REVIEW,
            review_reason=prepared.reason,
            data=prepared.data,
            consent_version=None,
            explanation=prepared.explanation,
            ledger_chain=entry.chain,
            ledger_sequence=entry.sequence,
            ledger_hash=entry.hash,
            seeded=True,
        )
    )
    batch.session.flush()
    batch.session.add(
        SeededCase(
            decision_id=prepared.decision_id,
            known_outcome=prepared.known_outcome,
            created_by=created_by,
            created_at=prepared.created_at,
        )
    )
    batch.session.flush()
    return SeededCaseRead(
        decision_id=prepared.decision_id,
        system_id=spec.id,
        known_outcome=prepared.known_outcome,
        outcome=prepared.scored.outcome,
        score=score,
        review_reason=prepared.reason,
        created_at=prepared.created_at,
    )


@dataclass(frozen=True)
class SeededTally:
    """A system's seeded cases: how many, how many reviewers decided, how many of those rightly."""

    cases: int
    decided: int
    matched: int


def seeded_tally(session: Session, *, system_id: str) -> SeededTally:
    """Count ``system_id``'s seeded cases, the decided ones, and those decided rightly."""
    rows = session.execute(
        select(Decision.review_status, Decision.outcome, SeededCase.known_outcome)
        .join(SeededCase, SeededCase.decision_id == Decision.id)
        .where(Decision.system_id == system_id)
    ).all()
    decided = [
        (outcome, known) for status, outcome, known in rows if status in FINAL_REVIEW_STATUSES
    ]
    return SeededTally(
        cases=len(rows),
        decided=len(decided),
        matched=sum(outcome == known for outcome, known in decided),
    )


def _summary(data: dict[str, Any] | None) -> Any:
    from ethica.explain import TrainingSummary

    return TrainingSummary() if data is None else TrainingSummary.from_dict(data)
