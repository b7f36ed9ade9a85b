"""concerns about decisions

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27 12:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ethica.service.db

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        "concerns",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("decision_id", sa.String(length=36), nullable=False),
        sa.Column("system_id", sa.String(length=63), nullable=False),
        sa.Column("subject_id", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", ethica.service.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ledger_chain", sa.String(length=100), nullable=False),
        sa.Column("ledger_sequence", sa.BigInteger(), nullable=False),
        sa.Column("resolved_at", ethica.service.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String(length=100), nullable=True),
        sa.Column("resolution_sequence", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["decision_id"],
            ["decisions.id"],
            name=op.f("fk_concerns_decision_id_decisions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_concerns")),
    )
    with op.batch_alter_table("concerns", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_concerns_decision_id"), ["decision_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_concerns_subject_id"), ["subject_id"], unique=False)
        batch_op.create_index("ix_concerns_status_created", ["status", "created_at"], unique=False)


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table("concerns", schema=None) as batch_op:
        batch_op.drop_index("ix_concerns_status_created")
        batch_op.drop_index(batch_op.f("ix_concerns_subject_id"))
        batch_op.drop_index(batch_op.f("ix_concerns_decision_id"))

    op.drop_table("concerns")
