"""Billing tables of every tenant database: usage charges, numbering, payments, Stripe, dunning."""

from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Field

from ezscale.models.tenant import TenantModel
from ezscale.models.types import utc_field


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
