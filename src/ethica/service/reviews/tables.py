"""Who holds a case under review, every step a reviewer took, and what oversight adds to it.

A decision's own row carries its current ``review_status`` and ``outcome``; the ``reviews`` rows
keep the history, including the outcome a reviewer overrode, so nothing is lost by the update.
Appeals, blind-first judgements, seeded cases and escalations each keep their own rows.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, String, Text
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
    # When this reviewer claimed the case (time per case); None when they decided unclaimed.
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # On a seeded case: whether this step's outcome is the known answer; None on real cases.
    matched_known: Mapped[bool | None] = mapped_column(Boolean, nullable=True)


class Appeal(Base):
    """A customer's appeal of a decision; their statement is sealed in the ledger entry."""

    __tablename__ = "appeals"
    __table_args__ = (Index("ix_appeals_decision_created", "decision_id", "created_at"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    decision_id: Mapped[str] = mapped_column(ForeignKey("decisions.id", ondelete="CASCADE"))
    subject_id: Mapped[str] = mapped_column(String(100))
    outcome_appealed: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ledger_chain: Mapped[str] = mapped_column(String(100))
    ledger_sequence: Mapped[int] = mapped_column(BigInteger)
    ledger_hash: Mapped[str] = mapped_column(String(64))


class ReviewJudgement(Base):
    """A reviewer's own outcome for a blind-first case, recorded before seeing the model's."""

    __tablename__ = "review_judgements"
    __table_args__ = (
        Index("ix_review_judgements_decision_reviewer", "decision_id", "reviewer_id"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    decision_id: Mapped[str] = mapped_column(ForeignKey("decisions.id", ondelete="CASCADE"))
    reviewer_id: Mapped[str] = mapped_column(String(100))
    outcome: Mapped[str] = mapped_column(String(200))
    model_outcome: Mapped[str] = mapped_column(String(200))  # the model's, for agreement
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SeededCase(Base):
    """A review case made from known inputs with a known correct outcome (reviewer quality)."""

    __tablename__ = "seeded_cases"

    decision_id: Mapped[str] = mapped_column(
        ForeignKey("decisions.id", ondelete="CASCADE"), primary_key=True
    )
    known_outcome: Mapped[str] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ReviewEscalation(Base):
    """A case that passed its review deadline: one row (and ledger entry) per deadline passed."""

    __tablename__ = "review_escalations"

    decision_id: Mapped[str] = mapped_column(
        ForeignKey("decisions.id", ondelete="CASCADE"), primary_key=True
    )
    deadline: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    escalated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ledger_sequence: Mapped[int] = mapped_column(BigInteger)
    ledger_hash: Mapped[str] = mapped_column(String(64))
