"""ATNA delivery cursor: audit messages sent, retried from the trail

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 23:15:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import importer.db

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # one row, created by the reconciler the first time the export is on (it then starts where
    # the sealed trail ends); audit_events itself is not touched
    op.create_table(
        "atna_delivery",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", importer.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_atna_delivery_one_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_atna_delivery")),
    )


def downgrade() -> None:
    op.drop_table("atna_delivery")
