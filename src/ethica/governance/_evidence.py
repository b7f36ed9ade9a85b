"""Evidence that an obligation is met: typed records the service gathers (or files hold).

Each record says when it was observed, which ledger entries it rests on, and whether it supports
the obligations it serves (:meth:`assess`). How long a record counts is its kind's validity
(:data:`EVIDENCE_KINDS`): an audit older than 90 days no longer shows that a system is audited.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter

from ethica.governance._spec import OversightSpec

if TYPE_CHECKING:
    from ethica.fairness import Audit
    from ethica.governance._classification import Classification
    from ethica.ledger import Entry, VerificationReport

__all__ = [
    "EVIDENCE_KINDS",
    "Assessment",
    "Attestation",
    "AuditEvidence",
    "DisclosureRecord",
    "DocumentRecord",
    "Evidence",
    "EvidenceKind",
    "ExplanationRecord",
    "GroupMetric",
    "IncidentLog",
    "LedgerRef",
    "LedgerVerification",
    "NoticeRecord",
    "OversightRecord",
    "PathTest",
    "parse_evidence",
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
        EvidenceKind("monitoring-audit", "fairness and drift monitoring", timedelta(days=30)),
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


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LedgerRef(_Record):
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


class _Evidence(_Record):
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


class LedgerVerification(_Evidence):
    """A verification of the ledger's chains and signed checkpoints (Art. 12, 19, 26(6))."""

    type: Literal["ledger-verification"] = "ledger-verification"
    ok: bool
    entries_checked: Annotated[int, Field(ge=0)]
    chains: Annotated[int, Field(ge=0)]
    checkpoints_checked: Annotated[int, Field(ge=0)] = 0
    head: LedgerRef | None = Field(None, description="The head (or checkpoint) it reached.")
    problems: list[str] = Field(default_factory=list)

    @property
    def kind(self) -> str:
        """See :attr:`_Evidence.kind`."""
        return "ledger-verification"

    @classmethod
    def from_report(
        cls, report: VerificationReport, *, observed_at: datetime, head: LedgerRef | None = None
    ) -> LedgerVerification:
        """Read :func:`ethica.ledger.verify`'s report."""
        return cls(
            observed_at=observed_at,
            ok=report.ok,
            entries_checked=report.entries_checked,
            chains=len(report.heads),
            checkpoints_checked=report.checkpoints_checked,
            head=head,
            refs=[] if head is None else [head],
            problems=[str(p) for p in report.problems],
        )

    def assess(self, classification: Classification) -> Assessment:
        """See :meth:`_Evidence.assess`."""
        if not self.ok:
            first = self.problems[0] if self.problems else "no detail recorded"
            return Assessment("fails", f"the ledger does not verify: {first}")
        signed = (
            f", {self.checkpoints_checked} signed checkpoints" if self.checkpoints_checked else ""
        )
        head = f"; head {self.head}" if self.head else ""
        return Assessment(
            "supports",
            f"the ledger verifies: {self.entries_checked} entries in {self.chains} chains"
            f"{signed}{head}",
        )


class OversightRecord(_Evidence):
    """The oversight design in force and what reviewers did with it (Art. 14, 26(2))."""

    type: Literal["oversight"] = "oversight"
    oversight: OversightSpec
    reviewers: Annotated[int, Field(ge=0)] = Field(description="People who decided cases.")
    decided: Annotated[int, Field(ge=0)] = Field(description="Cases decided in the period.")
    held: Annotated[int, Field(ge=0)] = Field(0, description="Decisions held for review.")
    overdue: Annotated[int, Field(ge=0)] = Field(0, description="Cases past their deadline.")
    override_rate: float | None = None
    seeded_accuracy: float | None = Field(
        None, description="Share of seeded cases with known answers that reviewers got right."
    )

    @property
    def kind(self) -> str:
        """See :attr:`_Evidence.kind`."""
        return "oversight"

    def assess(self, classification: Classification) -> Assessment:
        """See :meth:`_Evidence.assess`."""
        o = self.oversight
        if classification.high_risk and not o.review_adverse:
            return Assessment(
                "fails",
                "adverse decisions of this high-risk system are not held for a person "
                "(oversight.review_adverse is off)",
            )
        if not (o.review_adverse or o.margin > 0 or o.sample_rate > 0 or o.review_unfamiliar):
            return Assessment("fails", "the oversight policy holds no decision for a person")
        if self.reviewers == 0 or self.decided == 0:
            return Assessment("fails", "no reviewer decided a case in the period")
        return Assessment(
            "supports",
            f"{self.reviewers} reviewers decided {self.decided} cases"
            + (f", {self.overdue} past deadline" if self.overdue else ""),
        )


