"""Who holds a case under review, and every step a reviewer took.

A decision's own row carries its current ``review_status`` and ``outcome``; the ``reviews`` rows
keep the history, including the outcome a reviewer overrode, so nothing is lost by the update.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ethica.service.db import ID, Base, UTCDateTime


class ReviewClaim(Base):
    """The one reviewer holding a case: the primary key makes a second claim fail."""

    __tablename__ = "review_claims"

    decision_id: Mapped[str] = mapped_column(
        ForeignKey("decisions.id", ondelete="CASCADE"), primary_key=True
    )
    reviewer_id: Mapped[str] = mapped_column(String(100))
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Review(Base):
    """One step of a review: a confirmation, an override (proposed or final), an approval."""

    __tablename__ = "reviews"
    __table_args__ = (Index("ix_reviews_decision_created", "decision_id", "created_at"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    decision_id: Mapped[str] = mapped_column(ForeignKey("decisions.id", ondelete="CASCADE"))
    reviewer_id: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(20))  # "confirm", "override", "approve"
    status_after: Mapped[str] = mapped_column(String(30))
    original_outcome: Mapped[str] = mapped_column(String(200))
    outcome: Mapped[str] = mapped_column(String(200))  # the outcome this step stands for
    reason_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ledger_sequence: Mapped[int] = mapped_column(BigInteger)
    ledger_hash: Mapped[str] = mapped_column(String(64))
