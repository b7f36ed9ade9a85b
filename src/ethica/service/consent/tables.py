"""Notices, consent records and objections: append-only, each row pointing at its ledger entry.

Nothing is ever updated: a new wording is a new notice version, a changed mind is a new record,
a lifted objection is a new row with ``active = False``. The history is the evidence (GDPR
Art. 7(1): the controller must be able to show that the subject consented).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ethica.service.db import ID, Base, UTCDateTime

CONSENT_CHAIN = "consent"
"""The ledger chain of every consent change (notices, choices, objections)."""


class NoticeVersion(Base):
    """One wording of the notice customers are shown for a data use."""

    __tablename__ = "notices"
    __table_args__ = (UniqueConstraint("data_use", "version"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    data_use: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))  # opt_in, opt_out, notice_only
    version: Mapped[int] = mapped_column(Integer)
    min_consent_version: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ledger_sequence: Mapped[int] = mapped_column(BigInteger)
    ledger_hash: Mapped[str] = mapped_column(String(64))


class ConsentRecord(Base):
    """One choice a subject made: granted or withdrawn, for a data use (and maybe a category)."""

    __tablename__ = "consent_records"
    __table_args__ = (Index("ix_consent_records_subject_recorded", "subject_id", "recorded_at"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    subject_id: Mapped[str] = mapped_column(String(100))
    data_use: Mapped[str] = mapped_column(String(200))
    data_category: Mapped[str | None] = mapped_column(String(200), nullable=True)
    status: Mapped[str] = mapped_column(String(20))  # granted, withdrawn
    notice_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    source: Mapped[str] = mapped_column(String(20))  # api, portal, agent, import, gpc
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ledger_sequence: Mapped[int] = mapped_column(BigInteger)
    ledger_hash: Mapped[str] = mapped_column(String(64))


class ObjectionRecord(Base):
    """A subject's objection to automated decisions or profiling, or the lifting of one."""

    __tablename__ = "objections"
    __table_args__ = (Index("ix_objections_subject_recorded", "subject_id", "recorded_at"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    subject_id: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(30))  # automated_decision, profiling
    active: Mapped[bool] = mapped_column(Boolean)
    data_use: Mapped[str | None] = mapped_column(String(200), nullable=True)  # None: every use
    source: Mapped[str] = mapped_column(String(20))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ledger_sequence: Mapped[int] = mapped_column(BigInteger)
    ledger_hash: Mapped[str] = mapped_column(String(64))