class GroupMetric(_Record):
    """One metric of one group, with its interval, as an audit reported it."""

    grouping: str
    group: str
    metric: str
    count: int
    value: float | None
    low: float | None
    high: float | None


class AuditEvidence(_Evidence):
    """A fairness audit (``ethica.fairness``) of training data, decisions or a window."""

    type: Literal["audit"] = "audit"
    scope: Literal["training-data", "decisions", "monitoring"]
    dataset: Annotated[str, Field(min_length=1)] = Field(description="What was audited.")
    model_version: str | None = None
    rows: Annotated[int, Field(ge=0)]
    sensitive_features: list[str]
    accuracy: float | None = Field(None, description="Overall accuracy, when labels were known.")
    findings: list[str] = Field(default_factory=list, description="Material gaps, in words.")
    metrics: list[GroupMetric] = Field(default_factory=list)

    @property
    def kind(self) -> str:
        """See :attr:`_Evidence.kind`."""
        return f"{self.scope}-audit"

    @classmethod
    def from_audit(
        cls,
        audit: Audit | Mapping[str, Any],
        *,
        scope: Literal["training-data", "decisions", "monitoring"],
        dataset: str,
        observed_at: datetime,
        model_version: str | None = None,
        refs: list[LedgerRef] | None = None,
    ) -> AuditEvidence:
        """Read a fairness :class:`~ethica.fairness.Audit` or its ``to_dict()`` form."""
        data = audit if isinstance(audit, Mapping) else audit.to_dict()
        overall = data.get("overall") or {}
        metrics = [
            GroupMetric(
                grouping=str(row["grouping"]),
                group=str(row["group"]),
                metric=str(row["metric"]),
                count=int(row.get("count") or 0),
                value=row.get("value"),
                low=row.get("value_low"),
                high=row.get("value_high"),
            )
            for row in _comparison_rows(data)
        ]
        return cls(
            observed_at=observed_at,
            refs=refs or [],
            scope=scope,
            dataset=dataset,
            model_version=model_version,
            rows=int(data.get("rows", 0)),
            sensitive_features=[str(s) for s in data.get("sensitive_features", [])],
            accuracy=overall.get("accuracy"),
            findings=[str(f["text"]) for f in data.get("findings", [])],
            metrics=metrics,
        )

    def assess(self, classification: Classification) -> Assessment:
        """See :meth:`_Evidence.assess`."""
        if self.rows == 0:
            return Assessment("fails", f"the audit of {self.dataset} saw no rows")
        if self.scope == "decisions" and self.accuracy is None:
            return Assessment(
                "fails",
                f"the audit of {self.dataset} had no true outcomes, so it measures no accuracy",
            )
        found = f", {len(self.findings)} material gaps reported" if self.findings else ""
        return Assessment(
            "supports",
            f"{self.dataset} audited ({self.rows} rows, by {', '.join(self.sensitive_features)})"
            + found,
        )


class ExplanationRecord(_Evidence):
    """How many decisions of a period were explained, adverse ones with their reasons."""

    type: Literal["explanations"] = "explanations"
    period_start: date
    period_end: date
    decisions: Annotated[int, Field(ge=0)]
    explained: Annotated[int, Field(ge=0)]
    adverse: Annotated[int, Field(ge=0)] = 0
    adverse_explained: Annotated[int, Field(ge=0)] = Field(
        0, description="Adverse decisions with their principal reasons (notices)."
    )

    @property
    def kind(self) -> str:
        """See :attr:`_Evidence.kind`."""
        return "explanations"

    def assess(self, classification: Classification) -> Assessment:
        """See :meth:`_Evidence.assess`."""
        if self.decisions == 0:
            return Assessment("fails", "no decision was made in the period to explain")
        if self.adverse_explained < self.adverse:
            missing = self.adverse - self.adverse_explained
            return Assessment(
                "fails", f"{missing} of {self.adverse} adverse decisions had no reasons"
            )
        if self.explained < self.decisions:
            missing = self.decisions - self.explained
            return Assessment(
                "fails", f"{missing} of {self.decisions} decisions had no explanation"
            )
        return Assessment(
            "supports",
            f"all {self.decisions} decisions from {self.period_start} to {self.period_end} "
            f"explained, {self.adverse} adverse ones with their reasons",
        )


class PathTest(_Evidence):
    """A test run of a path a person's right depends on (review, objection, erasure, access)."""

    type: Literal["path-test"] = "path-test"
    path: Literal["human-review", "objection", "erasure", "access"]
    passed: bool
    detail: str = ""

    @property
    def kind(self) -> str:
        """See :attr:`_Evidence.kind`."""
        return f"path-test:{self.path}"

    def assess(self, classification: Classification) -> Assessment:
        """See :meth:`_Evidence.assess`."""
        what = f"the {self.path} path"
        if not self.passed:
            return Assessment("fails", f"{what} failed its test: {self.detail or 'no detail'}")
        return Assessment(
            "supports", f"{what} passed its test" + (f": {self.detail}" if self.detail else "")
        )


