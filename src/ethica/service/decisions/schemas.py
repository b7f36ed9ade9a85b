"""What the decisions API reads and returns."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ethica.service.subjects.ids import SubjectId
from ethica.service.text import RequestSchema

AI_DISCLOSURE = (
    "This decision was made with the help of an automated system (AI). You can ask for a person "
    "to review it, contest it, and ask what data was used."
)
RIGHTS = [
    "Ask for a person to review this decision and give your point of view (one step: an appeal).",
    "Get an explanation of the main reasons for the decision.",
    "See the information used about you, and ask for it to be corrected if any of it is wrong.",
    "Object to automated decision-making about you.",
]


class DecisionCreate(RequestSchema):
    """A request for a decision."""

    model_config = ConfigDict(extra="forbid")

    subject_id: SubjectId | None = None
    features: dict[str, Any] = Field(
        default_factory=dict,
        description="The model's inputs, each within its declared type and range (else 422). "
        "A declared feature left out (even all of them) is accepted: it is recorded as withheld "
        "('not provided') and the model receives the feature's declared default.",
    )
    protected: dict[str, str | None] = Field(
        default_factory=dict,
        description="Protected attributes, for fairness monitoring only: never given to the model.",
    )
    score: float | None = Field(
        None,
        description="A score you computed, for systems without a registered model; between 0 "
        "and 1 for a binary system.",
    )
    idempotency_key: str | None = Field(
        None, max_length=200, description="Retries with the same key return the first decision."
    )


class DataUse(BaseModel):
    """Which data reached the model, which did not, and why."""

    used: list[str]
    withheld: list[dict[str, str]]
    dropped: list[str]
    redacted: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Per free-text feature, the kinds of personal data redacted from it.",
    )


class Review(BaseModel):
    """Whether a person must act before the decision takes effect."""

    status: str
    reason: str | None


class LedgerRef(BaseModel):
    """Where the decision is recorded."""

    chain: str
    sequence: int
    hash: str


ExplanationStatus = Literal["given", "none", "erased", "unreadable"]
"""What became of a decision's explanation, as its readers are told."""


class DecisionRead(BaseModel):
    """A decision, as the caller and the customer see it."""

    id: str
    system_id: str
    subject_id: str | None
    created_at: datetime
    outcome: str
    final: bool
    score: float | None
    model_version: str | None
    scored_by: str
    review: Review
    data: DataUse
    consent_version: str | None
    explanation: dict[str, Any] | None
    explanation_status: ExplanationStatus = Field(
        "given",
        description="given; none (no model explained it); erased (the customer was erased, "
        "and the explanation with them); unreadable (its ledger entry cannot be opened)",
    )
    disclosure: str = AI_DISCLOSURE
    rights: list[str] = Field(default_factory=lambda: list(RIGHTS))
    ledger: LedgerRef
    true_outcome: str | None = None


class DecisionPage(BaseModel):
    """A page of decisions, newest first."""

    items: list[DecisionRead]
    total: int
    limit: int
    offset: int


class OutcomeCreate(RequestSchema):
    """The true outcome of a decision, known later (repaid, churned, resolved)."""

    model_config = ConfigDict(extra="forbid")

    outcome: str = Field(min_length=1, max_length=200)
