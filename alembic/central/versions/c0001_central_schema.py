"""central schema

Revision ID: c0001
Revises:
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
import sqlmodel

import ezscale.models.types


revision: str = "c0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "platform_admins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("password_hash", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", ezscale.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("platform_admins", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_platform_admins_email"), ["email"], unique=True)

    op.create_table(
        "tenants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("slug", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("database_name", sqlmodel.sql.sqltypes.AutoString(length=63), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "active", "trial", "suspended", name="tenantstatus", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column("is_house", sa.Boolean(), nullable=False),
        sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column("owner_email", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column("owner_name", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("created_at", ezscale.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("trial_ends_at", ezscale.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("suspended_at", ezscale.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("database_name"),
    )
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tenants_slug"), ["slug"], unique=True)

    op.create_table(
        "tenant_billing",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("tier", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("wholesale_discount_percent", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("monthly_fee_minor", sa.Integer(), nullable=False),
        sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column("commission_percent", sa.Numeric(precision=5, scale=2), nullable=True),
        sa.Column("billing_cycle_day", sa.Integer(), nullable=False),
        sa.Column("next_billing_date", sa.Date(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "active",
                "past_due",
                "cancelled",
                name="tenantbillingstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tenant_id"),
    )
    op.create_table(
        "tenant_branding",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("company_name", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("logo_url", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("favicon_url", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("primary_color", sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
        sa.Column("secondary_color", sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
        sa.Column("support_email", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=True),
        sa.Column("support_phone", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("from_email", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=True),
        sa.Column("from_name", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
        sa.Column("custom_css", sa.Text(), nullable=True),
        sa.Column("updated_at", ezscale.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tenant_id"),
    )
    op.create_table(
        "tenant_domains",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("domain", sqlmodel.sql.sqltypes.AutoString(length=253), nullable=False),
        sa.Column(
            "type",
            sa.Enum("primary", "alias", name="domaintype", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column(
            "ssl_status",
            sa.Enum("pending", "active", "failed", name="sslstatus", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("verified_at", ezscale.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", ezscale.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("tenant_domains", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tenant_domains_domain"), ["domain"], unique=True)
        batch_op.create_index(
            batch_op.f("ix_tenant_domains_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "wholesale_invoices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("number", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "draft",
                "open",
                "paid",
                "void",
                name="wholesaleinvoicestatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column("subtotal_minor", sa.Integer(), nullable=False),
        sa.Column("total_minor", sa.Integer(), nullable=False),
        sa.Column("issued_at", ezscale.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("paid_at", ezscale.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", ezscale.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("number"),
        sa.UniqueConstraint("tenant_id", "period_start", name="uq_wholesale_period"),
    )
    with op.batch_alter_table("wholesale_invoices", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_wholesale_invoices_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "wholesale_invoice_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=12, scale=4), nullable=False),
        sa.Column("unit_minor", sa.Integer(), nullable=False),
        sa.Column("amount_minor", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["invoice_id"], ["wholesale_invoices.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("wholesale_invoice_items", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_wholesale_invoice_items_invoice_id"), ["invoice_id"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("wholesale_invoice_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_wholesale_invoice_items_invoice_id"))

    op.drop_table("wholesale_invoice_items")
    with op.batch_alter_table("wholesale_invoices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_wholesale_invoices_tenant_id"))

    op.drop_table("wholesale_invoices")
    with op.batch_alter_table("tenant_domains", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tenant_domains_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_tenant_domains_domain"))

    op.drop_table("tenant_domains")
    op.drop_table("tenant_branding")
    op.drop_table("tenant_billing")
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tenants_slug"))

    op.drop_table("tenants")
    with op.batch_alter_table("platform_admins", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_platform_admins_email"))

    op.drop_table("platform_admins")
