"""A DP synthetic copy of a system's decision log, its ε spent from the system's privacy budget.

The spend is a ``privacy-spend`` ledger entry, as a transparency report's
(:mod:`ethica.service.governance.transparency`): both count against the same per-system budget,
and a release that would exceed it is refused before the decision log is read.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from ethica.errors import InputError
from ethica.governance import (
    BinaryDecision,
    LedgerRef,
    MulticlassDecision,
    RankingDecision,
    ScoreDecision,
    Spend,
    SystemSpec,
    parse_spec,
)
from ethica.ledger import KeyRing, LedgerError
from ethica.privacy._synthesize import Method, Synthesis, check_budget, synthesize
from ethica.service.decisions.protected import session_cipher
from ethica.service.decisions.record import PENDING
from ethica.service.decisions.tables import Decision, ProtectedValue
from ethica.service.governance.transparency import SPEND, budget_of
from ethica.service.ledger.store import SqlKeyStore, row_entry
from ethica.service.ledger.tables import LedgerEntry
from ethica.service.ledger.writer import Batch
from ethica.service.systems.service import get_system
from ethica.service.systems.tables import ModelVersion

OUTCOME = "outcome"
TRUE_OUTCOME = "true_outcome"
NOT_RECORDED = "not recorded"
#: Equal-width bins of a number between its declared (or trained) minimum and maximum.
NUMBER_BINS = 5


@dataclass(frozen=True)
class SystemLog:
    """A system's decision log as synthesis reads it: one row per person, and what is public."""

    frame: pd.DataFrame
    categories: dict[str, list[str]]
    cuts: dict[str, list[float]]
    protected: list[str]
    skipped: int
    """Decisions left out: a person's earlier decisions, erased or subject-less inputs."""


@dataclass(frozen=True)
class SystemSynthesis:
    """A draw from a system's decision log, released only once its spend is recorded."""

    release: Synthesis
    log: SystemLog
    name: str
    positive: str | None

    @property
    def what(self) -> str:
        """The release in words, as its spend's ledger entry says it."""
        method, delta = self.release.method.upper(), self.release.delta
        return f"a synthetic decision log ({method}, {len(self.release.data)} rows" + (
            f", δ = {delta:g})" if delta > 0 else ")"
        )


def synthesize_system(
    session: Session,
    *,
    system_id: str,
    epsilon: float,
    delta: float,
    method: Method,
    budget: float,
    ceiling: float,
    master_key: bytes,
    now: datetime,
) -> SystemSynthesis:
    """Draw a DP synthetic log of a system, if its remaining budget can pay ``epsilon``.

    Nothing is written: the draw is released only once :func:`record_spend` has recorded its
    spend (which checks the budget again, in the writer). Raises
    :class:`~ethica.governance.PrivacyBudgetExceeded` before the decision log is read when the
    system's remaining budget of ``budget`` cannot pay ``epsilon``.
    """
    check_budget(epsilon, delta, ceiling)
    spec = parse_spec(get_system(session, system_id=system_id).spec)
    name = f"synthetic-{method}-{now.strftime('%Y%m%dT%H%M%SZ')}"
    budget_of(session, system_id=system_id, epsilon=budget).check(epsilon, release=name)
    log = decision_log(session, spec=spec, master_key=master_key)
    release = synthesize(
        log.frame,
        epsilon=epsilon,
        delta=delta,
        method=method,
        cuts=log.cuts,
        categories=log.categories,
        max_epsilon=ceiling,
    )
    positive = spec.decision.positive if isinstance(spec.decision, BinaryDecision) else None
    return SystemSynthesis(release, log, name, positive)


def record_spend(
    batch: Batch, *, system_id: str, drawn: SystemSynthesis, budget: float, now: datetime
) -> Spend:
    """Append the draw's spend to the system's chain; a writer job.

    The budget is read again here, so two releases cannot both spend its last ε: the later is
    refused (:class:`~ethica.governance.PrivacyBudgetExceeded`) and its draw is never released.
    """
    account = budget_of(batch.session, system_id=system_id, epsilon=budget)
    spend = account.charge(drawn.release.epsilon, release=drawn.name, at=now, what=drawn.what)
    entry = batch.ledger.append(SPEND, chain=system_id, public=spend.to_dict())
    return replace(spend, ref=LedgerRef.of(entry))


