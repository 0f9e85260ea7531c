"""RIS callback outbox: lifecycle callbacks written with the change, delivered by the worker

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 10:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import importer.db

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # one row per callback, written in the transaction of the change it tells; nothing is
    # written for imports made before (they are told as before: study.stored by notify)
    op.create_table(
        "ris_callbacks",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("import_id", sa.String(length=36), nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", importer.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", importer.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", importer.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["imports.id"],
            name=op.f("fk_ris_callbacks_import_id_imports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ris_callbacks")),
    )
    op.create_index("ix_ris_callbacks_import_id_id", "ris_callbacks", ["import_id", "id"])
    op.create_index("ix_ris_callbacks_next_attempt_at", "ris_callbacks", ["next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_ris_callbacks_next_attempt_at", table_name="ris_callbacks")
    op.drop_index("ix_ris_callbacks_import_id_id", table_name="ris_callbacks")
    op.drop_table("ris_callbacks")
