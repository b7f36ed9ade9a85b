"""Use cases of candidate mitigations: register one in shadow, compare it, promote, roll back,
or withdraw it from shadow.

Registering, promoting, rolling back and withdrawing each append an entry to the system's ledger
chain in the same commit as the change (writer jobs). A promotion cites the digest of the comparison
the officer reviewed, as of a moment: the comparison is recomputed for that moment and must
match, so the entry names exactly the evidence that was seen.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from ethica.errors import InputError
from ethica.governance import BinaryDecision, SystemSpec, parse_spec
from ethica.mitigation import ShadowComparison, compare_decisions, rules_from_dicts
from ethica.service.candidates.schemas import (
    Act,
    CandidateCreate,
    CandidateRead,
    ComparisonRead,
    Criterion,
    PromotionRead,
)
from ethica.service.candidates.shadow import MISSING, THRESHOLDS
from ethica.service.candidates.tables import Candidate
from ethica.service.db import utcnow
from ethica.service.decisions.live_audit import live_count_table
from ethica.service.decisions.protected import session_cipher
from ethica.service.decisions.record import PENDING
from ethica.service.decisions.schemas import LedgerRef
from ethica.service.errors import ConflictError, NotFoundError
from ethica.service.ledger.writer import Batch
from ethica.service.systems.service import get_model, get_system

SHADOW, SERVED, ROLLED_BACK, WITHDRAWN = "shadow", "served", "rolled_back", "withdrawn"
MIN_SHADOW_DECISIONS = 30
"""Shadow decisions a candidate needs before it can be promoted: fewer tell too little."""


def choose_thresholds(
    session: Session,
    *,
    database_url: str,
    master_key: bytes,
    system_id: str,
    criterion: Criterion,
    sensitive_features: list[str] | None,
) -> dict[str, Any]:
    """Group thresholds for ``criterion`` from the system's decisions with recorded outcomes."""
    from ethica.mitigation import group_thresholds

    _binary_spec(session, system_id)
    table = live_count_table(
        session,
        database_url=database_url,
        system_id=system_id,
        master_key=master_key,
        sensitive_features=sensitive_features,
        with_outcomes=True,
        with_scores=True,
    )
    policy = group_thresholds(table, criterion=criterion)
    return {
        "criterion": criterion,
        "sensitive_features": list(table.sensitive_features),
        "rules": [_json_rule(rule.__dict__) for rule in policy.rules.values()],
        "expected_accuracy": policy.objective_value,
    }


def given_thresholds(
    session: Session, *, system_id: str, rules: list[dict[str, Any]], features: list[str] | None
) -> dict[str, Any]:
    """Group thresholds given by the caller, checked against the system's protected attributes."""
    spec = _binary_spec(session, system_id)
    declared = [p.name for p in spec.protected_attributes]
    chosen = features or declared
    unknown = sorted(set(chosen) - set(declared))
    if unknown or not chosen:
        raise InputError(
            f"thresholds are per group of the protected attributes the system declares: "
            f"{declared}; got {chosen}"
        )
    built = rules_from_dicts(rules)
    return {
        "criterion": None,
        "sensitive_features": chosen,
        "rules": [_json_rule(rule.__dict__) for rule in built.values()],
    }


def add_candidate(
    batch: Batch, *, system_id: str, create: CandidateCreate, policy: dict[str, Any], by: str
) -> CandidateRead:
    """Store a candidate in shadow and record it in the ledger; a writer job."""
    session = batch.session
    system = get_system(session, system_id=system_id)
    if create.method == "model":
        version = create.model_version
        if version is None:
            raise InputError("a model candidate names its stored model_version")
        get_model(session, system_id=system_id, version=version)  # NotFoundError if absent
        if version == system.model_version:
            raise InputError(f"model version {version!r} is the one served; upload a new one")
        policy = {"model_version": version}
    candidate = Candidate(
        system_id=system_id,
        name=create.name,
        method=create.method,
        policy=policy,
        status=SHADOW,
        created_by=by,
    )
    session.add(candidate)
    session.flush()
    batch.ledger.append(
        "candidate",
        chain=system_id,
        public={
            "system_id": system_id,
            "candidate_id": candidate.id,
            "name": candidate.name,
            "method": candidate.method,
            "policy": policy,
            "status": SHADOW,
            "by": by,
        },
    )
    return candidate_read(candidate, parse_spec(system.spec))


def list_candidates(session: Session, *, system_id: str) -> list[CandidateRead]:
    """A system's candidates, newest first."""
    system = get_system(session, system_id=system_id)
    spec = parse_spec(system.spec)
    rows = session.scalars(
        select(Candidate)
        .where(Candidate.system_id == system_id)
        .order_by(Candidate.created_at.desc(), Candidate.id)
    ).all()
    return [candidate_read(row, spec) for row in rows]


def get_candidate(session: Session, *, system_id: str, candidate_id: str) -> Candidate:
    """The candidate ``candidate_id`` of the system, or NotFoundError."""
    row = session.get(Candidate, candidate_id)
    if row is None or row.system_id != system_id:
        raise NotFoundError(f"system {system_id!r} has no candidate {candidate_id!r}")
    return row


