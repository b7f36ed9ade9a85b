"""Recording a decision: the rows and the ledger entry of a prepared decision, and its API view.

:class:`PreparedDecision.record` runs on the ledger writer's thread inside a group commit.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

import numpy as np

from ethica.governance import Routing, SystemSpec
from ethica.privacy import Minimized
from ethica.scoring import Scored, outcome_of
from ethica.service.candidates.shadow import ShadowOutcome
from ethica.service.candidates.tables import ShadowDecision
from ethica.service.decisions.explanations import Explanations, Opened, stored_explanation
from ethica.service.decisions.protected import ProtectedCipher, protected_digest, protected_mac
from ethica.service.decisions.schemas import DecisionCreate, DecisionRead
from ethica.service.decisions.tables import Decision, ProtectedValue
from ethica.service.ledger.naming import key_request, resolve_request
from ethica.service.ledger.writer import Batch

FALLBACK_TEXT = (
    "This decision did not use a profile of you: you objected to profiling, so the standard, "
    "non-personalized decision applies to you."
)
"""Why a customer who objected to profiling got the system's fallback decision."""

FINAL_REVIEW_STATUSES = frozenset({"automatic", "confirmed", "overridden", "decided"})
"""A decision is final once no person still has to act on it (human review is done).

``decided``: no model decided it (an objection, a suspended system) and a person gave its outcome.
"""

PERSON_DECIDED_STATUSES = frozenset({"confirmed", "overridden", "decided"})
"""Final review statuses where a person, not the automated system, made the decision."""

NO_MODEL = frozenset({"none", "fallback"})
"""How a decision was scored when no model decided it: a person does (objection, suspension)."""

PENDING = "pending"
"""The outcome of a decision that a person must make (no model was used)."""


def fallback_decision(spec: SystemSpec, forced: str | None) -> tuple[Scored, str, str | None]:
    """The non-personalized decision for a customer who objected to profiling."""
    fallback = spec.fallback
    if fallback is None:
        reason = "the customer objected to profiling and the system declares no fallback"
        return Scored(math.nan, PENDING), "none", forced or reason
    if fallback.score is not None:
        return outcome_of(spec, np.array([fallback.score])), "fallback", forced
    if fallback.outcome is not None:
        return Scored(math.nan, fallback.outcome), "fallback", forced
    return Scored(math.nan, ",".join(fallback.ranking or [])), "fallback", forced


