"""alert notifications: a notification about no customer or decision, naming a monitoring alert

Revision ID: 0022
Revises: 0020
Create Date: 2026-12-03 11:15:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    with op.batch_alter_table("notifications") as batch:
        batch.alter_column("subject_id", existing_type=sa.String(length=100), nullable=True)
        batch.alter_column("decision_id", existing_type=sa.String(length=36), nullable=True)
        batch.add_column(sa.Column("alert_sequence", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    """Revert this migration (alert notifications, which name no decision, are deleted)."""
    op.execute("DELETE FROM notifications WHERE decision_id IS NULL OR subject_id IS NULL")
    with op.batch_alter_table("notifications") as batch:
        batch.drop_column("alert_sequence")
        batch.alter_column("decision_id", existing_type=sa.String(length=36), nullable=False)
        batch.alter_column("subject_id", existing_type=sa.String(length=100), nullable=False)
