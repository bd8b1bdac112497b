"""Multi-currency tables: the ECB reference rates (central), and in every tenant database the
tenant's currency settings and its plans' fixed prices per currency.

Rates are kept as the exact decimal strings the ECB publishes (never floats)."""

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ezscale.models.tenant import TenantModel
from ezscale.models.types import enum_field, utc_field


class FxRate(SQLModel, table=True):
    """One published reference rate: units of `currency` per 1 EUR on `rate_date`."""

    __tablename__ = "fx_rates"
    __table_args__ = (sa.UniqueConstraint("rate_date", "currency", name="uq_fx_rates_date_currency"),)

    id: int | None = Field(default=None, primary_key=True)
    rate_date: date = Field(index=True)
    currency: str = Field(max_length=3)
    rate_per_eur: str = Field(max_length=32)
    fetched_at: datetime = utc_field()


class RoundingRule(StrEnum):
    """How a converted price is rounded in the customer's currency."""

    MINOR = "minor"  # half-up to the currency's minor unit (WHMCS: round(x, 2))
    WHOLE = "whole"  # up to the next whole unit (12.01 → 13)
    NINETY_NINE = "ninety_nine"  # up to the next .99 (12.30 → 12.99); whole units without cents


class CurrencySettings(TenantModel, table=True):
    """The tenant's currencies (one row): the base its plans are priced in, the ones customers
    may choose, and how converted prices are rounded."""

    __tablename__ = "currency_settings"

    id: int | None = Field(default=None, primary_key=True)
    base_currency: str = Field(max_length=3)
    # Space-separated ISO codes, the base among them ("USD EUR GBP JPY").
    enabled: str = Field(max_length=200)
    rounding: RoundingRule = enum_field(RoundingRule, RoundingRule.MINOR)
    updated_at: datetime = utc_field()


class PlanPrice(TenantModel, table=True):
    """A plan's fixed price in another currency (instead of converting the base price)."""

    __tablename__ = "plan_prices"
    __table_args__ = (sa.UniqueConstraint("plan_id", "currency", name="uq_plan_prices_plan_currency"),)

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plans.id", index=True, ondelete="CASCADE")
    currency: str = Field(max_length=3)
    price_minor: int
    setup_fee_minor: int = Field(default=0)
    # An hourly plan's fixed rate in this currency, to 6 places like Plan.hourly_rate (price_minor 0).
    hourly_rate: Decimal | None = Field(default=None, sa_type=sa.Numeric(12, 6))