@dataclass(frozen=True)
class PreparedDecision:
    """A decision computed and ready to be recorded."""

    decision_id: str
    created_at: datetime
    system_id: str
    spec: SystemSpec
    request: DecisionCreate
    fingerprint: str
    minimized: Minimized
    scored: Scored
    scored_by: str
    model_version: str | None
    routing: Routing
    consent_version: str | None
    explanation: dict[str, Any] | None
    # Seals the protected values on the writer thread, under the epoch current then: an
    # erasure's re-sealing (a writer job too) can never miss one.
    cipher: ProtectedCipher = field(repr=False, compare=False)
    served_policy: str | None = None  # the promoted candidate whose thresholds decided
    shadow: tuple[ShadowOutcome, ...] = ()  # candidates' decisions: stored, never shown

    @cached_property  # asked twice: when the job is queued, and when it runs
    def sealing_keys(self) -> tuple[str, ...]:
        """The key that will seal the decision's personal fields (none without a subject).

        Named by subject id for the writer's prefetch, which resolves it to the pseudonymous
        name (:func:`~ethica.service.ledger.naming.key_request`).
        """
        subject = self.request.subject_id
        if subject is None:
            return ()
        # The key of this subject, system and month seals the personal fields.
        return (key_request(subject, self.system_id, self.created_at),)

    def record(self, batch: Batch) -> DecisionRead:
        """Append the ledger entry and queue the decision's rows (runs on the writer thread)."""
        keyring = batch.ledger.keyring
        if keyring is None:
            return self._record(batch)
        # Its pseudonym, the sealing and the protected values' digest each need a key of the
        # subject: unwrapped once for this decision (and never kept for the next one).
        with keyring.remembering():
            return self._record(batch)

    def _record(self, batch: Batch) -> DecisionRead:
        data: dict[str, Any] = {
            "used": self.minimized.used,
            "withheld": [
                {"feature": w.feature, "reason": w.reason} for w in self.minimized.withheld
            ],
            "dropped": self.minimized.dropped,
        }
        if self.minimized.redacted:
            data["redacted"] = self.minimized.redacted  # kinds of personal data, never values
        subject = self.request.subject_id
        score = None if math.isnan(self.scored.score) else self.scored.score
        # An explanation quotes the customer's own values: with a subject it is sealed with
        # their key, like the inputs, so that erasing them erases it too.
        sealed_explanation = subject is not None and self.explanation is not None
        personal: dict[str, Any] | None = None
        if subject is not None:
            personal = {"features": self.minimized.features}
            if sealed_explanation:
                personal["explanation"] = self.explanation
        keyring = batch.ledger.keyring
        # As the group's prefetch resolved them (an erasure in the group forgets them).
        keys = (
            tuple(batch.resolved.get(k) or resolve_request(keyring, k) for k in self.sealing_keys)
            if keyring
            else ()
        )
        protected = self.minimized.protected
        sealed = self.cipher.seal_all(protected)
        digest: dict[str, Any] = (
            {"protected_sha256": protected_digest(sealed)}
            if keyring is None
            else {
                "protected_mac": protected_mac(
                    keyring, protected, subject=keys[0] if keys else None
                )
            }
        )
        public: dict[str, Any] = {
            "decision_id": self.decision_id,
            "system_id": self.system_id,
            "outcome": self.scored.outcome,
            "score": score,
            "model_version": self.model_version,
            "scored_by": self.scored_by,
            "review": {"status": self.routing.status, "reason": self.routing.reason},
            "data": data,
            "consent_version": self.consent_version,
            "explanation": "sealed" if sealed_explanation else self.explanation,
            **digest,
        }
        if self.served_policy is not None:
            public["served_policy"] = self.served_policy
        entry = batch.ledger.append(
            "decision",
            chain=batch.partition(self.system_id),
            subject=keys[0] if keys else None,
            public=public,
            personal=personal,
            built=True,  # plain types only: the explainer's too (hooks.Explainer)
        )
        row = {
            "id": self.decision_id,
            "system_id": self.system_id,
            "subject_id": subject,
            "idempotency_key": self.request.idempotency_key,
            "request_hash": self.fingerprint,
            "created_at": self.created_at,
            "kind": self.spec.decision.kind,
            "outcome": self.scored.outcome,
            "score": score,
            "model_version": self.model_version,
            "scored_by": self.scored_by,
            "review_status": self.routing.status,
            "review_reason": self.routing.reason,
            "data": data,
            "consent_version": self.consent_version,
            "explanation": stored_explanation(self.explanation, sealed=sealed_explanation),
            "ledger_chain": entry.chain,
            "ledger_sequence": entry.sequence,
            "ledger_hash": entry.hash,
            "true_outcome": None,
            "outcome_recorded_at": None,
        }
        batch.insert_later(Decision, row)
        for name, value in sealed.items():
            batch.insert_later(
                ProtectedValue,
                {
                    "decision_id": self.decision_id,
                    "name": name,
                    "system_id": self.system_id,
                    "subject_id": subject,
                    "value": value,
                },
            )
        for shadow in self.shadow:
            batch.insert_later(
                ShadowDecision,
                {
                    "decision_id": self.decision_id,
                    "candidate_id": shadow.candidate_id,
                    "outcome": shadow.outcome,
                    "score": shadow.score,
                },
            )
        return _read(row, Opened.plain(self.explanation))


def decision_read(row: Decision, explanations: Explanations) -> DecisionRead:
    """The API's view of a decision row, its explanation opened (or said to be erased)."""
    return _read({name: getattr(row, name) for name in _READ_COLUMNS}, explanations.of(row))


def awaits_a_person(row: Decision) -> bool:
    """No model decided this decision and a person has not decided it yet.

    Its stored outcome is at most the system's declared fallback (a suspended system), a
    suggestion to the reviewer that the customer must not read as the decision.
    """
    return row.scored_by in NO_MODEL and row.review_status not in FINAL_REVIEW_STATUSES


def customer_read(row: Decision, explanations: Explanations) -> DecisionRead:
    """A decision as its customer reads it: pending while a person must still decide it."""
    read = decision_read(row, explanations)
    if awaits_a_person(row):
        return read.model_copy(update={"outcome": PENDING, "score": None})
    return read


_READ_COLUMNS = (
    "id", "system_id", "subject_id", "created_at", "outcome", "review_status", "score",
    "model_version", "scored_by", "review_reason", "data", "consent_version", "ledger_chain",
    "ledger_sequence", "ledger_hash", "true_outcome",
)  # fmt: skip


def _read(row: Mapping[str, Any], explained: Opened) -> DecisionRead:
    """The API's view of a decision's column values and its explanation."""
    return DecisionRead.model_validate(
        {
            "id": row["id"],
            "system_id": row["system_id"],
            "subject_id": row["subject_id"],
            "created_at": row["created_at"],
            "outcome": row["outcome"],
            "final": row["review_status"] in FINAL_REVIEW_STATUSES,
            "score": row["score"],
            "model_version": row["model_version"],
            "scored_by": row["scored_by"],
            "review": {"status": row["review_status"], "reason": row["review_reason"]},
            "data": row["data"],
            "consent_version": row["consent_version"],
            "explanation": explained.explanation,
            "explanation_status": explained.status,
            "ledger": {
                "chain": row["ledger_chain"],
                "sequence": row["ledger_sequence"],
                "hash": row["ledger_hash"],
            },
            "true_outcome": row["true_outcome"],
        }
    )
