"""key epochs for erasure

Revision ID: 0014
Revises: 0016
Create Date: 2026-12-03 07:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ethica.service.db import UTCDateTime

revision: str = "0014"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        "key_epochs",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_key_epochs")),
    )
    with op.batch_alter_table("subject_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kek_epoch", sa.String(length=40), nullable=True))
        batch_op.create_index(batch_op.f("ix_subject_keys_kek_epoch"), ["kek_epoch"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_subject_keys_kek_epoch_key_epochs"), "key_epochs", ["kek_epoch"], ["id"]
        )


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table("subject_keys", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_subject_keys_kek_epoch_key_epochs"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_subject_keys_kek_epoch"))
        batch_op.drop_column("kek_epoch")
    op.drop_table("key_epochs")
