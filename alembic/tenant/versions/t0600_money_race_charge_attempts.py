"""money-race: numbered charge attempts (one pending per invoice) and billing run leases

Revision ID: t0600_money_race
Revises: t0201
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import ezscale.models.types

revision: str = "t0600_money_race"
down_revision: str | None = "t0201"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = sqlmodel.sql.sqltypes.AutoString
PENDING = sa.text("status = 'pending'")


def upgrade() -> None:
    with op.batch_alter_table("payments") as batch_op:
        batch_op.add_column(sa.Column("attempt_no", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("stripe_payment_method_id", S(length=64), nullable=True))
        batch_op.create_unique_constraint("uq_payments_invoice_attempt", ["invoice_id", "attempt_no"])
    op.create_index(
        "uq_payments_one_pending_per_invoice",
        "payments",
        ["invoice_id"],
        unique=True,
        sqlite_where=PENDING,
        postgresql_where=PENDING,
    )
    op.create_table(
        "billing_leases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", S(length=40), nullable=False),
        sa.Column("holder", S(length=120), nullable=False),
        sa.Column("expires_at", ezscale.models.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("billing_leases")
    op.drop_index("uq_payments_one_pending_per_invoice", table_name="payments")
    with op.batch_alter_table("payments") as batch_op:
        batch_op.drop_constraint("uq_payments_invoice_attempt", type_="unique")
        batch_op.drop_column("stripe_payment_method_id")
        batch_op.drop_column("attempt_no")
