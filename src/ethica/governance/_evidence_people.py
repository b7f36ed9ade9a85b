"""Evidence of duties towards people: explanations, rights paths, notices, documents, incidents."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field

from ethica.governance._evidence_base import Assessment, BaseEvidence

if TYPE_CHECKING:
    from ethica.governance._classification import Classification

__all__ = [
    "DisclosureRecord",
    "DocumentRecord",
    "ExplanationRecord",
    "IncidentLog",
    "NoticeRecord",
    "PathTest",
]


class ExplanationRecord(BaseEvidence):
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
        """See :attr:`BaseEvidence.kind`."""
        return "explanations"

    def assess(self, classification: Classification) -> Assessment:
        """See :meth:`BaseEvidence.assess`."""
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


class PathTest(BaseEvidence):
    """A test run of a path a person's right depends on (review, objection, erasure, access)."""

    type: Literal["path-test"] = "path-test"
    path: Literal["human-review", "objection", "erasure", "access"]
    passed: bool
    detail: str = ""

    @property
    def kind(self) -> str:
        """See :attr:`BaseEvidence.kind`."""
        return f"path-test:{self.path}"

    def assess(self, classification: Classification) -> Assessment:
        """See :meth:`BaseEvidence.assess`."""
        what = f"the {self.path} path"
        if not self.passed:
            return Assessment("fails", f"{what} failed its test: {self.detail or 'no detail'}")
        return Assessment(
            "supports", f"{what} passed its test" + (f": {self.detail}" if self.detail else "")
        )


class DocumentRecord(BaseEvidence):
    """A generated document: which one, its digest, and the spec it was built from."""

    type: Literal["document"] = "document"
    document: Literal["annex-iv", "fria", "model-card"]
    digest: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    spec_digest: str
    signed_off: bool = Field(True, description="Every sign-off it needs is given.")

    @property
    def kind(self) -> str:
        """See :attr:`BaseEvidence.kind`."""
        return f"document:{self.document}"

    def assess(self, classification: Classification) -> Assessment:
        """See :meth:`BaseEvidence.assess`."""
        if self.spec_digest != classification.spec_digest:
            return Assessment("fails", f"the {self.document} document predates the current spec")
        if not self.signed_off:
            return Assessment("fails", f"the {self.document} document awaits its sign-offs")
        return Assessment("supports", f"{self.document} {self.digest[:12]}… is current")


class DisclosureRecord(BaseEvidence):
    """How many answers told the person they dealt with an AI system (Art. 50(1), 26(11))."""

    type: Literal["disclosure"] = "disclosure"
    answers: Annotated[int, Field(ge=0)]
    disclosed: Annotated[int, Field(ge=0)]

    @property
    def kind(self) -> str:
        """See :attr:`BaseEvidence.kind`."""
        return "disclosure"

    def assess(self, classification: Classification) -> Assessment:
        """See :meth:`BaseEvidence.assess`."""
        if self.answers == 0:
            return Assessment("fails", "no answer was given in the period")
        if self.disclosed < self.answers:
            return Assessment(
                "fails",
                f"{self.answers - self.disclosed} of {self.answers} answers had no AI disclosure",
            )
        return Assessment("supports", f"all {self.answers} answers disclosed the AI system")


class NoticeRecord(BaseEvidence):
    """A published privacy notice and whether it explains the automated decisions."""

    type: Literal["notice"] = "notice"
    version: Annotated[str, Field(min_length=1)]
    covers_automated_decisions: bool

    @property
    def kind(self) -> str:
        """See :attr:`BaseEvidence.kind`."""
        return "notice"

    def assess(self, classification: Classification) -> Assessment:
        """See :meth:`BaseEvidence.assess`."""
        if not self.covers_automated_decisions:
            return Assessment(
                "fails",
                f"notice {self.version} does not explain the automated decisions and their logic",
            )
        return Assessment("supports", f"notice {self.version} explains the automated decisions")


class IncidentLog(BaseEvidence):
    """The serious incidents of a system: open ones, and those past a reporting deadline."""

    type: Literal["incidents"] = "incidents"
    open: Annotated[int, Field(ge=0)] = 0
    overdue: list[str] = Field(default_factory=list, description="Incidents past a deadline.")

    @property
    def kind(self) -> str:
        """See :attr:`BaseEvidence.kind`."""
        return "incidents"

    def assess(self, classification: Classification) -> Assessment:
        """See :meth:`BaseEvidence.assess`."""
        if self.overdue:
            return Assessment(
                "overdue", f"incidents past their reporting deadline: {', '.join(self.overdue)}"
            )
        return Assessment("supports", f"{self.open} open incidents, none past a reporting deadline")
