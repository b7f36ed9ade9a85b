"""candidate mitigations and their shadow decisions

Revision ID: 0020
Revises: 0017
Create Date: 2026-12-03 11:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ethica.service.db

revision: str = "0020"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        "candidates",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("system_id", sa.String(length=63), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("policy", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("replaced_model_version", sa.String(length=64), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", ethica.service.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", ethica.service.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["system_id"],
            ["systems.id"],
            name=op.f("fk_candidates_system_id_systems"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_candidates")),
    )
    op.create_index(
        "ix_candidates_system_status", "candidates", ["system_id", "status"], unique=False
    )
    op.create_table(
        "shadow_decisions",
        sa.Column("decision_id", sa.String(length=36), nullable=False),
        sa.Column("candidate_id", sa.String(length=36), nullable=False),
        sa.Column("outcome", sa.String(length=200), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["candidate_id"],
            ["candidates.id"],
            name=op.f("fk_shadow_decisions_candidate_id_candidates"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["decision_id"],
            ["decisions.id"],
            name=op.f("fk_shadow_decisions_decision_id_decisions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("decision_id", "candidate_id", name=op.f("pk_shadow_decisions")),
    )
    op.create_index(
        "ix_shadow_decisions_candidate", "shadow_decisions", ["candidate_id"], unique=False
    )


def downgrade() -> None:
    """Revert this migration."""
    op.drop_index("ix_shadow_decisions_candidate", table_name="shadow_decisions")
    op.drop_table("shadow_decisions")
    op.drop_index("ix_candidates_system_status", table_name="candidates")
    op.drop_table("candidates")
