"""What the systems API reads and returns."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class SystemRead(BaseModel):
    """A registered system."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    purpose: str
    risk_tier: str
    kind: str
    owner: str
    status: str
    model_version: str | None
    spec: dict[str, Any]
    created_at: datetime
    updated_at: datetime


class SystemPage(BaseModel):
    """A page of systems."""

    items: list[SystemRead]
    total: int


class ModelVersionRead(BaseModel):
    """A stored model version (without its content)."""

    model_config = ConfigDict(from_attributes=True)

    system_id: str
    version: str
    format: str
    sha256: str
    created_at: datetime
