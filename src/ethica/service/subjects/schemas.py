"""What the subjects API reads and returns."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from ethica.service.text import RequestSchema


class LinkCreate(RequestSchema):
    """Ask for a customer sign-in link."""

    minutes: int | None = Field(
        None, gt=0, le=1440, description="Lifetime; the default if omitted."
    )


class LinkRead(BaseModel):
    """A signed token that lets one customer see their own decisions."""

    subject_id: str
    token: str
    expires_in_minutes: int


RequestKind = Literal["access", "erasure", "objection", "rectification"]
RequestStatus = Literal["open", "completed"]


class RightsRequestRead(BaseModel):
    """A data subject's request and its statutory deadline (GDPR Art. 12(3))."""

    id: str
    kind: RequestKind
    subject_id: str
    received_at: datetime
    due_at: datetime = Field(description="One month after receipt (stored as 30 days).")
    status: RequestStatus
    completed_at: datetime | None
    overdue: bool = Field(description="Still open after its deadline.")
    requested_by: str
    result: dict[str, Any] | None = Field(
        None, description="What was done (for an erasure: what was destroyed and unlinked)."
    )


class RightsRequestPage(BaseModel):
    """A page of requests, oldest deadline first."""

    items: list[RightsRequestRead]
    total: int
    limit: int
    offset: int