def candidate_read(row: Candidate, spec: SystemSpec) -> CandidateRead:
    """The API's view of a candidate, with the guard rail its system's jurisdiction sets."""
    from ethica.mitigation import spec_guard_rail

    read = CandidateRead.model_validate(row)
    if row.method == THRESHOLDS:
        read.guard_rail = spec_guard_rail(THRESHOLDS, spec)
    return read


def comparison(
    session: Session,
    *,
    system_id: str,
    candidate_id: str,
    master_key: bytes,
    as_of: datetime | None = None,
) -> ComparisonRead:
    """The shadow comparison of a candidate, over the decisions made before ``as_of`` (now).

    Outcomes count only if recorded before ``as_of`` too, so the same moment gives the same
    numbers (and digest) later.
    """
    moment = as_of or utcnow()
    compared = _compare(session, system_id, candidate_id, master_key, moment)
    return ComparisonRead(
        candidate_id=candidate_id,
        as_of=moment,
        evidence_sha256=compared.digest,
        comparison=compared.to_dict(),
    )


def shadow_frame(
    session: Session, *, system_id: str, candidate_id: str, master_key: bytes, as_of: datetime
) -> tuple[pd.DataFrame, list[str]]:
    """One row per shadow decision: served, candidate, label (0/1) and each protected value."""
    spec = _binary_spec(session, system_id)
    decision = spec.decision
    assert isinstance(decision, BinaryDecision)
    features = [p.name for p in spec.protected_attributes]
    stamp: datetime | str = as_of if _postgresql(session) else _sqlite_stamp(as_of)
    truth = decision.favourable_truth
    label = (
        "NULL"
        if truth is None
        else "CASE WHEN d.true_outcome IS NULL OR d.outcome_recorded_at >= :as_of THEN NULL "
        "WHEN d.true_outcome = :truth THEN 1 ELSE 0 END"
    )
    columns = "".join(
        f', MAX(CASE WHEN p.name = :f{i} THEN p.value END) AS "f{i}"' for i in range(len(features))
    )
    sql = (
        "SELECT d.id AS decision_id, "
        "CASE WHEN d.outcome = :positive THEN 1 ELSE 0 END AS served, "
        "CASE WHEN s.outcome = :positive THEN 1 ELSE 0 END AS candidate, "
        f"{label} AS label{columns} "
        "FROM shadow_decisions s JOIN decisions d ON d.id = s.decision_id "
        "LEFT JOIN protected_values p ON p.decision_id = d.id "
        "WHERE s.candidate_id = :candidate AND d.system_id = :system AND d.created_at < :as_of "
        "AND NOT d.seeded AND d.outcome <> :pending "
        "GROUP BY d.id, d.outcome, s.outcome, d.true_outcome, d.outcome_recorded_at "
        "ORDER BY d.id"
    )
    params: dict[str, Any] = {
        "positive": decision.positive,
        "candidate": candidate_id,
        "system": system_id,
        "as_of": stamp,
        "pending": PENDING,
        **{f"f{i}": name for i, name in enumerate(features)},
    }
    if truth is not None:
        params["truth"] = truth
    rows = pd.read_sql_query(text(sql), session.connection(), params=params)
    cipher = session_cipher(session, master_key)
    for i, name in enumerate(features):
        sealed = rows.pop(f"f{i}")
        opened = {v: cipher.open(name, v) for v in sealed.dropna().unique()}
        rows[name] = sealed.map(opened).fillna(MISSING)
    return rows, features


def promote(
    batch: Batch, *, system_id: str, candidate_id: str, reason: str, by: str, evidence: str
) -> PromotionRead:
    """Serve a candidate in shadow; a writer job (the evidence was checked by the caller)."""
    session = batch.session
    system, candidate, reason = _acted_on(batch, system_id, candidate_id, reason, "promotion")
    served = session.scalar(
        select(Candidate.id).where(Candidate.system_id == system_id, Candidate.status == SERVED)
    )
    if served is not None:
        raise ConflictError(
            f"candidate {served!r} is served on {system_id!r}; roll it back before promoting "
            "another"
        )
    spec = parse_spec(system.spec)
    warning = candidate_read(candidate, spec).guard_rail
    if warning is not None:
        raise InputError(f"not promoted: {warning}")
    if candidate.method == "model":
        candidate.replaced_model_version = system.model_version
        system.model_version = str(candidate.policy["model_version"])
    return _move(batch, system, candidate, "promotion", SERVED, reason, by, evidence)


def rollback(
    batch: Batch, *, system_id: str, candidate_id: str, reason: str, by: str
) -> PromotionRead:
    """Stop serving a promoted candidate: the system decides as before it; a writer job."""
    system, candidate, reason = _acted_on(batch, system_id, candidate_id, reason, "rollback")
    if candidate.method == "model":
        system.model_version = candidate.replaced_model_version
    return _move(batch, system, candidate, "rollback", ROLLED_BACK, reason, by, None)


