"""Tenant database: everything customer-facing. Every tenant has its own copy of these tables."""

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from ezscale.models.types import enum_field, utc_field
from ezscale.services.core.crypto import EncryptedString


class TenantModel(SQLModel, registry=registry()):
    """Base of tenant tables: a metadata of its own, migrated by the tenant Alembic stream."""


class Role(StrEnum):
    CUSTOMER = "customer"
    RESELLER_OWNER = "reseller_owner"
    RESELLER_BILLING = "reseller_billing"  # staff: customers' money
    RESELLER_STAFF = "reseller_staff"  # staff: support (read and notes)


class User(TenantModel, table=True):
    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True, index=True)
    password_hash: str = Field(max_length=255)
    role: Role = enum_field(Role, Role.CUSTOMER)
    name: str = Field(default="", max_length=120)
    company: str = Field(default="", max_length=120)
    address: str = Field(default="", max_length=300)
    country: str = Field(default="", max_length=2)
    tax_id: str = Field(default="", max_length=40)
    email_verified_at: datetime | None = utc_field(nullable=True)
    created_at: datetime = utc_field()
    # Accounts and security (issue 3): TOTP is on once totp_enabled_at is set; the last
    # accepted time step refuses a replayed code.
    is_active: bool = Field(default=True)
    totp_secret: str | None = Field(default=None, sa_column=sa.Column(EncryptedString(), nullable=True))
    totp_enabled_at: datetime | None = utc_field(nullable=True)
    totp_last_step: int | None = None
    webauthn_handle: str | None = Field(default=None, max_length=100)
    # The currency the customer is invoiced in (one of the tenant's enabled currencies; None =
    # the tenant's base currency). Fixed once the customer has an invoice.
    currency: str | None = Field(default=None, max_length=3)


class ServiceType(StrEnum):
    KASM = "kasm"
    VPS = "vps"
    GAME = "game"
    DEDICATED = "dedicated"
    WEB_HOSTING = "web_hosting"


class BillingInterval(StrEnum):
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    ANNUAL = "annual"
    HOURLY = "hourly"


class Plan(TenantModel, table=True):
    """A product this tenant sells. Hourly plans keep the rate to 6 places (`hourly_rate`)."""

    __tablename__ = "plans"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=60, unique=True)
    name: str = Field(max_length=120)
    description: str = Field(default="", max_length=500)
    service_type: ServiceType = enum_field(ServiceType, ServiceType.VPS)
    billing_interval: BillingInterval = enum_field(BillingInterval, BillingInterval.MONTHLY)
    currency: str = Field(default="USD", max_length=3)
    price_minor: int = Field(default=0)
    hourly_rate: Decimal | None = Field(default=None, sa_type=sa.Numeric(12, 6))
    setup_fee_minor: int = Field(default=0)
    wholesale_price_minor: int | None = None
    # What EZSCALE charges a reseller per hour of this hourly plan (6 places, like hourly_rate).
    wholesale_hourly_rate: Decimal | None = Field(default=None, sa_type=sa.Numeric(12, 6))
    active: bool = Field(default=True)
    sort_order: int = Field(default=0)
    # A reseller's plan resells this house plan (its provisioning and wholesale source); None:
    # the plan's own code (house plans, and the default catalogue every reseller starts with).
    base_code: str | None = Field(default=None, max_length=60)
    # Days of free trial a new customer of this plan gets (0: none); one trial per customer and plan.
    trial_days: int = Field(default=0)

    @property
    def provisioning_code(self) -> str:
        """The house plan code this plan is delivered as (its panel mapping's key)."""
        return self.base_code or self.code


class ServiceStatus(StrEnum):
    PENDING = "pending"
    PROVISIONING = "provisioning"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    TERMINATED = "terminated"
    FAILED = "failed"


class Service(TenantModel, table=True):
    __tablename__ = "services"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    plan_id: int = Field(foreign_key="plans.id", index=True)
    label: str = Field(default="", max_length=120)
    status: ServiceStatus = enum_field(ServiceStatus, ServiceStatus.PENDING, index=True)
    status_reason: str = Field(default="", max_length=300)
    created_at: datetime = utc_field()


class SubscriptionStatus(StrEnum):
    ACTIVE = "active"
    PAST_DUE = "past_due"
    CANCELLED = "cancelled"


