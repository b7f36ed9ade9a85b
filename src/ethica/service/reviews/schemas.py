"""Request and response bodies of the review routes."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from ethica.service.decisions.schemas import DataUse, LedgerRef

ReasonCode = Literal["model_error", "new_information", "policy_exception", "data_quality"]
"""Why a reviewer overrode a decision: a fixed list, so overrides can be counted by reason."""


class ReviewCase(BaseModel):
    """A held decision as a reviewer sees it: never its protected attributes."""

    decision_id: str
    system_id: str
    risk_tier: str
    priority: Literal["high", "normal"]
    created_at: datetime
    sla_deadline: datetime
    review_status: str
    review_reason: str | None
    outcome: str
    score: float | None
    model_version: str | None
    explanation: dict[str, Any] | None
    data: DataUse
    claimed_by: str | None
    proposed_outcome: str | None = None
    proposed_by: str | None = None


class ReviewQueue(BaseModel):
    """The cases awaiting a reviewer: high priority first, then oldest first."""

    items: list[ReviewCase]
    total: int


class ClaimRead(BaseModel):
    """Who holds a case (``None`` after a release)."""

    decision_id: str
    claimed_by: str | None
    claimed_at: datetime | None


class ReviewDecisionCreate(BaseModel):
    """A reviewer's decision on a held case."""

    action: Literal["confirm", "override"]
    outcome: str | None = Field(None, min_length=1, max_length=200)
    reason_code: ReasonCode | None = None
    comment: str | None = Field(None, max_length=2000)

    @model_validator(mode="after")
    def _override_needs_outcome_and_reason(self) -> ReviewDecisionCreate:
        if self.action == "override":
            if self.outcome is None:
                raise ValueError("an override needs the new outcome")
            if self.reason_code is None:
                raise ValueError("an override needs a reason_code")
        elif self.outcome is not None:
            raise ValueError("a confirmation keeps the outcome: do not send one")
        return self


class ApprovalCreate(BaseModel):
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
