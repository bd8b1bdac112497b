"""usage charges

Revision ID: t0200
Revises: t0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

import ezscale.models.types
from alembic import op

revision: str = "t0200"
down_revision: str | None = "t0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "usage_charges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=True),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=14, scale=6), nullable=False),
        sa.Column("unit_rate", sa.Numeric(precision=14, scale=6), nullable=False),
        sa.Column("amount_minor", sa.Integer(), nullable=False),
        sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column("period_start", ezscale.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("period_end", ezscale.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("source_key", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=True),
        sa.Column("created_at", ezscale.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["invoice_id"], ["invoices.id"]),
        sa.ForeignKeyConstraint(["service_id"], ["services.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source_key"),
    )
    with op.batch_alter_table("usage_charges") as batch_op:
        batch_op.create_index(batch_op.f("ix_usage_charges_invoice_id"), ["invoice_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_usage_charges_period_end"), ["period_end"], unique=False)
        batch_op.create_index(batch_op.f("ix_usage_charges_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_table("usage_charges")