class Subscription(TenantModel, table=True):
    __tablename__ = "subscriptions"
    # One free trial per customer and plan, by the database (NULLs, the paid orders, never clash).
    __table_args__ = (sa.UniqueConstraint("user_id", "trial_plan_id", name="uq_subscriptions_one_trial"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    plan_id: int = Field(foreign_key="plans.id", index=True)
    service_id: int | None = Field(default=None, foreign_key="services.id")
    status: SubscriptionStatus = enum_field(SubscriptionStatus, SubscriptionStatus.ACTIVE)
    current_period_start: datetime = utc_field()
    current_period_end: datetime = utc_field(index=True)
    cancel_at_period_end: bool = Field(default=False)
    cancelled_at: datetime | None = utc_field(nullable=True)
    created_at: datetime = utc_field()
    # End of the latest period already invoiced (renewals are invoiced ahead of it).
    invoiced_through: datetime | None = utc_field(nullable=True)
    # A free trial: the plan it was granted for and when it ends (the first paid period starts
    # then and is invoiced by the billing run at that moment, not ahead of it).
    trial_plan_id: int | None = Field(default=None, foreign_key="plans.id")
    trial_ends_at: datetime | None = utc_field(nullable=True)


class InvoiceStatus(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    PAID = "paid"
    VOID = "void"
    UNCOLLECTIBLE = "uncollectible"


class InvoiceKind(StrEnum):
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"


class Invoice(TenantModel, table=True):
    __tablename__ = "invoices"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    number: str | None = Field(default=None, max_length=32, unique=True)
    status: InvoiceStatus = enum_field(InvoiceStatus, InvoiceStatus.DRAFT, index=True)
    currency: str = Field(max_length=3)
    subtotal_minor: int = 0
    tax_minor: int = 0
    total_minor: int = 0
    issued_at: datetime | None = utc_field(nullable=True)
    due_at: datetime | None = utc_field(nullable=True)
    paid_at: datetime | None = utc_field(nullable=True)
    created_at: datetime = utc_field()
    kind: InvoiceKind = enum_field(InvoiceKind, InvoiceKind.INVOICE)
    # A credit note points at the invoice it corrects.
    credits_invoice_id: int | None = Field(default=None, foreign_key="invoices.id")
    # What a billing run made this invoice for (e.g. "renewal:7:20261201"): invoiced once.
    billing_key: str | None = Field(default=None, max_length=120, unique=True)
    bill_to: str = Field(default="", max_length=600)
    memo: str = Field(default="", max_length=300)
    tax_label: str = Field(default="", max_length=60)
    tax_rate_percent: Decimal = Field(default=Decimal(0), sa_type=sa.Numeric(7, 4))
    reverse_charge: bool = Field(default=False)
    credit_applied_minor: int = 0
    amount_paid_minor: int = 0
    credited_minor: int = 0
    attempt_count: int = 0
    next_attempt_at: datetime | None = utc_field(nullable=True, index=True)
    # The exchange rates in force when the invoice was made (ECB reference date), as exact
    # decimal strings: units of the invoice currency per 1 unit of the tenant's base currency
    # (what converted prices used) and per 1 unit of the platform currency (what reports use);
    # "" when no rate was known (an invoice in another currency before any rates were fetched).
    fx_rate_date: date | None = None
    fx_rate: str = Field(default="1", max_length=32)
    fx_platform_currency: str = Field(default="", max_length=3)
    fx_platform_rate: str = Field(default="1", max_length=32)


class InvoiceItem(TenantModel, table=True):
    __tablename__ = "invoice_items"

    id: int | None = Field(default=None, primary_key=True)
    invoice_id: int = Field(foreign_key="invoices.id", index=True, ondelete="CASCADE")
    service_id: int | None = Field(default=None, foreign_key="services.id")
    description: str = Field(max_length=300)
    quantity: Decimal = Field(default=Decimal("1"), sa_type=sa.Numeric(12, 4))
    unit_minor: int
    amount_minor: int


class CreditKind(StrEnum):
    TOP_UP = "top_up"
    CHARGE = "charge"
    REFUND = "refund"
    ADJUSTMENT = "adjustment"


class CreditEntry(TenantModel, table=True):
    """Account credit ledger: the balance is the sum of a customer's rows, never stored."""

    __tablename__ = "credit_entries"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    kind: CreditKind = enum_field(CreditKind, CreditKind.ADJUSTMENT)
    amount_minor: int
    currency: str = Field(max_length=3)
    memo: str = Field(default="", max_length=300)
    reference: str | None = Field(default=None, max_length=100, unique=True)
    created_at: datetime = utc_field()
