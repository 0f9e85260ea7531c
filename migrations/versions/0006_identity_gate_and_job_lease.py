"""identity gate (compared order, every patient of a study, frozen target) and job lease

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 17:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import importer.db

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("imports", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lease_owner", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("lease_expires_at", importer.db.UTCDateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table("studies", schema=None) as batch_op:
        batch_op.add_column(sa.Column("compared_with", sa.JSON(), nullable=True))
        batch_op.add_column(
            sa.Column("patients", sa.JSON(), nullable=False, server_default="[]")
        )
        batch_op.add_column(sa.Column("target", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("studies", schema=None) as batch_op:
        batch_op.drop_column("target")
        batch_op.drop_column("patients")
        batch_op.drop_column("compared_with")
    with op.batch_alter_table("imports", schema=None) as batch_op:
        batch_op.drop_column("lease_expires_at")
        batch_op.drop_column("lease_owner")