class DocumentRecord(_Evidence):
    """A generated document: which one, its digest, and the spec it was built from."""

    type: Literal["document"] = "document"
    document: Literal["annex-iv", "fria", "model-card"]
    digest: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    spec_digest: str
    signed_off: bool = Field(True, description="Every sign-off it needs is given.")

    @property
    def kind(self) -> str:
        """See :attr:`_Evidence.kind`."""
        return f"document:{self.document}"

    def assess(self, classification: Classification) -> Assessment:
        """See :meth:`_Evidence.assess`."""
        if self.spec_digest != classification.spec_digest:
            return Assessment("fails", f"the {self.document} document predates the current spec")
        if not self.signed_off:
            return Assessment("fails", f"the {self.document} document awaits its sign-offs")
        return Assessment("supports", f"{self.document} {self.digest[:12]}… is current")


class DisclosureRecord(_Evidence):
    """How many answers told the person they dealt with an AI system (Art. 50(1), 26(11))."""

    type: Literal["disclosure"] = "disclosure"
    answers: Annotated[int, Field(ge=0)]
    disclosed: Annotated[int, Field(ge=0)]

    @property
    def kind(self) -> str:
        """See :attr:`_Evidence.kind`."""
        return "disclosure"

    def assess(self, classification: Classification) -> Assessment:
        """See :meth:`_Evidence.assess`."""
        if self.answers == 0:
            return Assessment("fails", "no answer was given in the period")
        if self.disclosed < self.answers:
            return Assessment(
                "fails",
                f"{self.answers - self.disclosed} of {self.answers} answers had no AI disclosure",
            )
        return Assessment("supports", f"all {self.answers} answers disclosed the AI system")


class NoticeRecord(_Evidence):
    """A published privacy notice and whether it explains the automated decisions."""

    type: Literal["notice"] = "notice"
    version: Annotated[str, Field(min_length=1)]
    covers_automated_decisions: bool

    @property
    def kind(self) -> str:
        """See :attr:`_Evidence.kind`."""
        return "notice"

    def assess(self, classification: Classification) -> Assessment:
        """See :meth:`_Evidence.assess`."""
        if not self.covers_automated_decisions:
            return Assessment(
                "fails",
                f"notice {self.version} does not explain the automated decisions and their logic",
            )
        return Assessment("supports", f"notice {self.version} explains the automated decisions")


class IncidentLog(_Evidence):
    """The serious incidents of a system: open ones, and those past a reporting deadline."""

    type: Literal["incidents"] = "incidents"
    open: Annotated[int, Field(ge=0)] = 0
    overdue: list[str] = Field(default_factory=list, description="Incidents past a deadline.")

    @property
    def kind(self) -> str:
        """See :attr:`_Evidence.kind`."""
        return "incidents"

    def assess(self, classification: Classification) -> Assessment:
        """See :meth:`_Evidence.assess`."""
        if self.overdue:
            return Assessment(
                "overdue", f"incidents past their reporting deadline: {', '.join(self.overdue)}"
            )
        return Assessment("supports", f"{self.open} open incidents, none past a reporting deadline")


Evidence = Annotated[
    LedgerVerification
    | OversightRecord
    | AuditEvidence
    | ExplanationRecord
    | PathTest
    | DocumentRecord
    | DisclosureRecord
    | NoticeRecord
    | IncidentLog,
    Field(discriminator="type"),
]
"""Any evidence record; its ``type`` field tells which."""

_EVIDENCE_LIST: TypeAdapter[list[Evidence]] = TypeAdapter(list[Evidence])


def parse_evidence(data: Any) -> list[Evidence]:
    """Validate a list of evidence records given as JSON data (each with its ``type``)."""
    return _EVIDENCE_LIST.validate_python(data)


class Attestation(_Record):
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


def _comparison_rows(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One record per grouping, group and metric, from an audit's JSON (schema 1 or 2)."""
    if "groupings" not in data:  # schema 1: one record per row
        return list(data.get("comparisons", []))
    rows = []
    for name, grouping in data["groupings"].items():
        metrics, groups = grouping["metrics"], grouping["groups"]
        for metric, columns in grouping["comparisons"].items():
            for i, group in enumerate(groups):
                rows.append(
                    {
                        "grouping": name,
                        "group": group,
                        "metric": metric,
                        "count": metrics["count"][i],
                        "value": metrics.get(metric, [None] * len(groups))[i],
                        "value_low": (columns.get("value_low") or [None] * len(groups))[i],
                        "value_high": (columns.get("value_high") or [None] * len(groups))[i],
                    }
                )
    return rows
