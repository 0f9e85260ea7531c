"""Orders of kind patient: an import launched for a patient without an order (issue 16, point 4)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 16:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("kind", sa.String(16), nullable=False, server_default="order"))


def downgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("kind")
