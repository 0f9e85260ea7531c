"""Instance read_again: every file keeps the analysis's stamp; those its read cannot vouch for
are read again by verify with that stamp unchanged

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 02:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # false for instances analysed before: those with a stamp were vouched for by the analysis,
    # those without one are read again by verify, as they were
    with op.batch_alter_table("instances") as batch:
        batch.add_column(
            sa.Column("read_again", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("instances") as batch:
        batch.drop_column("read_again")
