"""Use cases of governance on the service: classify a registered system, keep each
classification and attestation in the system's ledger chain, and read its obligations register.

The library (:mod:`ethica.governance`) decides; this module supplies it with what the database
holds and records in the ledger what a regulator must be able to check later: every time a
system is classified anew (its spec changed), and every statement a named person attests.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ethica.errors import InputError
from ethica.governance import (
    FRIA_ROLES,
    Attestation,
    Change,
    Classification,
    ClassificationChange,
    LedgerRef,
    ModelVersion,
    Register,
    SignOffGiven,
    SystemRecord,
    SystemSpec,
    applicable_obligations,
    cite_text,
    classify,
    obligation_register,
    parse_spec,
)
from ethica.ledger import Entry
from ethica.service.candidates.history import mitigation_changes
from ethica.service.governance.evidence import gather_evidence
from ethica.service.ledger.store import row_entry
from ethica.service.ledger.tables import LedgerEntry
from ethica.service.ledger.writer import Batch
from ethica.service.settings import Settings
from ethica.service.systems.service import apply_spec, get_system
from ethica.service.systems.tables import ModelVersion as StoredModel
from ethica.service.systems.tables import System

CLASSIFICATION = "classification"
"""The kind of the ledger entry recording a system's (re)classification."""
ATTESTATION = "attestation"
"""The kind of the ledger entry recording a named person's attestation of an obligation."""
FRIA = "ai-act-27"
"""The obligation a sign-off of the fundamental-rights impact assessment attests."""


def system_spec(session: Session, *, system_id: str) -> SystemSpec:
    """The registered spec of ``system_id`` (NotFoundError when it is not registered)."""
    return parse_spec(get_system(session, system_id=system_id).spec)


def classification_of(spec: SystemSpec) -> Classification | None:
    """The AI Act classification of a spec, or ``None`` when it declares no ``ai_act`` facts."""
    return classify(spec) if spec.ai_act is not None else None


def _entries(session: Session, system_id: str, kind: str) -> list[Entry]:
    rows = session.scalars(
        select(LedgerEntry)
        .where(LedgerEntry.chain == system_id, LedgerEntry.kind == kind)
        .order_by(LedgerEntry.sequence)
    )
    return [row_entry(row) for row in rows]


def register_system(batch: Batch, *, spec: SystemSpec, by: str) -> tuple[System, bool]:
    """Register or update a system from its spec and record a first or changed classification.

    The one path of ``PUT /v1/systems/{id}`` and ``ethica systems apply``: the spec and its
    classification entry are written in the same commit. Returns the system and whether it is new.
    """
    system, created = apply_spec(batch.session, spec=spec)
    record_classification(batch, spec=spec, by=by)
    return system, created


def classification_history(session: Session, *, system_id: str) -> list[Entry]:
    """Every classification entry of a system, oldest first."""
    return _entries(session, system_id, CLASSIFICATION)


def record_classification(batch: Batch, *, spec: SystemSpec, by: str) -> Entry | None:
    """Append a classification entry when the spec is classified for the first time or anew.

    Nothing is appended when the spec declares no AI Act facts, or when its digest (spec and
    facts) equals the last recorded one: re-applying the same spec is not a change. A writer job.
    """
    current = classification_of(spec)
    if current is None:
        return None
    history = classification_history(batch.session, system_id=spec.id)
    previous = history[-1].public if history else None
    if previous is not None and previous["classification"]["spec_digest"] == current.spec_digest:
        return None
    change = _change(previous, current)
    return batch.ledger.append(
        CLASSIFICATION,
        chain=spec.id,
        public={
            "system_id": spec.id,
            "classification": current.to_dict(),
            "provisions": cite_text(current.citations),
            "change": change.to_dict(),
            "by": by,
        },
    )


def _change(previous: dict[str, Any] | None, current: Classification) -> ClassificationChange:
    before = (
        [str(g["statement"]) for g in previous["classification"]["grounds"]] if previous else []
    )
    after = [g.statement for g in current.grounds]
    return ClassificationChange(
        system=current.system,
        previous_tier="unclassified" if previous is None else previous["classification"]["tier"],
        tier=current.tier.key,
        previous_digest="" if previous is None else previous["classification"]["spec_digest"],
        digest=current.spec_digest,
        added=tuple(s for s in after if s not in before),
        removed=tuple(s for s in before if s not in after),
    )


