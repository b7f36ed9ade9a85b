"""Candidate mitigations of a system, and the decisions each made in shadow beside the served."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ethica.service.db import ID, Base, UTCDateTime, new_id, utcnow


class Candidate(Base):
    """A mitigation tried on a live system: group thresholds, or a retrained model version.

    ``status`` moves shadow -> served (a promotion) -> rolled_back (a rollback), or shadow ->
    withdrawn; each move is a ledger entry on the system's chain.
    """

    __tablename__ = "candidates"
    __table_args__ = (Index("ix_candidates_system_status", "system_id", "status"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    system_id: Mapped[str] = mapped_column(ForeignKey("systems.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    method: Mapped[str] = mapped_column(String(20))  # "thresholds" or "model"
    # thresholds: {"criterion", "sensitive_features", "rules"}; model: {"model_version"}
    policy: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), default="shadow")
    # The model version served before this candidate was promoted: what a rollback restores.
    replaced_model_version: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ShadowDecision(Base):
    """What a candidate decided about a live decision; never shown to the customer."""

    __tablename__ = "shadow_decisions"
    __table_args__ = (Index("ix_shadow_decisions_candidate", "candidate_id"),)

    decision_id: Mapped[str] = mapped_column(
        ForeignKey("decisions.id", ondelete="CASCADE"), primary_key=True
    )
    candidate_id: Mapped[str] = mapped_column(
        ForeignKey("candidates.id", ondelete="CASCADE"), primary_key=True
    )
    outcome: Mapped[str] = mapped_column(String(200))
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
