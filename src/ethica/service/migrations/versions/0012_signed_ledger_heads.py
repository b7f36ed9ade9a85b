"""signed ledger heads

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 05:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        "ledger_heads",
        sa.Column("chain", sa.String(length=100), nullable=False),
        sa.Column("size", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("root", sa.String(length=64), nullable=False),
        sa.Column("signed_at", sa.String(length=40), nullable=False),
        sa.Column("signature", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("chain", "size", name=op.f("pk_ledger_heads")),
    )


def downgrade() -> None:
    """Revert this migration."""
    op.drop_table("ledger_heads")
