"""RIS client scope for orders, sessions and imports

Orders belong to a RIS client and are unique by (ris_client, accession_number); sessions carry
the client of their launch (an import belongs to the client of the session that made it). What
existed before belongs to the client ``default``: the client of a key configured without a name,
so a single RIS keeps its orders, users and imports. Going down fails while two clients hold an
order of the same accession number (the old schema cannot hold both).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 23:15:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("ris_client", sa.String(length=64), nullable=False, server_default="default")
        )
        batch_op.drop_index(batch_op.f("ix_orders_accession_number"))
        batch_op.create_index(
            batch_op.f("ix_orders_accession_number"), ["accession_number"], unique=False
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_orders_ris_client"), ["ris_client", "accession_number"]
        )
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("ris_client", sa.String(length=64), nullable=False, server_default="default")
        )
    # unused launch tokens named their client by a hash of its key: now by its name
    op.execute("UPDATE launch_tokens SET ris_client = 'default'")


def downgrade() -> None:
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_column("ris_client")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_orders_ris_client"), type_="unique")
        batch_op.drop_index(batch_op.f("ix_orders_accession_number"))
        batch_op.create_index(
            batch_op.f("ix_orders_accession_number"), ["accession_number"], unique=True
        )
        batch_op.drop_column("ris_client")
