"""What the users API reads and returns."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ethica.service.text import RequestSchema


class UserCreate(RequestSchema):
    """A new staff user."""

    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+$", max_length=254)
    name: str = Field(min_length=1, max_length=200)
    role: Literal["admin", "officer", "reviewer"]
    password: str = Field(min_length=12, max_length=200)


class UserRead(BaseModel):
    """A staff user (never the password hash)."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    email: str
    name: str
    role: str
    active: bool
    created_at: datetime


class Login(RequestSchema):
    """Email and password of a staff user."""

    email: str
    password: str


class TokenRead(BaseModel):
    """A signed session token."""

    token: str
    role: str
    expires_in_minutes: int


class ApiKeyCreate(RequestSchema):
    """A new API key for an application."""

    name: str = Field(min_length=1, max_length=200)
    scopes: list[str] = Field(min_length=1)


class ApiKeyCreated(BaseModel):
    """The new key; the full key is shown this once and stored only as a hash."""

    id: str
    name: str
    scopes: list[str]
    key: str
