"""monitoring windows

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 08:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ethica.service.db

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        "monitoring_windows",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("system_id", sa.String(length=63), nullable=False),
        sa.Column("start", ethica.service.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("part", sa.String(length=20), nullable=False),
        sa.Column("rows", sa.BigInteger(), nullable=False),
        sa.Column("table", sa.JSON(), nullable=True),
        sa.Column("built_at", ethica.service.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["system_id"],
            ["systems.id"],
            name=op.f("fk_monitoring_windows_system_id_systems"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitoring_windows")),
        sa.UniqueConstraint(
            "system_id", "start", "part", name=op.f("uq_monitoring_windows_system_id")
        ),
    )


def downgrade() -> None:
    """Revert this migration."""
    op.drop_table("monitoring_windows")
