"""Request and response bodies of the review routes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from ethica.service.decisions.schemas import DataUse, ExplanationStatus, LedgerRef
from ethica.service.reviews.clocks import Priority
from ethica.service.text import RequestSchema

STATEMENT_MAX_CHARS = 4000
"""The longest appeal statement a customer may send."""

ReasonCode = Literal["model_error", "new_information", "policy_exception", "data_quality"]
"""Why a reviewer overrode a decision: a fixed list, so overrides can be counted by reason."""


class ReviewCase(BaseModel):
    """A held decision as a reviewer sees it in the queue: never its protected attributes.

    On a blind-first system the model's ``outcome``, ``score``, ``explanation`` and the
    ``review_reason`` (which can give the outcome away) are ``None`` and ``blind`` is true until
    the reviewer asking has recorded their own judgement.
    """

    decision_id: str
    system_id: str
    risk_tier: str
    priority: Priority
    created_at: datetime
    held_since: datetime = Field(description="When the case entered the queue (or was appealed).")
    sla_deadline: datetime = Field(description="When the review is due (the system's SLA).")
    escalated: bool = Field(description="The review is past its deadline.")
    notice_due_at: datetime | None = Field(
        description="When the adverse-action notice is due (30 days after an adverse decision, "
        "ECOA / Reg B 12 CFR 1002.9); None if the outcome is not adverse."
    )
    review_status: str
    review_reason: str | None
    appealed: bool = Field(description="The customer appealed this decision.")
    blind: bool = Field(description="The model's view is withheld until your own judgement.")
    outcome: str | None
    score: float | None
    model_version: str | None
    scored_by: str = Field(
        description="'model' or 'caller'; 'fallback' (the system's declared fallback: the "
        "system is suspended or the customer objected to profiling) or 'none' (no model at all)."
    )
    person_decides: bool = Field(
        description="No model decided this case: a person decides it directly (action "
        "'decide'); it never counts in agreement with a model."
    )
    explanation: dict[str, Any] | None
    explanation_status: ExplanationStatus | None = Field(
        None,
        description="given; none (no model explained it); erased (the customer had their data "
        "erased, the explanation with it); unreadable; null when the explanation is withheld "
        "(blind-first) or was not opened for this listing",
    )
    explanation_erased_on: date | None = Field(
        None, description="The day the customer's data, the explanation with it, was erased."
    )
    data: DataUse
    claimed_by: str | None
    proposed_outcome: str | None = None
    proposed_by: str | None = None


class ReviewQueue(BaseModel):
    """The cases awaiting a reviewer: by priority, then by deadline."""

    items: list[ReviewCase]
    total: int


class AppealView(BaseModel):
    """The customer's appeal as the reviewer reads it."""

    appealed_at: datetime
    outcome_appealed: str
    statement: str | None = Field(description="The customer's view; None once it was erased.")
    statement_status: str = Field(description="'opened', or why the statement cannot be read.")


class ProposalView(BaseModel):
    """A proposed override awaiting a second reviewer."""

    reviewer_id: str
    outcome: str
    reason_code: str | None
    comment: str | None
    created_at: datetime


class ReviewCaseRead(ReviewCase):
    """One case, exactly as the reviewer sees it: the queue's view plus inputs, appeal, claim."""

    inputs: dict[str, Any] | None = Field(
        description="The input values the model used (opened from the sealed ledger entry)."
    )
    inputs_status: str = Field(description="'opened', or why the inputs cannot be shown.")
    appeal: AppealView | None
    proposal: ProposalView | None
    claimed_at: datetime | None
    your_judgement: str | None = Field(
        description="The outcome you recorded before seeing the model's (blind-first)."
    )
    earlier_reviewers: list[str] = Field(
        default_factory=list,
        description="Who reviewed the case before the customer appealed: none of them may "
        "decide the appeal.",
    )


class JudgementCreate(RequestSchema):
    """A reviewer's own outcome for a blind-first case, before seeing the model's."""

    outcome: str = Field(min_length=1, max_length=200)


class JudgementRead(BaseModel):
    """A recorded blind-first judgement."""

    decision_id: str
    reviewer_id: str
    outcome: str
    created_at: datetime


class AppealCreate(RequestSchema):
    """A customer's appeal of a decision about them, in their own words."""

    statement: str = Field(
        min_length=1,
        max_length=STATEMENT_MAX_CHARS,
        description="Your view: why the decision should be looked at again.",
    )

    @field_validator("statement")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the statement is blank: say in a few words why you appeal")
        return value


