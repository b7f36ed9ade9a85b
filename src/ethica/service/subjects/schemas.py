"""What the subjects API reads and returns."""

from __future__ import annotations

from pydantic import BaseModel, Field


class LinkCreate(BaseModel):
    """Ask for a customer sign-in link."""

    minutes: int | None = Field(
        None, gt=0, le=1440, description="Lifetime; the default if omitted."
    )


class LinkRead(BaseModel):
    """A signed token that lets one customer see their own decisions."""

    subject_id: str
    token: str
    expires_in_minutes: int
