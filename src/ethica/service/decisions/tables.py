"""The decision log, and protected attributes kept apart from it for fairness monitoring.

The log holds no input values: those are personal data and live sealed in the ledger entry
(``ledger_chain``, ``ledger_sequence``). Protected attributes live in their own table, read only
by officers and the audit engine, never by a model, an explanation or a reviewer, and encrypted
at rest deterministically (:mod:`ethica.service.decisions.protected`) so that audits still
count by them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from ethica.service.db import ID, Base, UTCDateTime


class Decision(Base):
    """One decision that passed through the gateway."""

    __tablename__ = "decisions"
    __table_args__ = (
        UniqueConstraint("system_id", "idempotency_key"),
        Index("ix_decisions_system_created", "system_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    system_id: Mapped[str] = mapped_column(ForeignKey("systems.id"))
    subject_id: Mapped[str | None] = mapped_column(String(100), index=True, nullable=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(20))
    outcome: Mapped[str] = mapped_column(String(200))
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    model_version: Mapped[str | None] = mapped_column(String(64), nullable=True)
    scored_by: Mapped[str] = mapped_column(String(20))  # "model", "caller", "none"
    review_status: Mapped[str] = mapped_column(String(40))  # "awaiting_second_approval"
    review_reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)  # used / withheld / dropped names
    consent_version: Mapped[str | None] = mapped_column(String(64), nullable=True)
    explanation: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    ledger_chain: Mapped[str] = mapped_column(String(100))
    ledger_sequence: Mapped[int] = mapped_column(BigInteger)
    ledger_hash: Mapped[str] = mapped_column(String(64))
    true_outcome: Mapped[str | None] = mapped_column(String(200), nullable=True)
    outcome_recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # A seeded review case with a known answer (ethica.service.reviews.seeded), never a real
    # decision: audits, lists and customer views leave it out.
    seeded: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class ProtectedValue(Base):
    """One protected attribute of one decision, for fairness monitoring only."""

    __tablename__ = "protected_values"

    decision_id: Mapped[str] = mapped_column(
        ForeignKey("decisions.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    system_id: Mapped[str] = mapped_column(String(63), index=True)
    subject_id: Mapped[str | None] = mapped_column(String(100), index=True, nullable=True)
    # Base64 AES-SIV ciphertext of a value of at most 100 characters (400 UTF-8 bytes + 16).
    value: Mapped[str] = mapped_column(String(600))
