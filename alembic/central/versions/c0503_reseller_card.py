"""reseller card, wholesale payment outcome, suspension reason

Revision ID: c0503
Revises: c0502
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "c0503"
down_revision: str | None = "c0502"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STR = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    with op.batch_alter_table("tenants") as batch_op:
        batch_op.add_column(
            sa.Column("suspension_reason", _STR(length=20), nullable=False, server_default="")
        )
    with op.batch_alter_table("tenants") as batch_op:
        batch_op.alter_column("suspension_reason", server_default=None)
    with op.batch_alter_table("tenant_billing") as batch_op:
        batch_op.add_column(sa.Column("stripe_customer_id", _STR(length=64), nullable=True))
        batch_op.add_column(sa.Column("stripe_payment_method_id", _STR(length=64), nullable=True))
        batch_op.add_column(sa.Column("card_label", _STR(length=40), nullable=False, server_default=""))
    with op.batch_alter_table("wholesale_invoices") as batch_op:
        batch_op.add_column(sa.Column("stripe_payment_intent_id", _STR(length=64), nullable=True))
        batch_op.add_column(sa.Column("failure_message", _STR(length=300), nullable=False, server_default=""))
    with op.batch_alter_table("tenant_billing") as batch_op:
        batch_op.alter_column("card_label", server_default=None)
    with op.batch_alter_table("wholesale_invoices") as batch_op:
        batch_op.alter_column("failure_message", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("tenants") as batch_op:
        batch_op.drop_column("suspension_reason")
    with op.batch_alter_table("wholesale_invoices") as batch_op:
        batch_op.drop_column("failure_message")
        batch_op.drop_column("stripe_payment_intent_id")
    with op.batch_alter_table("tenant_billing") as batch_op:
        batch_op.drop_column("card_label")
        batch_op.drop_column("stripe_payment_method_id")
        batch_op.drop_column("stripe_customer_id")
