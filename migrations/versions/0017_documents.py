"""Documents of the medium (PDF, JPEG, PNG) filed with a study (issue 16, point 3)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05 18:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "documents",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "import_id",
            sa.String(36),
            sa.ForeignKey("imports.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("display_path", sa.Text(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("file_stamp", sa.String(96), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=True),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("preview", sa.String(64), nullable=True),
        sa.Column("pacs_accepts", sa.Boolean(), nullable=True),
        sa.Column(
            "study_id",
            sa.String(36),
            sa.ForeignKey("studies.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column(
            "instance_id",
            sa.String(36),
            sa.ForeignKey("instances.id", ondelete="SET NULL"),
            nullable=True,
        ),
    )
    op.create_index("ix_documents_import_id", "documents", ["import_id"])


def downgrade() -> None:
    op.drop_index("ix_documents_import_id", table_name="documents")
    op.drop_table("documents")
