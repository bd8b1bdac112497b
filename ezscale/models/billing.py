"""Billing tables of every tenant database: usage charges, numbering, payments, Stripe, dunning."""

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ezscale.errors import DomainError
from ezscale.models.tenant import Invoice, InvoiceItem, InvoiceStatus, TenantModel
from ezscale.models.types import enum_field, table_of, utc_field


class UsageCharge(TenantModel, table=True):
    """A metered charge (e.g. Kasm hours) waiting for the monthly usage run to invoice it."""

    __tablename__ = "usage_charges"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    service_id: int | None = Field(default=None, foreign_key="services.id")
    description: str = Field(max_length=300)
    quantity: Decimal = Field(sa_type=sa.Numeric(14, 6))
    unit_rate: Decimal = Field(sa_type=sa.Numeric(14, 6))
    amount_minor: int
    currency: str = Field(max_length=3)
    period_start: datetime = utc_field()
    period_end: datetime = utc_field(index=True)
    source_key: str = Field(max_length=120, unique=True)
    invoice_id: int | None = Field(default=None, foreign_key="invoices.id", index=True)
    created_at: datetime = utc_field()


class BillingProfile(TenantModel, table=True):
    """Per-customer billing settings: anchor day, Stripe customer and default card."""

    __tablename__ = "billing_profiles"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", unique=True)
    anchor_day: int = Field(default=1)
    stripe_customer_id: str | None = Field(default=None, max_length=64, unique=True)
    created_at: datetime = utc_field()
    # The connected Stripe account the customer lives on (a reseller's), None for the platform's.
    stripe_account_id: str | None = Field(default=None, max_length=64)


class InvoiceSequence(TenantModel, table=True):
    """The next number of a series ("INV", "CN"); its row is locked while a number is taken."""

    __tablename__ = "invoice_sequences"

    id: int | None = Field(default=None, primary_key=True)
    series: str = Field(max_length=8, unique=True)
    next_number: int = Field(default=1)


class TaxRate(TenantModel, table=True):
    __tablename__ = "tax_rates"

    id: int | None = Field(default=None, primary_key=True)
    country: str = Field(max_length=2, unique=True)
    rate_percent: Decimal = Field(sa_type=sa.Numeric(7, 4))
    label: str = Field(default="VAT", max_length=40)


class PaymentMethod(TenantModel, table=True):
    """A saved payment method: only the gateway's token and display details are kept, never card
    data. `stripe_payment_method_id` holds the token of the method's `gateway` (a Stripe
    PaymentMethod, a PayPal vault payment token)."""

    __tablename__ = "payment_methods"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    stripe_payment_method_id: str = Field(max_length=64, unique=True)
    brand: str = Field(default="card", max_length=20)
    last4: str = Field(default="", max_length=4)
    exp_month: int = Field(default=0)
    exp_year: int = Field(default=0)
    is_default: bool = Field(default=False)
    gateway: str = Field(default="stripe", max_length=20)
    removed_at: datetime | None = utc_field(nullable=True)
    created_at: datetime = utc_field()


class PaymentStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class Payment(TenantModel, table=True):
    """One charge attempt; the idempotency key makes a retried attempt the same Stripe charge.

    An invoice's attempts are numbered (`attempt_no`, unique per invoice) and at most one of
    them is pending at a time (a partial unique index): one charger per invoice, by the database."""

    __tablename__ = "payments"
    __table_args__ = (
        sa.UniqueConstraint("invoice_id", "attempt_no", name="uq_payments_invoice_attempt"),
        sa.Index(
            "uq_payments_one_pending_per_invoice",
            "invoice_id",
            unique=True,
            sqlite_where=sa.text("status = 'pending'"),
            postgresql_where=sa.text("status = 'pending'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    invoice_id: int | None = Field(default=None, foreign_key="invoices.id", index=True)
    status: PaymentStatus = enum_field(PaymentStatus, PaymentStatus.PENDING, index=True)
    amount_minor: int
    currency: str = Field(max_length=3)
    idempotency_key: str = Field(max_length=120, unique=True)
    stripe_payment_intent_id: str | None = Field(default=None, max_length=64, unique=True)
    stripe_charge_id: str | None = Field(default=None, max_length=64)
    refunded_minor: int = Field(default=0)
    disputed: bool = Field(default=False)
    failure_message: str = Field(default="", max_length=300)
    created_at: datetime = utc_field()
    updated_at: datetime = utc_field()
    attempt_no: int | None = Field(default=None)
    # The card the attempt was sent with: a resumed attempt repeats exactly the same request.
    stripe_payment_method_id: str | None = Field(default=None, max_length=64)
    # The gateway that took the payment, and its id there when it is not Stripe (a PayPal
    # capture, a BTCPay invoice): what a refund is sent to.
    gateway: str = Field(default="stripe", max_length=20)
    gateway_ref: str | None = Field(default=None, max_length=120)
    # The connected Stripe account the charge was made on (a reseller's), None for the platform's:
    # a refund or a resumed attempt goes to the same account.
    stripe_account_id: str | None = Field(default=None, max_length=64)


class RefundRequest(TenantModel, table=True):
    """One refund form sent by staff: its one-time key (unique) makes the same form sent twice,
    from two tabs or a double click, one refund."""

    __tablename__ = "refund_requests"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=64, unique=True)
    payment_id: int = Field(foreign_key="payments.id", index=True)
    amount_minor: int
    created_at: datetime = utc_field()


class BillingLease(TenantModel, table=True):
    """Who runs a tenant's billing run of a kind now, until when (renewed while it works)."""

    __tablename__ = "billing_leases"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=40, unique=True)
    holder: str = Field(default="", max_length=120)
    expires_at: datetime = utc_field()


class StripeEvent(TenantModel, table=True):
    """Webhook events already processed: the unique id makes each event count once."""

    __tablename__ = "stripe_events"

    id: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(max_length=64, unique=True)
    type: str = Field(max_length=60)
    received_at: datetime = utc_field()


class BillingEvent(TenantModel, table=True):
    """The customer's billing timeline; `key` (unique) makes a step happen once."""

    __tablename__ = "billing_events"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    invoice_id: int | None = Field(default=None, foreign_key="invoices.id")
    kind: str = Field(max_length=40)
    message: str = Field(max_length=300)
    key: str | None = Field(default=None, max_length=160, unique=True)
    created_at: datetime = utc_field(index=True)


class StripeCustomer(SQLModel, table=True):
    """Central map of Stripe customers to tenants, so a webhook finds the right database."""

    __tablename__ = "stripe_customers"

    id: int | None = Field(default=None, primary_key=True)
    stripe_customer_id: str = Field(max_length=64, unique=True)
    tenant_id: int = Field(foreign_key="tenants.id", index=True, ondelete="CASCADE")
    user_id: int
    created_at: datetime = utc_field()


class ImmutableInvoiceError(DomainError):
    pass


# Once issued, an invoice's content never changes (corrections are credit notes); only its
# settlement fields move. Enforced here for every writer, not only the billing services.
_INVOICE_CONTENT = (
    "user_id",
    "number",
    "currency",
    "subtotal_minor",
    "tax_minor",
    "total_minor",
    "issued_at",
    "kind",
    "credits_invoice_id",
    "billing_key",
    "bill_to",
    "tax_label",
    "tax_rate_percent",
    "reverse_charge",
    "fx_rate_date",
    "fx_rate",
    "fx_platform_currency",
    "fx_platform_rate",
)


@sa.event.listens_for(Invoice, "before_update")
def _invoice_content_is_immutable(_mapper, _connection, target: Invoice) -> None:
    state = sa.inspect(target)
    previous = state.attrs.status.history.deleted
    was = previous[0] if previous else target.status
    if was == InvoiceStatus.DRAFT:
        return
    changed = [name for name in _INVOICE_CONTENT if state.attrs[name].history.has_changes()]
    if changed:
        raise ImmutableInvoiceError(
            f"Invoice {target.number} is issued and cannot be edited; use a credit note."
        )
    if was != target.status and was in (InvoiceStatus.PAID, InvoiceStatus.VOID):
        raise ImmutableInvoiceError(f"Invoice {target.number} is {was.value} and cannot change status.")


def _stored_status(target: InvoiceItem) -> InvoiceStatus | None:
    """The invoice's status as stored, from the session when it holds the invoice unchanged."""
    session = sa.orm.object_session(target)
    key = sa.orm.util.identity_key(Invoice, target.invoice_id)
    invoice = session.identity_map.get(key) if session is not None else None
    if invoice is not None:
        history = sa.inspect(invoice).attrs.status.history
        if history.unchanged:
            return history.unchanged[0]
        if history.deleted:
            return history.deleted[0]
    return None


def _item_invoice_is_draft(connection, target: InvoiceItem) -> None:
    status = _stored_status(target)
    if status is None:
        table = table_of(Invoice)
        status = connection.execute(sa.select(table.c.status).where(table.c.id == target.invoice_id)).scalar()
    if status is not None and status != InvoiceStatus.DRAFT:
        raise ImmutableInvoiceError("Lines of an issued invoice cannot change; use a credit note.")


@sa.event.listens_for(InvoiceItem, "before_insert")
@sa.event.listens_for(InvoiceItem, "before_update")
@sa.event.listens_for(InvoiceItem, "before_delete")
def _invoice_lines_are_immutable(_mapper, connection, target: InvoiceItem) -> None:
    _item_invoice_is_draft(connection, target)
