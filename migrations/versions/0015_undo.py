"""Undo a wrong import: files kept while it may be undone, the referent's request and its end
(issue 16, point 2)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 16:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from importer.db import UTCDateTime

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # imports completed before: their files are gone already, they cannot be undone
    with op.batch_alter_table("imports") as batch:
        batch.add_column(sa.Column("files_kept_until", UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("undo_reason", sa.String(32), nullable=True))
        batch.add_column(sa.Column("undo_requested_at", UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("undo_requested_by", sa.String(64), nullable=True))
        batch.add_column(
            sa.Column("undo_requested_by_name", sa.String(200), nullable=False, server_default="")
        )
        batch.add_column(sa.Column("undo_accession", sa.String(64), nullable=True))
        batch.add_column(sa.Column("undone_at", UTCDateTime(timezone=True), nullable=True))
        batch.add_column(
            sa.Column("undo_rejected", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("undo_error_code", sa.String(64), nullable=True))
        batch.add_column(sa.Column("undo_error_params", sa.JSON(), nullable=True))
    # an undo asks which other imports hold the instances it would take back
    op.create_index("ix_instances_sop_instance_uid", "instances", ["sop_instance_uid"])


def downgrade() -> None:
    op.drop_index("ix_instances_sop_instance_uid", table_name="instances")
    with op.batch_alter_table("imports") as batch:
        for name in (
            "undo_error_params",
            "undo_error_code",
            "undo_rejected",
            "undone_at",
            "undo_accession",
            "undo_requested_by_name",
            "undo_requested_by",
            "undo_requested_at",
            "undo_reason",
            "files_kept_until",
        ):
            batch.drop_column(name)
