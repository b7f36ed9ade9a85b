"""explanations sealed in the ledger only; rights requests proved by ledger entries

A decision about a customer whose explanation its ledger entry seals keeps only the marker
``{"sealed": "ledger"}`` in its row from now on (ethica.service.decisions.explanations): the
plain copy quoted the customer's values and outlived their erasure in the database's files.
Rights requests point at the ``request`` entry that proves them (none for older requests).

Revision ID: 0017
Revises: 0014
Create Date: 2026-12-03 11:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SEAL = sa.text(
    "UPDATE decisions SET explanation = :sealed "
    "WHERE subject_id IS NOT NULL AND explanation IS NOT NULL "
    "AND CAST(explanation AS VARCHAR(20)) <> 'null' AND EXISTS ("
    "SELECT 1 FROM ledger_entries e WHERE e.chain = decisions.ledger_chain "
    "AND e.sequence = decisions.ledger_sequence "
    'AND e.public LIKE \'%"explanation":"sealed"%\')'
).bindparams(sa.bindparam("sealed", {"sealed": "ledger"}, type_=sa.JSON()))


def upgrade() -> None:
    """Apply this migration."""
    op.get_bind().execute(_SEAL)
    with op.batch_alter_table("rights_requests") as table:
        table.add_column(sa.Column("ledger_chain", sa.String(length=100), nullable=True))
        table.add_column(sa.Column("ledger_sequence", sa.BigInteger(), nullable=True))
        table.add_column(sa.Column("ledger_hash", sa.String(length=64), nullable=True))


def downgrade() -> None:
    """Drop the requests' ledger references (the plain explanations are gone for good)."""
    with op.batch_alter_table("rights_requests") as table:
        table.drop_column("ledger_hash")
        table.drop_column("ledger_sequence")
        table.drop_column("ledger_chain")
