"""connect: the Stripe account a billing profile and a payment live on

Revision ID: t0900_connect_stripe_account
Revises: t0700_pay_gateways
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "t0900_connect_stripe_account"
down_revision: str | None = "t0700_pay_gateways"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    with op.batch_alter_table("billing_profiles") as batch:
        batch.add_column(sa.Column("stripe_account_id", S(length=64), nullable=True))
    with op.batch_alter_table("payments") as batch:
        batch.add_column(sa.Column("stripe_account_id", S(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("payments") as batch:
        batch.drop_column("stripe_account_id")
    with op.batch_alter_table("billing_profiles") as batch:
        batch.drop_column("stripe_account_id")
