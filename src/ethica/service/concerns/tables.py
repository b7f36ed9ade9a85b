"""Concerns customers reported about their decisions.

A concern's text and the officer's response are personal data: they live only in the ledger,
sealed with the key of the decision's subject (so erasure and retention shred them with the
decision's inputs). This table indexes them: whose concern, about which decision, its status,
and the ledger entries holding the words.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ethica.service.db import ID, Base, UTCDateTime


class Concern(Base):
    """One concern: open until an officer resolves it with a response."""

    __tablename__ = "concerns"
    __table_args__ = (Index("ix_concerns_status_created", "status", "created_at"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    decision_id: Mapped[str] = mapped_column(
        ForeignKey("decisions.id", ondelete="CASCADE"), index=True
    )
    system_id: Mapped[str] = mapped_column(String(63))
    subject_id: Mapped[str] = mapped_column(String(100), index=True)
    status: Mapped[str] = mapped_column(String(20))  # "open" or "resolved"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ledger_chain: Mapped[str] = mapped_column(String(100))
    ledger_sequence: Mapped[int] = mapped_column(BigInteger)  # the entry sealing the text
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    resolved_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    resolution_sequence: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
