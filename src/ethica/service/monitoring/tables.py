"""Windows of a system's decision log, counted once and kept: monitoring reads only these.

A window holds count tables (JSON), never rows: per group and decision cell, how many
decisions. The ``outcomes`` part is rebuilt when outcomes of the window's decisions arrive
after it was built; no other window is touched.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ethica.service.db import ID, Base, UTCDateTime


class MonitoringWindow(Base):
    """One part (``decisions`` or ``outcomes``) of one window of one system."""

    __tablename__ = "monitoring_windows"
    __table_args__ = (UniqueConstraint("system_id", "start", "part"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    system_id: Mapped[str] = mapped_column(ForeignKey("systems.id", ondelete="CASCADE"))
    start: Mapped[datetime] = mapped_column(UTCDateTime)
    part: Mapped[str] = mapped_column(String(20))  # "decisions" or "outcomes"
    rows: Mapped[int] = mapped_column(BigInteger)
    # CountTable.to_dict() (with its options); None when the window holds no such decisions.
    table: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    built_at: Mapped[datetime] = mapped_column(UTCDateTime)
