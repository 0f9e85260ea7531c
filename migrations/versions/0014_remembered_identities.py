"""Remembered identities: which local patient each medium's patient was filed under (issue 16,
point 1)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 12:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from importer.db import UTCDateTime

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "remembered_identities",
        sa.Column("id", sa.String(length=36), primary_key=True),
        sa.Column("ris_client", sa.String(length=64), nullable=False),
        sa.Column("outside_hash", sa.String(length=64), nullable=False),
        sa.Column("authority", sa.String(length=300), nullable=False),
        sa.Column("outside_patient_id", sa.String(length=64), nullable=False),
        sa.Column("outside_issuer", sa.String(length=64), nullable=False),
        sa.Column("outside_institution", sa.String(length=200), nullable=False),
        sa.Column("outside_name", sa.String(length=324), nullable=False),
        sa.Column("outside_birth_date", sa.String(length=8), nullable=False),
        sa.Column("local_patient_id", sa.String(length=64), nullable=False),
        sa.Column("local_issuer", sa.String(length=64), nullable=False),
        sa.Column("local_name", sa.String(length=324), nullable=False),
        sa.Column("local_birth_date", sa.String(length=8), nullable=False),
        sa.Column("filed_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("filed_by", sa.String(length=64), nullable=False),
        sa.Column("filed_by_name", sa.String(length=200), nullable=False),
        sa.Column("import_id", sa.String(length=36), nullable=True),
        sa.Column("support_id", sa.String(length=16), nullable=False),
    )
    op.create_index(
        "ux_remembered_identity",
        "remembered_identities",
        ["ris_client", "outside_hash", "local_patient_id", "local_issuer"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index("ux_remembered_identity", table_name="remembered_identities")
    op.drop_table("remembered_identities")
