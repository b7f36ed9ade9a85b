"""Request and response bodies of the concern routes."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from ethica.service.text import RequestSchema

ConcernStatus = Literal["open", "resolved"]


class ConcernCreate(RequestSchema):
    """A customer's concern about one of their decisions."""

    text: str = Field(min_length=1, max_length=4000)


class ResolutionCreate(RequestSchema):
    """An officer's response, which resolves the concern (the customer reads it)."""

    response: str = Field(min_length=1, max_length=4000)


class ConcernRead(BaseModel):
    """A concern, with the response once resolved."""

    id: str
    decision_id: str
    system_id: str
    subject_id: str
    status: ConcernStatus
    text: str | None = Field(
        description="None once the decision's retention period destroyed the key sealing it."
    )
    created_at: datetime
    response: str | None
    resolved_at: datetime | None
    resolved_by: str | None


class ConcernPage(BaseModel):
    """A page of concerns, oldest first."""

    items: list[ConcernRead]
    total: int
    limit: int
    offset: int
