"""wholesale invoice lines name the customer service

Revision ID: c0501
Revises: c0500
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "c0501"
down_revision: str | None = "c0500"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("wholesale_invoice_items") as batch_op:
        batch_op.add_column(
            sa.Column(
                "customer_email",
                sqlmodel.sql.sqltypes.AutoString(length=254),
                nullable=False,
                server_default="",
            )
        )
        batch_op.add_column(sa.Column("service_id", sa.Integer(), nullable=True))
    with op.batch_alter_table("wholesale_invoice_items") as batch_op:
        batch_op.alter_column("customer_email", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("wholesale_invoice_items") as batch_op:
        batch_op.drop_column("service_id")
        batch_op.drop_column("customer_email")
