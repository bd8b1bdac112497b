"""payreport: a fixed per-currency hourly rate of hourly plans (plan_prices.hourly_rate)

Revision ID: payreport_hourly_price
Revises: t0800_fx_currencies
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "payreport_hourly_price"
down_revision: str | None = "t0800_fx_currencies"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("plan_prices") as batch_op:
        batch_op.add_column(sa.Column("hourly_rate", sa.Numeric(12, 6), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("plan_prices") as batch_op:
        batch_op.drop_column("hourly_rate")
