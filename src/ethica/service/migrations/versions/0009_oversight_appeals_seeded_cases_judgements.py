"""oversight: appeals, seeded cases, blind-first judgements, escalations

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27 14:05:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ethica.service.db

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    # Plain ADD COLUMN (no batch): a batch rebuild of decisions on SQLite would drop, and cascade
    # to, the rows that refer to it.
    op.add_column(
        "decisions",
        sa.Column("seeded", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.add_column(
        "reviews",
        sa.Column("claimed_at", ethica.service.db.UTCDateTime(timezone=True), nullable=True),
    )
    op.add_column("reviews", sa.Column("matched_known", sa.Boolean(), nullable=True))
    op.create_table(
        "seeded_cases",
        sa.Column("decision_id", sa.String(length=36), nullable=False),
        sa.Column("known_outcome", sa.String(length=200), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", ethica.service.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["decision_id"],
            ["decisions.id"],
            name=op.f("fk_seeded_cases_decision_id_decisions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("decision_id", name=op.f("pk_seeded_cases")),
    )
    op.create_table(
        "appeals",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("decision_id", sa.String(length=36), nullable=False),
        sa.Column("subject_id", sa.String(length=100), nullable=False),
        sa.Column("outcome_appealed", sa.String(length=200), nullable=False),
        sa.Column("created_at", ethica.service.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ledger_chain", sa.String(length=100), nullable=False),
        sa.Column("ledger_sequence", sa.BigInteger(), nullable=False),
        sa.Column("ledger_hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["decision_id"],
            ["decisions.id"],
            name=op.f("fk_appeals_decision_id_decisions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appeals")),
    )
    with op.batch_alter_table("appeals", schema=None) as batch_op:
        batch_op.create_index(
            "ix_appeals_decision_created", ["decision_id", "created_at"], unique=False
        )
    op.create_table(
        "review_judgements",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("decision_id", sa.String(length=36), nullable=False),
        sa.Column("reviewer_id", sa.String(length=100), nullable=False),
        sa.Column("outcome", sa.String(length=200), nullable=False),
        sa.Column("model_outcome", sa.String(length=200), nullable=False),
        sa.Column("created_at", ethica.service.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["decision_id"],
            ["decisions.id"],
            name=op.f("fk_review_judgements_decision_id_decisions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_judgements")),
    )
    with op.batch_alter_table("review_judgements", schema=None) as batch_op:
        batch_op.create_index(
            "ix_review_judgements_decision_reviewer",
            ["decision_id", "reviewer_id"],
            unique=False,
        )
    op.create_table(
        "review_escalations",
        sa.Column("decision_id", sa.String(length=36), nullable=False),
        sa.Column("deadline", ethica.service.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("escalated_at", ethica.service.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ledger_sequence", sa.BigInteger(), nullable=False),
        sa.Column("ledger_hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["decision_id"],
            ["decisions.id"],
            name=op.f("fk_review_escalations_decision_id_decisions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("decision_id", "deadline", name=op.f("pk_review_escalations")),
    )


def downgrade() -> None:
    """Revert this migration."""
    op.drop_table("review_escalations")
    with op.batch_alter_table("review_judgements", schema=None) as batch_op:
        batch_op.drop_index("ix_review_judgements_decision_reviewer")
    op.drop_table("review_judgements")
    with op.batch_alter_table("appeals", schema=None) as batch_op:
        batch_op.drop_index("ix_appeals_decision_created")
    op.drop_table("appeals")
    op.drop_table("seeded_cases")
    # DROP COLUMN needs SQLite 3.35+; plain (no batch) for the same reason as in upgrade.
    op.drop_column("reviews", "matched_known")
    op.drop_column("reviews", "claimed_at")
    op.drop_column("decisions", "seeded")
