"""Instance file stamp: the file as the analysis read it, so that verify need not read it again

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 23:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # empty for instances analysed before: the verify stage reads those again, as it did
    with op.batch_alter_table("instances") as batch:
        batch.add_column(sa.Column("file_stamp", sa.String(length=96), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("instances") as batch:
        batch.drop_column("file_stamp")
