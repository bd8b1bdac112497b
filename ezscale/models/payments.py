"""Payment gateway tables: each tenant's gateway accounts (central), and in every tenant
database the one-off checkouts at PayPal/BTCPay/Stripe and the gateway events already applied."""

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ezscale.models.tenant import TenantModel
from ezscale.models.types import enum_field, utc_field
from ezscale.services.core.crypto import EncryptedString


class GatewayAccount(SQLModel, table=True):
    """A tenant's account at one gateway: on or off, and its credentials (encrypted at rest)."""

    __tablename__ = "gateway_accounts"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "gateway", name="uq_gateway_accounts_tenant_gateway"),)

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenants.id", index=True, ondelete="CASCADE")
    gateway: str = Field(max_length=20)
    enabled: bool = Field(default=False)
    api_base: str = Field(default="", max_length=300)
    # JSON object of the gateway's credentials (client id and secret, API key, webhook secret…).
    credentials: str = Field(default="{}", sa_type=EncryptedString)
    updated_at: datetime = utc_field()


class ConnectedAccount(SQLModel, table=True):
    """A reseller's own Stripe account (Stripe Connect, direct charges): its customers' cards,
    payments and refunds live there. Charges are taken only once Stripe says it can charge."""

    __tablename__ = "connected_accounts"

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenants.id", unique=True, ondelete="CASCADE")
    account_id: str = Field(max_length=64, unique=True)
    charges_enabled: bool = Field(default=False)
    details_submitted: bool = Field(default=False)
    created_at: datetime = utc_field()
    updated_at: datetime = utc_field()


class CheckoutStatus(StrEnum):
    OPEN = "open"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    FAILED = "failed"


class GatewayCheckout(TenantModel, table=True):
    """A one-off payment of an invoice the customer completes at the gateway (approve, pay in
    crypto, confirm a card). Becomes a `payments` row once, when the money is in."""

    __tablename__ = "gateway_checkouts"
    __table_args__ = (sa.UniqueConstraint("gateway", "reference", name="uq_gateway_checkouts_reference"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    invoice_id: int = Field(foreign_key="invoices.id", index=True)
    gateway: str = Field(max_length=20)
    reference: str = Field(max_length=120)
    number: int
    amount_minor: int
    currency: str = Field(max_length=3)
    status: CheckoutStatus = enum_field(CheckoutStatus, CheckoutStatus.OPEN)
    paid_minor: int = Field(default=0)
    save_method: bool = Field(default=False)
    redirect_url: str = Field(default="", max_length=500)
    created_at: datetime = utc_field()
    updated_at: datetime = utc_field()


class GatewayEvent(TenantModel, table=True):
    """A PayPal or BTCPay webhook event already applied: unique per gateway, so a redelivery
    changes nothing."""

    __tablename__ = "gateway_events"
    __table_args__ = (sa.UniqueConstraint("gateway", "event_id", name="uq_gateway_events_event"),)

    id: int | None = Field(default=None, primary_key=True)
    gateway: str = Field(max_length=20)
    event_id: str = Field(max_length=120)
    type: str = Field(max_length=60)
    received_at: datetime = utc_field()