def attest(
    batch: Batch,
    *,
    system_id: str,
    obligation: str,
    by: str,
    role: str,
    statement: str,
    given_on: date,
) -> Attestation:
    """Record a named person's statement that an obligation is met; a writer job.

    The obligation must be one the system's classification brings; the statement is validated
    as :class:`~ethica.governance.Attestation` before anything is written.
    """
    spec = system_spec(batch.session, system_id=system_id)
    classification = classification_of(spec)
    if classification is None:
        raise InputError(f"{system_id} declares no AI Act facts (ai_act), so it has no register")
    keys = {o.key for o in applicable_obligations(classification)}
    if obligation not in keys:
        raise InputError(
            f"{obligation!r} is not an obligation of {system_id}; it has: {', '.join(sorted(keys))}"
        )
    attestation = Attestation(
        obligation=obligation, by=by, role=role, statement=statement, given_on=given_on
    )
    entry = batch.ledger.append(
        ATTESTATION, chain=system_id, public=attestation.model_dump(mode="json", exclude={"ref"})
    )
    return attestation.model_copy(update={"ref": LedgerRef.of(entry)})


def sign_off_fria(
    batch: Batch, *, system_id: str, role: str, name: str, statement: str, signed_on: date
) -> Attestation:
    """Record a named person's sign-off of the system's impact assessment; a writer job.

    The sign-off is an attestation of Art. 27 in one of :data:`~ethica.governance.FRIA_ROLES`:
    the register shows the obligation attested, and the assessment shows the signature.
    """
    if role not in FRIA_ROLES:
        raise InputError(
            f"the impact assessment is signed off as the {', the '.join(FRIA_ROLES)}; "
            f"not as {role!r}"
        )
    spec = system_spec(batch.session, system_id=system_id)
    classification = classification_of(spec)
    keys = {o.key for o in applicable_obligations(classification)} if classification else set()
    if FRIA not in keys:
        raise InputError(
            f"{system_id} needs no fundamental-rights impact assessment (AI Act Art. 27 applies "
            "to deployers of high-risk systems in public services, credit scoring and life or "
            "health insurance), so there is nothing to sign off"
        )
    return attest(
        batch, system_id=system_id, obligation=FRIA, by=name, role=role, statement=statement,
        given_on=signed_on,
    )  # fmt: skip


def attestations_of(session: Session, *, system_id: str) -> list[Attestation]:
    """Every attestation kept in the system's ledger chain, each with its entry's reference."""
    return [
        Attestation.model_validate({**entry.public, "ref": LedgerRef.of(entry)})
        for entry in _entries(session, system_id, ATTESTATION)
    ]


def system_record(
    session: Session, *, settings: Settings, system_id: str, now: datetime
) -> SystemRecord:
    """Everything the documents of a system are built from, as the database holds it now."""
    spec = system_spec(session, system_id=system_id)
    models = session.execute(  # not the model's bytes: the documents need none of them
        select(StoredModel.version, StoredModel.format, StoredModel.training_summary)
        .where(StoredModel.system_id == system_id)
        .order_by(StoredModel.created_at, StoredModel.version)
    )
    changes = [
        Change(
            at=entry.recorded_at,
            what=str(entry.public["change"]["summary"]),
            ref=LedgerRef.of(entry),
        )
        for entry in classification_history(session, system_id=system_id)
    ] + mitigation_changes(session, system_id=system_id)
    attestations = attestations_of(session, system_id=system_id)
    return SystemRecord(
        spec=spec,
        evidence=gather_evidence(session, settings=settings, spec=spec, now=now),
        attestations=attestations,
        signoffs=[
            SignOffGiven(role=a.role, name=a.by, signed_on=a.given_on, statement=a.statement)
            for a in attestations
            if a.obligation == FRIA and a.given_on <= now.date()
        ],
        models=[
            ModelVersion(version=version, format=format, training_summary=summary)
            for version, format, summary in models
        ],
        changes=changes,
        ledger=[ref for change in changes if (ref := change.ref) is not None],
    )


def register_of(
    session: Session, *, settings: Settings, system_id: str, now: datetime
) -> Register | None:
    """The system's obligations register on ``now``'s day, from gathered evidence and attestations.

    ``None`` when the spec declares no AI Act facts.
    """
    record = system_record(session, settings=settings, system_id=system_id, now=now)
    if record.spec.ai_act is None:
        return None
    return obligation_register(
        record.spec, today=now.date(), evidence=record.evidence, attestations=record.attestations
    )
