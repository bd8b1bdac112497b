"""Central (platform) database: tenants, their domains, branding and wholesale billing, admins."""

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ezscale.models.types import enum_field, utc_field
from ezscale.services.core.crypto import EncryptedString


class TenantStatus(StrEnum):
    ACTIVE = "active"
    TRIAL = "trial"
    SUSPENDED = "suspended"
    # Deletion requested: exported, storefront closed, database dropped after the grace period.
    DELETING = "deleting"
    DELETED = "deleted"


class DomainType(StrEnum):
    PRIMARY = "primary"
    ALIAS = "alias"


class SslStatus(StrEnum):
    PENDING = "pending"
    # Caddy's on-demand `ask` was approved: a certificate is being issued.
    REQUESTED = "requested"
    ACTIVE = "active"
    FAILED = "failed"


class Tenant(SQLModel, table=True):
    __tablename__ = "tenants"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120)
    slug: str = Field(max_length=40, unique=True, index=True)
    database_name: str = Field(max_length=63, unique=True)
    status: TenantStatus = enum_field(TenantStatus, TenantStatus.ACTIVE)
    is_house: bool = Field(default=False)
    currency: str = Field(default="USD", max_length=3)
    owner_email: str = Field(max_length=254)
    owner_name: str = Field(default="", max_length=120)
    created_at: datetime = utc_field()
    trial_ends_at: datetime | None = utc_field(nullable=True)
    suspended_at: datetime | None = utc_field(nullable=True)
    # Why: "admin" (by hand) or "trial_ended" (lifted automatically once a card is added).
    suspension_reason: str = Field(default="", max_length=20)
    delete_after: datetime | None = utc_field(nullable=True)


class VerificationStatus(StrEnum):
    PENDING = "pending"
    VERIFIED = "verified"
    FAILED = "failed"


class TenantDomain(SQLModel, table=True):
    """A host name that reaches a tenant. Custom domains prove ownership by DNS TXT or HTTP token."""

    __tablename__ = "tenant_domains"

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenants.id", index=True, ondelete="CASCADE")
    domain: str = Field(max_length=253, unique=True, index=True)
    type: DomainType = enum_field(DomainType, DomainType.ALIAS)
    ssl_status: SslStatus = enum_field(SslStatus, SslStatus.PENDING)
    verification_status: VerificationStatus = enum_field(VerificationStatus, VerificationStatus.PENDING)
    verification_token: str = Field(default="", max_length=64)
    verification_error: str = Field(default="", max_length=300)
    ssl_error: str = Field(default="", max_length=300)
    ssl_checked_at: datetime | None = utc_field(nullable=True)
    last_checked_at: datetime | None = utc_field(nullable=True)
    verified_at: datetime | None = utc_field(nullable=True)
    created_at: datetime = utc_field()


class TenantBranding(SQLModel, table=True):
    __tablename__ = "tenant_branding"

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenants.id", unique=True, ondelete="CASCADE")
    company_name: str = Field(max_length=120)
    logo_url: str | None = Field(default=None, max_length=500)
    favicon_url: str | None = Field(default=None, max_length=500)
    primary_color: str = Field(default="#3B82F6", max_length=7)
    secondary_color: str = Field(default="#1E293B", max_length=7)
    support_email: str | None = Field(default=None, max_length=254)
    support_phone: str | None = Field(default=None, max_length=40)
    from_email: str | None = Field(default=None, max_length=254)
    from_name: str | None = Field(default=None, max_length=120)
    custom_css: str | None = Field(default=None, sa_type=sa.Text)
    updated_at: datetime = utc_field()


class TenantBillingStatus(StrEnum):
    ACTIVE = "active"
    PAST_DUE = "past_due"
    CANCELLED = "cancelled"


class TenantBilling(SQLModel, table=True):
    """How EZSCALE bills a reseller: tier, wholesale discount, platform fee."""

    __tablename__ = "tenant_billing"

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenants.id", unique=True, ondelete="CASCADE")
    tier: str = Field(default="basic", max_length=20)
    wholesale_discount_percent: Decimal = Field(default=Decimal("0"), sa_type=sa.Numeric(5, 2))
    monthly_fee_minor: int = Field(default=0)
    currency: str = Field(default="USD", max_length=3)
    commission_percent: Decimal | None = Field(default=None, sa_type=sa.Numeric(5, 2))
    billing_cycle_day: int = Field(default=1, ge=1, le=28)
    next_billing_date: date | None = None
    status: TenantBillingStatus = enum_field(TenantBillingStatus, TenantBillingStatus.ACTIVE)
    # The reseller's card on EZSCALE's Stripe account, charged for wholesale invoices.
    stripe_customer_id: str | None = Field(default=None, max_length=64)
    stripe_payment_method_id: str | None = Field(default=None, max_length=64)
    card_label: str = Field(default="", max_length=40)


class WholesaleInvoiceStatus(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    PAID = "paid"
    VOID = "void"


class WholesaleInvoice(SQLModel, table=True):
    """EZSCALE's monthly invoice to a reseller; one per tenant and period (unique)."""

    __tablename__ = "wholesale_invoices"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "period_start", name="uq_wholesale_period"),)

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenants.id", index=True)
    number: str = Field(max_length=32, unique=True)
    period_start: date
    period_end: date
    status: WholesaleInvoiceStatus = enum_field(WholesaleInvoiceStatus, WholesaleInvoiceStatus.DRAFT)
    currency: str = Field(max_length=3)
    subtotal_minor: int = 0
    total_minor: int = 0
    issued_at: datetime | None = utc_field(nullable=True)
    paid_at: datetime | None = utc_field(nullable=True)
    created_at: datetime = utc_field()
    stripe_payment_intent_id: str | None = Field(default=None, max_length=64)
    failure_message: str = Field(default="", max_length=300)
    # Collection (services/resellers/wholesale_dunning.py): due date, card attempts so far and when
    # the next one is due, and when each notice went out (each is sent once).
    due_on: date | None = None
    attempt_count: int = Field(default=0)
    next_attempt_on: date | None = None
    issued_mail_at: datetime | None = utc_field(nullable=True)
    reminder_mail_at: datetime | None = utc_field(nullable=True)
    overdue_mail_at: datetime | None = utc_field(nullable=True)


class WholesaleInvoiceItem(SQLModel, table=True):
    __tablename__ = "wholesale_invoice_items"

    id: int | None = Field(default=None, primary_key=True)
    invoice_id: int = Field(foreign_key="wholesale_invoices.id", index=True, ondelete="CASCADE")
    # Which customer service of the reseller the line is for (none for the platform fee).
    customer_email: str = Field(default="", max_length=254)
    service_id: int | None = None
    description: str = Field(max_length=300)
    quantity: Decimal = Field(default=Decimal("1"), sa_type=sa.Numeric(12, 4))
    unit_minor: int
    amount_minor: int


class PlatformAdmin(SQLModel, table=True):
    __tablename__ = "platform_admins"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True, index=True)
    name: str = Field(default="", max_length=120)
    password_hash: str = Field(max_length=255)
    is_active: bool = Field(default=True)
    created_at: datetime = utc_field()
    # A second factor is required for the admin area: TOTP (secret encrypted, replay refused).
    totp_secret: str | None = Field(default=None, sa_column=sa.Column(EncryptedString(), nullable=True))
    totp_enabled_at: datetime | None = utc_field(nullable=True)
    totp_last_step: int | None = None
