"""pay-gateways: payments and saved methods name their gateway; one-off checkouts; gateway events

Revision ID: t0700_pay_gateways
Revises: t0600_money_race
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import ezscale.models.types

revision: str = "t0700_pay_gateways"
down_revision: str | None = "t0600_money_race"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = sqlmodel.sql.sqltypes.AutoString
UTC = ezscale.models.types.UTCDateTime


def upgrade() -> None:
    with op.batch_alter_table("payments") as batch_op:
        batch_op.add_column(sa.Column("gateway", S(length=20), nullable=False, server_default="stripe"))
        batch_op.add_column(sa.Column("gateway_ref", S(length=120), nullable=True))
    with op.batch_alter_table("payments") as batch_op:
        batch_op.alter_column("gateway", server_default=None)
    with op.batch_alter_table("payment_methods") as batch_op:
        batch_op.add_column(sa.Column("gateway", S(length=20), nullable=False, server_default="stripe"))
    with op.batch_alter_table("payment_methods") as batch_op:
        batch_op.alter_column("gateway", server_default=None)
    op.create_table(
        "gateway_checkouts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("gateway", S(length=20), nullable=False),
        sa.Column("reference", S(length=120), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("amount_minor", sa.Integer(), nullable=False),
        sa.Column("currency", S(length=3), nullable=False),
        sa.Column(
            "status",
            sa.Enum("open", "completed", "cancelled", "expired", "failed", name="checkoutstatus",
                    native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("paid_minor", sa.Integer(), nullable=False),
        sa.Column("save_method", sa.Boolean(), nullable=False),
        sa.Column("redirect_url", S(length=500), nullable=False),
        sa.Column("created_at", UTC(), nullable=False),
        sa.Column("updated_at", UTC(), nullable=False),
        sa.ForeignKeyConstraint(["invoice_id"], ["invoices.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("gateway", "reference", name="uq_gateway_checkouts_reference"),
    )
    op.create_index("ix_gateway_checkouts_user_id", "gateway_checkouts", ["user_id"])
    op.create_index("ix_gateway_checkouts_invoice_id", "gateway_checkouts", ["invoice_id"])
    op.create_table(
        "gateway_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("gateway", S(length=20), nullable=False),
        sa.Column("event_id", S(length=120), nullable=False),
        sa.Column("type", S(length=60), nullable=False),
        sa.Column("received_at", UTC(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("gateway", "event_id", name="uq_gateway_events_event"),
    )


def downgrade() -> None:
    op.drop_table("gateway_events")
    op.drop_index("ix_gateway_checkouts_invoice_id", table_name="gateway_checkouts")
    op.drop_index("ix_gateway_checkouts_user_id", table_name="gateway_checkouts")
    op.drop_table("gateway_checkouts")
    with op.batch_alter_table("payment_methods") as batch_op:
        batch_op.drop_column("gateway")
    with op.batch_alter_table("payments") as batch_op:
        batch_op.drop_column("gateway_ref")
        batch_op.drop_column("gateway")
