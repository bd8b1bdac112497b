"""billing: profiles, numbering, tax, payments, stripe events, timeline; invoice/subscription columns

Revision ID: t0201
Revises: t0200
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import ezscale.models.types

revision: str = "t0201"
down_revision: str | None = "t0200"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = ezscale.models.types.UTCDateTime
S = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "billing_profiles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("anchor_day", sa.Integer(), nullable=False),
        sa.Column("stripe_customer_id", S(length=64), nullable=True),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("stripe_customer_id"),
        sa.UniqueConstraint("user_id"),
    )
    op.create_table(
        "invoice_sequences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("series", S(length=8), nullable=False),
        sa.Column("next_number", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("series"),
    )
    op.create_table(
        "tax_rates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("country", S(length=2), nullable=False),
        sa.Column("rate_percent", sa.Numeric(precision=7, scale=4), nullable=False),
        sa.Column("label", S(length=40), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("country"),
    )
    op.create_table(
        "payment_methods",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("stripe_payment_method_id", S(length=64), nullable=False),
        sa.Column("brand", S(length=20), nullable=False),
        sa.Column("last4", S(length=4), nullable=False),
        sa.Column("exp_month", sa.Integer(), nullable=False),
        sa.Column("exp_year", sa.Integer(), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("removed_at", UTC(timezone=True), nullable=True),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("stripe_payment_method_id"),
    )
    op.create_index("ix_payment_methods_user_id", "payment_methods", ["user_id"], unique=False)
    op.create_table(
        "payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=True),
        sa.Column(
            "status",
            sa.Enum("pending", "succeeded", "failed", name="paymentstatus", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("amount_minor", sa.Integer(), nullable=False),
        sa.Column("currency", S(length=3), nullable=False),
        sa.Column("idempotency_key", S(length=120), nullable=False),
        sa.Column("stripe_payment_intent_id", S(length=64), nullable=True),
        sa.Column("stripe_charge_id", S(length=64), nullable=True),
        sa.Column("refunded_minor", sa.Integer(), nullable=False),
        sa.Column("disputed", sa.Boolean(), nullable=False),
        sa.Column("failure_message", S(length=300), nullable=False),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.Column("updated_at", UTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["invoice_id"], ["invoices.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("idempotency_key"),
        sa.UniqueConstraint("stripe_payment_intent_id"),
    )
    op.create_index("ix_payments_invoice_id", "payments", ["invoice_id"], unique=False)
    op.create_index("ix_payments_status", "payments", ["status"], unique=False)
    op.create_index("ix_payments_user_id", "payments", ["user_id"], unique=False)
    op.create_table(
        "stripe_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", S(length=64), nullable=False),
        sa.Column("type", S(length=60), nullable=False),
        sa.Column("received_at", UTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_id"),
    )
    op.create_table(
        "billing_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=True),
        sa.Column("kind", S(length=40), nullable=False),
        sa.Column("message", S(length=300), nullable=False),
        sa.Column("key", S(length=160), nullable=True),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["invoice_id"], ["invoices.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    op.create_index("ix_billing_events_created_at", "billing_events", ["created_at"], unique=False)
    op.create_index("ix_billing_events_user_id", "billing_events", ["user_id"], unique=False)

    with op.batch_alter_table("subscriptions") as batch_op:
        batch_op.add_column(sa.Column("invoiced_through", UTC(timezone=True), nullable=True))

    with op.batch_alter_table("invoices") as batch_op:
        batch_op.add_column(
            sa.Column(
                "kind",
                sa.Enum("invoice", "credit_note", name="invoicekind", native_enum=False, length=32),
                nullable=False,
                server_default="invoice",
            )
        )
        batch_op.add_column(sa.Column("credits_invoice_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("billing_key", S(length=120), nullable=True))
        batch_op.add_column(sa.Column("bill_to", S(length=600), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("memo", S(length=300), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("tax_label", S(length=60), nullable=False, server_default=""))
        batch_op.add_column(
            sa.Column("tax_rate_percent", sa.Numeric(precision=7, scale=4), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("reverse_charge", sa.Boolean(), nullable=False, server_default=sa.false()))
        for column in ("credit_applied_minor", "amount_paid_minor", "credited_minor", "attempt_count"):
            batch_op.add_column(sa.Column(column, sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("next_attempt_at", UTC(timezone=True), nullable=True))
        batch_op.create_foreign_key("fk_invoices_credits_invoice_id", "invoices", ["credits_invoice_id"], ["id"])
        batch_op.create_unique_constraint("uq_invoices_billing_key", ["billing_key"])
        batch_op.create_index("ix_invoices_next_attempt_at", ["next_attempt_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("invoices") as batch_op:
        batch_op.drop_index("ix_invoices_next_attempt_at")
        batch_op.drop_constraint("uq_invoices_billing_key", type_="unique")
        batch_op.drop_constraint("fk_invoices_credits_invoice_id", type_="foreignkey")
        for column in (
            "next_attempt_at",
            "attempt_count",
            "credited_minor",
            "amount_paid_minor",
            "credit_applied_minor",
            "reverse_charge",
            "tax_rate_percent",
            "tax_label",
            "memo",
            "bill_to",
            "billing_key",
            "credits_invoice_id",
            "kind",
        ):
            batch_op.drop_column(column)
    with op.batch_alter_table("subscriptions") as batch_op:
        batch_op.drop_column("invoiced_through")
    for table in ("billing_events", "stripe_events", "payments", "payment_methods", "tax_rates"):
        op.drop_table(table)
    op.drop_table("invoice_sequences")
    op.drop_table("billing_profiles")