def withdraw(
    batch: Batch, *, system_id: str, candidate_id: str, reason: str, by: str
) -> PromotionRead:
    """Stop a candidate in shadow without serving it: it decides no more; a writer job."""
    system, candidate, reason = _acted_on(batch, system_id, candidate_id, reason, "withdrawal")
    return _move(batch, system, candidate, "withdrawal", WITHDRAWN, reason, by, None)


def shadow_counts(session: Session, *, system_id: str) -> dict[str, int]:
    """Shadow decisions recorded per candidate of the system."""
    from ethica.service.candidates.tables import ShadowDecision

    rows = session.execute(
        select(ShadowDecision.candidate_id, func.count())
        .join(Candidate, Candidate.id == ShadowDecision.candidate_id)
        .where(Candidate.system_id == system_id)
        .group_by(ShadowDecision.candidate_id)
    ).all()
    return {str(candidate): int(count) for candidate, count in rows}


def check_evidence(
    session: Session,
    *,
    system_id: str,
    candidate_id: str,
    master_key: bytes,
    evidence_sha256: str | None,
    as_of: datetime | None,
) -> str:
    """The digest a promotion cites, once it matches the comparison recomputed for ``as_of``."""
    if evidence_sha256 is None or as_of is None:
        raise InputError(
            "a promotion cites the comparison reviewed: send its evidence_sha256 and as_of "
            f"(GET /v1/systems/{system_id}/candidates/{candidate_id}/comparison)"
        )
    compared = _compare(session, system_id, candidate_id, master_key, as_of)
    if compared.rows < MIN_SHADOW_DECISIONS:
        raise InputError(
            f"the comparison rests on {compared.rows} shadow decisions; a promotion needs at "
            f"least {MIN_SHADOW_DECISIONS}: let the candidate run in shadow longer"
        )
    if compared.digest != evidence_sha256:
        raise ConflictError(
            "the comparison as of that moment is not the one cited (its digest differs): "
            "look at the comparison again and cite what it shows"
        )
    return compared.digest


def _move(
    batch: Batch,
    system: Any,
    candidate: Candidate,
    act: Act,
    status: str,
    reason: str,
    by: str,
    evidence: str | None,
) -> PromotionRead:
    now = utcnow()
    entry = batch.ledger.append(
        act,
        chain=system.id,
        public={
            "system_id": system.id,
            "candidate_id": candidate.id,
            "name": candidate.name,
            "method": candidate.method,
            "status_before": candidate.status,
            "status": status,
            "model_version": system.model_version,
            "reason": reason,
            "by": by,
            "evidence_sha256": evidence,
        },
    )
    candidate.status = status
    candidate.updated_at = now
    system.updated_at = now
    batch.session.flush()
    return PromotionRead(
        candidate_id=candidate.id,
        system_id=system.id,
        act=act,
        status=status,
        reason=reason,
        by=by,
        at=now,
        evidence_sha256=evidence,
        ledger=LedgerRef(chain=entry.chain, sequence=entry.sequence, hash=entry.hash),
    )


def _compare(
    session: Session, system_id: str, candidate_id: str, master_key: bytes, as_of: datetime
) -> ShadowComparison:
    get_candidate(session, system_id=system_id, candidate_id=candidate_id)
    rows, features = shadow_frame(
        session,
        system_id=system_id,
        candidate_id=candidate_id,
        master_key=master_key,
        as_of=as_of,
    )
    return compare_decisions(rows, sensitive_features=features)


def _binary_spec(session: Session, system_id: str) -> SystemSpec:
    spec = parse_spec(get_system(session, system_id=system_id).spec)
    if not isinstance(spec.decision, BinaryDecision):
        raise InputError(
            f"candidates in shadow are for binary systems; {system_id!r} is {spec.decision.kind}"
        )
    if not spec.protected_attributes:
        raise InputError(
            f"system {system_id!r} declares no protected attributes: a shadow comparison by "
            "group needs them"
        )
    return spec


#: The status a candidate must have for each act, and how the refusal names it.
_BEFORE = {
    "promotion": (SHADOW, "a candidate in shadow"),
    "rollback": (SERVED, "a served one"),
    "withdrawal": (SHADOW, "a candidate in shadow"),
}


def _acted_on(
    batch: Batch, system_id: str, candidate_id: str, reason: str, act: str
) -> tuple[Any, Candidate, str]:
    """The system, the candidate in the state ``act`` needs, and the reason given."""
    reason = reason.strip()
    if not reason:
        raise InputError(f"say why: a {act} needs a reason")
    system = get_system(batch.session, system_id=system_id)
    candidate = get_candidate(batch.session, system_id=system_id, candidate_id=candidate_id)
    needed, named = _BEFORE[act]
    if candidate.status != needed:
        raise ConflictError(
            f"candidate {candidate_id!r} is {candidate.status}: only {named} can be given a {act}"
        )
    return system, candidate, reason


def _json_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """A rule fit for JSON columns: infinite thresholds as the strings "inf" and "-inf"."""
    return {k: (str(v) if isinstance(v, float) and math.isinf(v) else v) for k, v in rule.items()}


def _postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _sqlite_stamp(moment: datetime) -> str:
    from datetime import UTC

    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
