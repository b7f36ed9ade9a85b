"""Requests from data subjects (GDPR Art. 15-22), each with its statutory deadline."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ethica.service.db import ID, Base, UTCDateTime


class RightsRequest(Base):
    """One request: access, erasure, objection or rectification, due one month after receipt.

    The subject's pseudonymous id stays on the request after an erasure: it is the record that
    the request was received and honoured (accountability, GDPR Art. 5(2)).
    """

    __tablename__ = "rights_requests"
    __table_args__ = (Index("ix_rights_requests_status_due", "status", "due_at"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # access, erasure, objection, rectification
    subject_id: Mapped[str] = mapped_column(String(100), index=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20))  # open, completed
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    requested_by: Mapped[str] = mapped_column(String(120))  # "customer" or "user:<id>"
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # The "request" entry that proves the completed request (none on requests made before).
    ledger_chain: Mapped[str | None] = mapped_column(String(100), nullable=True)
    ledger_sequence: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    ledger_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
