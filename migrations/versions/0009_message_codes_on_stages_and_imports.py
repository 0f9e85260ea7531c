"""Message codes: a stage's note and an import's error carry a code with parameters

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 03:15:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # rows written before keep their English message; the app words them by their stage's
    # status (a stage) or by the code already stored (an import's error)
    with op.batch_alter_table("stages") as batch:
        batch.add_column(sa.Column("code", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("params", sa.JSON(), nullable=True))
    with op.batch_alter_table("imports") as batch:
        batch.add_column(sa.Column("error_params", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("imports") as batch:
        batch.drop_column("error_params")
    with op.batch_alter_table("stages") as batch:
        batch.drop_column("params")
        batch.drop_column("code")
