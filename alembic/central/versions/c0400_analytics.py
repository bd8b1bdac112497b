"""analytics: daily snapshots

Revision ID: c0400
Revises: c0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import ezscale.models.types

revision: str = "c0400"
down_revision: str | None = "c0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "analytics_days",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=True),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column("mrr", sa.Numeric(20, 6), nullable=False),
        sa.Column("recurring_mrr", sa.Numeric(20, 6), nullable=False),
        sa.Column("usage_mrr", sa.Numeric(20, 6), nullable=False),
        sa.Column("new_mrr", sa.Numeric(20, 6), nullable=False),
        sa.Column("expansion_mrr", sa.Numeric(20, 6), nullable=False),
        sa.Column("contraction_mrr", sa.Numeric(20, 6), nullable=False),
        sa.Column("churned_mrr", sa.Numeric(20, 6), nullable=False),
        sa.Column("paying_customers", sa.Integer(), nullable=False),
        sa.Column("new_customers", sa.Integer(), nullable=False),
        sa.Column("churned_customers", sa.Integer(), nullable=False),
        sa.Column("registered_customers", sa.Integer(), nullable=False),
        sa.Column("signups", sa.Integer(), nullable=False),
        sa.Column("first_purchases", sa.Integer(), nullable=False),
        sa.Column("revenue_minor", sa.Integer(), nullable=False),
        sa.Column("tax_minor", sa.Integer(), nullable=False),
        sa.Column("invoices_paid", sa.Integer(), nullable=False),
        sa.Column("usage_seconds", sa.Integer(), nullable=False),
        sa.Column("usage_revenue_minor", sa.Integer(), nullable=False),
        sa.Column("outstanding_minor", sa.Integer(), nullable=False),
        sa.Column("overdue_minor", sa.Integer(), nullable=False),
        sa.Column("aging_0_30_minor", sa.Integer(), nullable=False),
        sa.Column("aging_31_60_minor", sa.Integer(), nullable=False),
        sa.Column("aging_61_90_minor", sa.Integer(), nullable=False),
        sa.Column("aging_90_plus_minor", sa.Integer(), nullable=False),
        sa.Column("plans", sa.JSON(), nullable=False),
        sa.Column("computed_at", ezscale.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("scope", "currency", "day", name="uq_analytics_day"),
    )
    with op.batch_alter_table("analytics_days") as batch_op:
        batch_op.create_index(batch_op.f("ix_analytics_days_tenant_id"), ["tenant_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_analytics_days_day"), ["day"], unique=False)


def downgrade() -> None:
    op.drop_table("analytics_days")
