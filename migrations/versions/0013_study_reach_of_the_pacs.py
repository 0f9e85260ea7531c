"""Study to_convert, unsent, unsent_count, unsent_found: how its objects reach the PACS, known
before confirming (issue 17)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 12:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # studies analysed before: not known (null), nothing listed
    with op.batch_alter_table("studies") as batch:
        batch.add_column(sa.Column("to_convert", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("unsent", sa.JSON(), nullable=False, server_default="[]"))
        batch.add_column(
            sa.Column("unsent_count", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(
            sa.Column("unsent_found", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("studies") as batch:
        batch.drop_column("unsent_found")
        batch.drop_column("unsent_count")
        batch.drop_column("unsent")
        batch.drop_column("to_convert")
