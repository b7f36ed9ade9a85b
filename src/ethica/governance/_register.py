"""The obligations register: each obligation's status, from current evidence or attestations.

For one obligation the rules, in order:

1. evidence that fails (the ledger does not verify, adverse decisions are not reviewed...) or
   the spec's own check failing makes it **missing** (or **overdue**, when the evidence says
   a deadline passed), whatever else there is;
2. current evidence of every kind it needs makes it **met**;
3. a current attestation by a named person makes it **attested**;
4. evidence or an attestation that has lapsed, or nothing at all while the system is in
   service for an obligation due before that, makes it **overdue**;
5. otherwise it is **missing**.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ethica.governance._classification import Classification
from ethica.governance._classify import classify
from ethica.governance._evidence import EVIDENCE_KINDS, Attestation, Evidence
from ethica.governance._law import cite_text
from ethica.governance._obligations import Obligation, applicable_obligations
from ethica.governance._spec import SystemSpec

__all__ = ["STATUSES", "ObligationStatus", "Register", "Status", "obligation_register"]


@dataclass(frozen=True)
class Status:
    """A status of an obligation."""

    key: str
    label: str
    done: bool


STATUSES = {
    s.key: s
    for s in (
        Status("met", "met by evidence", True),
        Status("attested", "attested", True),
        Status("missing", "missing", False),
        Status("overdue", "overdue", False),
    )
}
"""The statuses, by key."""


@dataclass(frozen=True)
class ObligationStatus:
    """Where one obligation stands, why, and on what."""

    obligation: Obligation
    status: Status
    reason: str
    evidence: tuple[Evidence, ...] = ()
    attestation: Attestation | None = None
    expires: date | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the row as JSON data."""
        o = self.obligation
        refs = [ref for e in self.evidence for ref in e.refs]
        if self.attestation is not None and self.attestation.ref is not None:
            refs.append(self.attestation.ref)
        return {
            "obligation": o.key,
            "citation": cite_text(o.citations),
            "title": o.title,
            "duty": o.duty,
            "roles": sorted(o.roles),
            "status": self.status.key,
            "reason": self.reason,
            "evidence": [e.kind for e in self.evidence],
            "attested_by": None if self.attestation is None else self.attestation.by,
            "expires": None if self.expires is None else self.expires.isoformat(),
            "refs": [r.model_dump() for r in refs],
        }


@dataclass(frozen=True)
class Register:
    """Every obligation of one system on one day."""

    system: str
    today: date
    classification: Classification
    rows: tuple[ObligationStatus, ...] = field(default_factory=tuple)

    def status(self, key: str) -> ObligationStatus:
        """Return the row of the obligation ``key``."""
        for row in self.rows:
            if row.obligation.key == key:
                return row
        raise KeyError(f"{key!r} does not apply to {self.system}")

    def counts(self) -> dict[str, int]:
        """Return how many obligations have each status."""
        return {key: sum(r.status.key == key for r in self.rows) for key in STATUSES}

    def to_dict(self) -> dict[str, Any]:
        """Return the register as JSON data."""
        return {
            "system": self.system,
            "today": self.today.isoformat(),
            "tier": self.classification.tier.key,
            "counts": self.counts(),
            "obligations": [row.to_dict() for row in self.rows],
        }


def obligation_register(
    spec: SystemSpec,
    *,
    today: date,
    evidence: Iterable[Evidence] = (),
    attestations: Iterable[Attestation] = (),
    classification: Classification | None = None,
) -> Register:
    """Return the status of every obligation that applies to ``spec`` on ``today``.

    Parameters
    ----------
    spec : SystemSpec
        The system (with its ``ai_act`` facts).
    today : date
        The day the statuses are for; evidence observed after it is ignored.
    evidence : iterable of Evidence
        Records of any kinds; for each kind the latest one observed by ``today`` counts.
    attestations : iterable of Attestation
        Statements by named people; for each obligation the latest one given by ``today``.
    classification : Classification, optional
        ``classify(spec)`` when not given.
    """
    classification = classification or classify(spec)
    latest: dict[str, Evidence] = {}
    for record in sorted(evidence, key=lambda e: e.observed_at):
        if record.observed_at.date() <= today:
            latest[record.kind] = record
    attested: dict[str, Attestation] = {}
    for attestation in sorted(_with_claim(attestations, classification), key=lambda a: a.given_on):
        if attestation.given_on <= today:
            attested[attestation.obligation] = attestation
    rows = tuple(
        _status(o, spec, classification, today, latest, attested.get(o.key))
        for o in applicable_obligations(classification)
    )
    return Register(spec.id, today, classification, rows)


def _with_claim(
    attestations: Iterable[Attestation], classification: Classification
) -> list[Attestation]:
    # The Art. 6(3) claim documented in the facts is itself the Art. 6(4) statement.
    given = list(attestations)
    claim = classification.exception
    if claim is not None:
        given.append(
            Attestation(
                obligation="ai-act-6-4",
                by=claim.assessed_by,
                role="assessor",
                statement=claim.assessment,
                given_on=claim.assessed_on,
            )
        )
    return given


def _status(
    obligation: Obligation,
    spec: SystemSpec,
    classification: Classification,
    today: date,
    latest: dict[str, Evidence],
    attestation: Attestation | None,
) -> ObligationStatus:
    needed = obligation.evidence
    present = tuple(latest[k] for k in needed if k in latest)
    failure = obligation.check(spec) if obligation.check else None
    if failure is not None:
        return ObligationStatus(obligation, STATUSES["missing"], failure, present)
    current: list[Evidence] = []
    lapsed: list[str] = []
    for record in present:
        assessment = record.assess(classification)
        if assessment.state != "supports":
            return ObligationStatus(
                obligation, STATUSES[_state(assessment.state)], assessment.detail, present
            )
        if record.expires() < today:
            lapsed.append(
                f"the {EVIDENCE_KINDS[record.kind].label} of {record.observed_at.date()} lapsed "
                f"on {record.expires()}"
            )
        else:
            current.append(record)
    if needed and len(current) == len(needed):
        details = "; ".join(r.assess(classification).detail for r in current)
        expires = min(r.expires() for r in current)
        return ObligationStatus(obligation, STATUSES["met"], details, tuple(current), None, expires)
    if attestation is not None and attestation.expires() >= today:
        return ObligationStatus(
            obligation,
            STATUSES["attested"],
            f"attested by {attestation.by} ({attestation.role}) on {attestation.given_on}: "
            f"{attestation.statement}",
            present,
            attestation,
            attestation.expires(),
        )
    if attestation is not None:
        lapsed.append(f"the attestation by {attestation.by} lapsed on {attestation.expires()}")
    if lapsed:
        return ObligationStatus(obligation, STATUSES["overdue"], "; ".join(lapsed), present)
    absent = [EVIDENCE_KINDS[k].label for k in needed if k not in latest]
    wanting = _wanting(absent)
    since = classification.facts.in_service_since
    if obligation.due == "before_service" and since is not None and since <= today:
        return ObligationStatus(
            obligation,
            STATUSES["overdue"],
            f"due before the system was put into service on {since}: {wanting}",
            present,
        )
    return ObligationStatus(obligation, STATUSES["missing"], wanting, present)


def _state(state: str) -> str:
    return "overdue" if state == "overdue" else "missing"


def _wanting(absent: Sequence[str]) -> str:
    if absent:
        return f"no {' and no '.join(absent)}, and no attestation"
    return "no attestation by a named person"
