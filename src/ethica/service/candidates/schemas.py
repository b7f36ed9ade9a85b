"""What the candidates API reads and returns."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ethica.service.decisions.schemas import LedgerRef
from ethica.service.text import RequestSchema

Criterion = Literal["demographic_parity", "equal_opportunity", "equalized_odds"]
Act = Literal["promotion", "rollback", "withdrawal"]
"""What an officer does with a candidate: serve it, stop serving it, or stop it in shadow."""


class CandidateCreate(RequestSchema):
    """A mitigation to run in shadow on a live system.

    Group thresholds are either chosen now for ``criterion`` from the system's decisions with
    recorded outcomes, or given as ``rules`` (the ``policy.rules`` of ``ethica mitigate
    --report``); a retrained model names its stored ``model_version``.
    """

    name: str = Field(min_length=1, max_length=200)
    method: Literal["thresholds", "model"]
    criterion: Criterion | None = None
    rules: list[dict[str, Any]] | None = Field(None, max_length=10_000)
    sensitive_features: list[str] | None = Field(
        None, description="Protected attributes whose groups the thresholds are for."
    )
    model_version: str | None = Field(None, min_length=1, max_length=64)


class CandidateRead(BaseModel):
    """A candidate mitigation and where it stands."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    system_id: str
    name: str
    method: str
    policy: dict[str, Any]
    status: str
    replaced_model_version: str | None
    created_by: str
    created_at: datetime
    updated_at: datetime
    guard_rail: str | None = Field(
        None, description="Why the system's jurisdiction forbids serving it, if it does."
    )


class CandidatePage(BaseModel):
    """A system's candidates, newest first."""

    items: list[CandidateRead]
    total: int


class ComparisonRead(BaseModel):
    """The shadow comparison of a candidate with the served decisions, up to ``as_of``."""

    candidate_id: str
    as_of: datetime
    evidence_sha256: str
    comparison: dict[str, Any]


class PromotionCreate(RequestSchema):
    """An officer's decision to serve a candidate (or roll it back, or withdraw it from shadow),
    and the evidence seen.
    """

    reason: str = Field(min_length=1, max_length=2000)
    evidence_sha256: str | None = Field(
        None,
        pattern=r"^[0-9a-f]{64}$",
        description="The comparison's digest the officer reviewed (required to promote).",
    )
    as_of: datetime | None = Field(None, description="The comparison's as_of (with the digest).")


class PromotionRead(BaseModel):
    """A promotion, rollback or withdrawal, and where the ledger holds it."""

    candidate_id: str
    system_id: str
    act: Act
    status: str
    reason: str
    by: str
    at: datetime
    evidence_sha256: str | None
    ledger: LedgerRef