class AppealRead(BaseModel):
    """A recorded appeal: the decision is back with a human reviewer."""

    id: str
    decision_id: str
    review_status: str
    review_reason: str
    created_at: datetime
    ledger: LedgerRef


class SeededCaseCreate(RequestSchema):
    """A review case with a known correct outcome, to measure reviewers (never a real decision)."""

    system_id: str = Field(min_length=1, max_length=63)
    features: dict[str, Any] = Field(description="The inputs, as a decision request sends them.")
    known_outcome: str = Field(min_length=1, max_length=200)


class SeededCaseRead(BaseModel):
    """A seeded case as created: what the model said and the known answer."""

    decision_id: str
    system_id: str
    known_outcome: str
    outcome: str
    score: float | None
    review_reason: str
    created_at: datetime


class ReviewerStats(BaseModel):
    """How one reviewer works: volume, agreement with the model, time, seeded accuracy."""

    reviewer_id: str
    cases_decided: int = Field(description="Confirmations and overrides (not approvals).")
    approvals: int = Field(description="Second approvals of others' overrides.")
    rejections: int = Field(0, description="Second reviews that rejected others' overrides.")
    decided_directly: int = Field(
        0,
        description="Cases no model decided (objections, a suspended system) that this "
        "reviewer decided: never counted in the agreement or override rates.",
    )
    agreement_rate: float | None = Field(description="Share of cases confirmed as the model said.")
    override_rate: float | None
    median_seconds_per_case: float | None = Field(description="From claim to decision.")
    seeded_cases: int
    seeded_accuracy: float | None = Field(description="Share of seeded cases decided correctly.")
    blind_judgements: int
    blind_agreement_rate: float | None = Field(
        description="Share of blind-first judgements equal to the model's outcome."
    )
    automation_bias_warning: bool = Field(
        description="Agrees almost always and very fast (see the thresholds in the response)."
    )


class ReviewerStatsPage(BaseModel):
    """Statistics per reviewer, and the thresholds of the automation-bias warning."""

    items: list[ReviewerStats]
    warning_min_cases: int
    warning_min_agreement: float
    warning_max_median_seconds: float


class ClaimRead(BaseModel):
    """Who holds a case (``None`` after a release)."""

    decision_id: str
    claimed_by: str | None
    claimed_at: datetime | None


class ReviewDecisionCreate(RequestSchema):
    """A reviewer's decision on a held case.

    ``confirm`` keeps the model's outcome; ``override`` changes it, with a reason code and a
    comment saying why; ``decide`` gives the outcome of a case no model decided (the customer
    objected to automated decisions, or the system is suspended).
    """

    action: Literal["confirm", "override", "decide"]
    outcome: str | None = Field(None, min_length=1, max_length=200)
    reason_code: ReasonCode | None = None
    comment: str | None = Field(None, max_length=2000)

    @model_validator(mode="after")
    def _override_needs_outcome_reason_and_words(self) -> ReviewDecisionCreate:
        if self.action == "override":
            if self.outcome is None:
                raise ValueError("an override needs the new outcome")
            if self.reason_code is None:
                raise ValueError("an override needs a reason_code")
            if self.comment is None or not self.comment.strip():
                raise ValueError(
                    "an override needs a comment: say in a few words why the outcome changes"
                )
        elif self.action == "decide":
            if self.outcome is None:
                raise ValueError("a decision needs its outcome")
        elif self.outcome is not None:
            raise ValueError("a confirmation keeps the outcome: do not send one")
        return self


class RejectionCreate(RequestSchema):
    """The second reviewer's rejection of a proposed override: the case goes back to the queue."""

    reason: str = Field(
        min_length=1,
        max_length=2000,
        description="Why the override should not take effect (the proposer reads it).",
    )

    @field_validator("reason")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the reason is blank: say why the override should not take effect")
        return value.strip()


class ApprovalCreate(RequestSchema):
    """The second reviewer's approval of a proposed override."""

    comment: str | None = Field(None, max_length=2000)


class ReviewRead(BaseModel):
    """One recorded review step, and where the ledger holds it."""

    id: str
    decision_id: str
    reviewer_id: str
    action: str
    review_status: str
    original_outcome: str
    outcome: str
    final: bool
    reason_code: str | None
    comment: str | None
    created_at: datetime
    ledger: LedgerRef
