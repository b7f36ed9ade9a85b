"""The common ground of evidence: its kinds and their validity, ledger references, attestations.

Each record says when it was observed, which ledger entries it rests on, and whether it supports
the obligations it serves (``assess``). How long a record counts is its kind's validity
(:data:`EVIDENCE_KINDS`): an audit older than 90 days no longer shows that a system is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from ethica.governance._classification import Classification
    from ethica.ledger import Entry

__all__ = [
    "EVIDENCE_KINDS",
    "Assessment",
    "Attestation",
    "BaseEvidence",
    "BaseRecord",
    "EvidenceKind",
    "LedgerRef",
]


@dataclass(frozen=True)
class EvidenceKind:
    """A kind of evidence and how long one record of it counts."""

    key: str
    label: str
    validity: timedelta


EVIDENCE_KINDS = {
    k.key: k
    for k in (
        EvidenceKind("ledger-verification", "ledger verification", timedelta(days=30)),
        EvidenceKind("oversight", "human oversight in operation", timedelta(days=30)),
        EvidenceKind("training-data-audit", "audit of the training data", timedelta(days=90)),
        EvidenceKind("decisions-audit", "audit of decisions with outcomes", timedelta(days=90)),
        # Monitoring counts every day: a week without a counted day means it has stopped.
        EvidenceKind("monitoring-audit", "fairness and drift monitoring", timedelta(days=7)),
        EvidenceKind("explanations", "explanations served", timedelta(days=30)),
        EvidenceKind("path-test:human-review", "human review path tested", timedelta(days=90)),
        EvidenceKind("path-test:objection", "objection path tested", timedelta(days=90)),
        EvidenceKind("path-test:erasure", "erasure path tested", timedelta(days=90)),
        EvidenceKind("path-test:access", "access and export path tested", timedelta(days=90)),
        EvidenceKind("document:annex-iv", "technical documentation", timedelta(days=365)),
        EvidenceKind("document:fria", "fundamental-rights impact assessment", timedelta(days=365)),
        EvidenceKind("document:model-card", "model card", timedelta(days=365)),
        EvidenceKind("disclosure", "AI disclosure in answers", timedelta(days=30)),
        EvidenceKind("notice", "privacy notice published", timedelta(days=365)),
        EvidenceKind("incidents", "serious incident log", timedelta(days=7)),
    )
}
"""Every kind of evidence, by key, with its validity."""


@dataclass(frozen=True)
class Assessment:
    """What one record says about an obligation: it supports it, fails it, or shows it overdue."""

    state: Literal["supports", "fails", "overdue"]
    detail: str


class BaseRecord(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LedgerRef(BaseRecord):
    """One ledger entry a record or document rests on: where it is and its hash."""

    chain: Annotated[str, Field(min_length=1)]
    sequence: Annotated[int, Field(ge=0)]
    hash: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]

    @classmethod
    def of(cls, entry: Entry) -> LedgerRef:
        """Return the reference of a ledger entry."""
        return cls(chain=entry.chain, sequence=entry.sequence, hash=entry.hash)

    def __str__(self) -> str:
        return f"{self.chain}#{self.sequence} {self.hash[:12]}…"


class BaseEvidence(BaseRecord):
    observed_at: AwareDatetime = Field(description="When the evidence was observed or produced.")
    refs: list[LedgerRef] = Field(
        default_factory=list, description="The ledger entries it rests on."
    )

    @property
    def kind(self) -> str:
        """The key of the evidence's kind in :data:`EVIDENCE_KINDS`."""
        raise NotImplementedError

    def expires(self) -> date:
        """Return the last day the record counts."""
        return (self.observed_at + EVIDENCE_KINDS[self.kind].validity).date()

    def assess(self, classification: Classification) -> Assessment:
        """Tell whether the record supports the obligations it serves."""
        raise NotImplementedError


class Attestation(BaseRecord):
    """A named person's statement that an obligation is met (kept in the ledger by the service)."""

    obligation: Annotated[str, Field(min_length=1)] = Field(description="The obligation's key.")
    by: Annotated[str, Field(min_length=1)] = Field(description="Who attests, by name.")
    role: Annotated[str, Field(min_length=1)] = Field(description="In what role.")
    statement: Annotated[str, Field(min_length=20)]
    given_on: date
    valid_until: date | None = Field(None, description="Unset: a year after it was given.")
    ref: LedgerRef | None = None

    def expires(self) -> date:
        """Return the last day the attestation counts."""
        return self.valid_until or self.given_on + timedelta(days=365)