def decision_log(session: Session, *, spec: SystemSpec, master_key: bytes) -> SystemLog:
    """Each person's latest decision (not pending): features, protected attributes, outcomes.

    One row per person, the privacy unit of the release. Inputs are opened from the ledger;
    an erased subject's cannot be, and the decision is left out (so is one without a subject,
    whose inputs were never sealed). Category sets and bins come from the spec, else from the
    served model's training summary; what neither declares is binned from the data (and said so).
    """
    decisions = list(
        session.scalars(
            select(Decision)
            .where(
                Decision.system_id == spec.id,
                Decision.seeded.is_(False),
                Decision.subject_id.is_not(None),
                Decision.outcome != PENDING,
            )
            .order_by(Decision.subject_id, Decision.created_at.desc(), Decision.id)
        )
    )
    latest = list({d.subject_id: d for d in reversed(decisions)}.values())
    keyring = KeyRing(master_key, store=SqlKeyStore(session))
    cipher = session_cipher(session, master_key)
    protected = _protected(session, [d.id for d in latest])
    names = [f.name for f in spec.features]
    rows = []
    for decision in latest:
        features = _inputs(session, keyring, decision)
        if features is None:
            continue
        row: dict[str, Any] = {n: features.get(n) for n in names}
        for attribute in spec.protected_attributes:
            sealed = protected.get((decision.id, attribute.name))
            row[attribute.name] = None if sealed is None else cipher.open(attribute.name, sealed)
        row[OUTCOME] = _outcome(spec, decision.outcome)
        row[TRUE_OUTCOME] = decision.true_outcome or NOT_RECORDED
        rows.append(row)
    if not rows:
        raise InputError(
            f"system {spec.id!r} has no final decisions whose inputs can be read; "
            "there is nothing to synthesize"
        )
    frame = pd.DataFrame(rows)
    categories, cuts = _public_domains(session, spec, frame)
    protected_names = [a.name for a in spec.protected_attributes]
    return SystemLog(frame, categories, cuts, protected_names, len(decisions) - len(rows))


def _inputs(session: Session, keyring: KeyRing, decision: Decision) -> dict[str, Any] | None:
    stored = session.get(LedgerEntry, (decision.ledger_chain, decision.ledger_sequence))
    if stored is None:
        return None
    try:
        personal = keyring.open(row_entry(stored))
    except LedgerError:
        return None  # erased: the person's inputs are gone, and stay out of any release
    features = personal.get("features")
    return features if isinstance(features, dict) else None


def _protected(session: Session, ids: list[str]) -> dict[tuple[str, str], str]:
    found: dict[tuple[str, str], str] = {}
    for start in range(0, len(ids), 500):  # well under every database's bound-parameter limit
        chunk = ids[start : start + 500]
        for value in session.scalars(
            select(ProtectedValue).where(ProtectedValue.decision_id.in_(chunk))
        ):
            found[(value.decision_id, value.name)] = value.value
    return found


def _outcome(spec: SystemSpec, outcome: str) -> Any:
    if isinstance(spec.decision, ScoreDecision):
        return float(outcome)
    if isinstance(spec.decision, RankingDecision):
        return outcome.split(",")[0]  # the top recommendation, as the transparency report
    return outcome


def _public_domains(
    session: Session, spec: SystemSpec, frame: pd.DataFrame
) -> tuple[dict[str, list[str]], dict[str, list[float]]]:
    """Category sets and bin edges the spec (or the training summary) declares."""
    ranges = _trained_ranges(session, spec)
    categories: dict[str, list[str]] = {}
    bounds: dict[str, tuple[float | None, float | None]] = {}
    for feature in spec.features:
        if feature.type == "category" and feature.categories:
            categories[feature.name] = list(feature.categories)
        elif feature.type == "boolean":
            categories[feature.name] = ["False", "True"]
            frame[feature.name] = frame[feature.name].map(
                lambda v: None if v is None else str(bool(v))
            )
        elif feature.type in ("number", "integer"):
            low, high = ranges.get(feature.name, (None, None))
            bounds[feature.name] = (
                feature.minimum if feature.minimum is not None else low,
                feature.maximum if feature.maximum is not None else high,
            )
            frame[feature.name] = pd.to_numeric(frame[feature.name], errors="coerce")
        else:
            frame.drop(columns=feature.name, inplace=True)  # free text is never synthesized
    for attribute in spec.protected_attributes:
        if attribute.categories:
            categories[attribute.name] = list(attribute.categories)
    decision = spec.decision
    if isinstance(decision, BinaryDecision):
        categories[OUTCOME] = [decision.negative, decision.positive]
    elif isinstance(decision, MulticlassDecision):
        categories[OUTCOME] = list(decision.classes)
    elif isinstance(decision, RankingDecision) and decision.items is not None:
        categories[OUTCOME] = list(decision.items)
    elif isinstance(decision, ScoreDecision):
        bounds[OUTCOME] = (decision.minimum, decision.maximum)
    cuts = {
        name: _equal_width(low, high)
        for name, (low, high) in bounds.items()
        if low is not None and high is not None and high > low
    }
    return categories, cuts


def _trained_ranges(session: Session, spec: SystemSpec) -> dict[str, tuple[float, float]]:
    system = get_system(session, system_id=spec.id)
    if system.model_version is None:
        return {}
    summary = session.scalar(
        select(ModelVersion.training_summary).where(
            ModelVersion.system_id == spec.id, ModelVersion.version == system.model_version
        )
    )
    ranges = (summary or {}).get("ranges", {})
    return {str(k): (float(v[0]), float(v[1])) for k, v in ranges.items()}


def _equal_width(low: float, high: float) -> list[float]:
    width = (high - low) / NUMBER_BINS
    return [low + i * width for i in range(1, NUMBER_BINS)]
