"""fx: tenant currencies, per-currency plan prices, customer currency, rates on invoices

Revision ID: t0800_fx_currencies
Revises: t0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import ezscale.models.types

revision: str = "t0800_fx_currencies"
down_revision: str | None = "t0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "currency_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("base_currency", S(length=3), nullable=False),
        sa.Column("enabled", S(length=200), nullable=False),
        sa.Column(
            "rounding",
            sa.Enum("minor", "whole", "ninety_nine", name="roundingrule", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("updated_at", ezscale.models.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "plan_prices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("currency", S(length=3), nullable=False),
        sa.Column("price_minor", sa.Integer(), nullable=False),
        sa.Column("setup_fee_minor", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["plan_id"], ["plans.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("plan_id", "currency", name="uq_plan_prices_plan_currency"),
    )
    op.create_index(op.f("ix_plan_prices_plan_id"), "plan_prices", ["plan_id"], unique=False)
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(sa.Column("currency", S(length=3), nullable=True))
    with op.batch_alter_table("invoices") as batch_op:
        batch_op.add_column(sa.Column("fx_rate_date", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("fx_rate", S(length=32), nullable=False, server_default="1"))
        batch_op.add_column(sa.Column("fx_platform_currency", S(length=3), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("fx_platform_rate", S(length=32), nullable=False, server_default="1"))
    with op.batch_alter_table("invoices") as batch_op:
        for column in ("fx_rate", "fx_platform_currency", "fx_platform_rate"):
            batch_op.alter_column(column, server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("invoices") as batch_op:
        for column in ("fx_platform_rate", "fx_platform_currency", "fx_rate", "fx_rate_date"):
            batch_op.drop_column(column)
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("currency")
    op.drop_index(op.f("ix_plan_prices_plan_id"), table_name="plan_prices")
    op.drop_table("plan_prices")
    op.drop_table("currency_settings")
