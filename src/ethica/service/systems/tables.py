"""Registered AI systems and their model versions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ethica.service.db import ID, Base, UTCDateTime, new_id, utcnow


class System(Base):
    """One AI use case, with its validated spec."""

    __tablename__ = "systems"

    id: Mapped[str] = mapped_column(String(63), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(String(200))
    risk_tier: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(20))
    owner: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="active")
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    model_version: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ModelVersion(Base):
    """A stored model of a system, in a format that runs no code on load."""

    __tablename__ = "model_versions"
    __table_args__ = (UniqueConstraint("system_id", "version"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    system_id: Mapped[str] = mapped_column(ForeignKey("systems.id", ondelete="CASCADE"), index=True)
    version: Mapped[str] = mapped_column(String(64))
    format: Mapped[str] = mapped_column(String(20))
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    training_summary: Mapped[dict[str, Any] | None] = mapped_column(
        JSON, nullable=True
    )  # what explanations compare a customer with (ethica.explain.TrainingSummary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
