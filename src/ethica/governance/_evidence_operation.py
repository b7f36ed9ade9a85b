"""Evidence of how a system runs: ledger verifications, oversight in operation, fairness audits."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field

from ethica.governance._evidence_base import Assessment, BaseEvidence, BaseRecord, LedgerRef
from ethica.governance._spec import OversightSpec

if TYPE_CHECKING:
    from ethica.fairness import Audit
    from ethica.governance._classification import Classification
    from ethica.ledger import VerificationReport

__all__ = ["AuditEvidence", "GroupMetric", "LedgerVerification", "OversightRecord"]


class LedgerVerification(BaseEvidence):
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
        """See :attr:`BaseEvidence.kind`."""
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
        """See :meth:`BaseEvidence.assess`."""
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


class OversightRecord(BaseEvidence):
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
        """See :attr:`BaseEvidence.kind`."""
        return "oversight"

    def assess(self, classification: Classification) -> Assessment:
        """See :meth:`BaseEvidence.assess`."""
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


class GroupMetric(BaseRecord):
    """One metric of one group, with its interval, as an audit reported it."""

    grouping: str
    group: str
    metric: str
    count: int
    value: float | None
    low: float | None
    high: float | None


class AuditEvidence(BaseEvidence):
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
        """See :attr:`BaseEvidence.kind`."""
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
        """See :meth:`BaseEvidence.assess`."""
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
