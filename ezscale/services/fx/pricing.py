"""What a plan costs in a customer's currency, and the rates an invoice records.

A plan has its base price (in the tenant's base currency) and may have a fixed price per
currency (`PlanPrice`); without one, the base price is converted with the day's rate and
rounded by the tenant's rule. The same rates are then recorded on the invoice, so the
invoice says which rate made its amounts."""

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from sqlmodel import Session, select

from ezscale.errors import DomainError
from ezscale.models.fx import PlanPrice
from ezscale.models.tenant import BillingInterval, Invoice, Plan
from ezscale.models.types import row_id
from ezscale.services.fx.conversion import convert_minor
from ezscale.services.fx.currencies import Currencies, tenant_currencies
from ezscale.services.fx.rates import RatesUnavailable, RateTable, current_table
from ezscale.settings import get_settings

RATE_STEP = Decimal("0.000001")  # hourly rates keep 6 places, like Plan.hourly_rate


@dataclass(frozen=True, slots=True)
class InvoiceRates:
    """The rates an invoice in `currency` is made with: units of it per 1 base unit, and per 1
    platform unit (either None when no rate is known), on `rate_date`."""

    currency: str
    base: str
    rate: Decimal | None
    platform: str
    platform_rate: Decimal | None
    rate_date: date | None


@dataclass(frozen=True, slots=True)
class PlanPricing:
    """A plan's price and setup fee in minor units of `currency`; `converted` when they come
    from the base price at `rates.rate` rather than a fixed per-currency price."""

    currency: str
    price_minor: int
    setup_fee_minor: int
    converted: bool
    rates: InvoiceRates


def rates_for(
    session: Session,
    *,
    currency: str,
    table: RateTable | None = None,
    settings: Currencies | None = None,
    required: bool = True,
) -> InvoiceRates:
    """The rates for an invoice in `currency` now (or from `table`). When the currency differs
    from the base and no rate for it is stored: RatesUnavailable, or (not `required`: an
    invoice whose amounts were given, not converted) the rate recorded as unknown.
    Same-currency invoices need no lookup: their rates are 1."""
    currency = currency.upper()
    settings = settings or tenant_currencies(session)
    platform = get_settings().default_currency.upper()
    if currency == settings.base == platform and table is None:
        return InvoiceRates(currency, settings.base, Decimal(1), platform, Decimal(1), None)
    table = table or current_table()
    try:
        rate = table.cross(settings.base, currency)
    except RatesUnavailable:
        if required:
            raise
        rate = None
    try:
        platform_rate = table.cross(platform, currency)
    except RatesUnavailable:
        platform_rate = None
    return InvoiceRates(currency, settings.base, rate, platform, platform_rate, table.rate_date)


def recorded_rates(invoice: Invoice) -> InvoiceRates:
    """The rates recorded on an invoice (a credit note repeats those of the invoice it corrects)."""
    return InvoiceRates(
        currency=invoice.currency,
        base="",
        rate=Decimal(invoice.fx_rate) if invoice.fx_rate else None,
        platform=invoice.fx_platform_currency,
        platform_rate=Decimal(invoice.fx_platform_rate) if invoice.fx_platform_rate else None,
        rate_date=invoice.fx_rate_date,
    )


def stamp(invoice: Invoice, rates: InvoiceRates) -> None:
    """Record the rates on a draft invoice."""
    invoice.fx_rate_date = rates.rate_date
    invoice.fx_rate = "" if rates.rate is None else str(rates.rate)
    invoice.fx_platform_currency = rates.platform
    invoice.fx_platform_rate = "" if rates.platform_rate is None else str(rates.platform_rate)


def plan_pricing(
    session: Session, plan: Plan, *, currency: str, table: RateTable | None = None
) -> PlanPricing:
    """The plan's price in `currency`: its fixed price there, else its base price converted at
    the day's rate (or `table`'s) and rounded by the tenant's rule."""
    currency = currency.upper()
    settings = tenant_currencies(session)
    if currency not in settings.enabled and currency != plan.currency.upper():
        raise DomainError(f"{plan.name} is not sold in {currency}.")
    rates = rates_for(session, currency=currency, table=table, settings=settings)
    fixed = session.exec(
        select(PlanPrice).where(PlanPrice.plan_id == plan.id, PlanPrice.currency == currency)
    ).first()
    if fixed is not None:
        return PlanPricing(currency, fixed.price_minor, fixed.setup_fee_minor, False, rates)
    if currency == plan.currency.upper():
        return PlanPricing(currency, plan.price_minor, plan.setup_fee_minor, False, rates)
    if plan.currency.upper() != settings.base:
        raise DomainError(f"{plan.name} is priced in {plan.currency}, not the base {settings.base}.")
    if plan.billing_interval is BillingInterval.HOURLY:
        raise DomainError("Hourly plans are billed in their own currency.")

    rate = rates.rate
    if rate is None:
        raise RatesUnavailable(f"No exchange rate for {currency} is known yet; try again later.")

    def convert(minor: int) -> int:
        return convert_minor(minor, source=plan.currency, target=currency, rate=rate, rule=settings.rounding)

    return PlanPricing(currency, convert(plan.price_minor), convert(plan.setup_fee_minor), True, rates)


@dataclass(frozen=True, slots=True)
class HourlyPricing:
    """An hourly plan's rate per hour in `currency` (6 places); `converted` when it comes from
    the base rate at `rates.rate` rather than a fixed rate in that currency."""

    currency: str
    rate: Decimal
    converted: bool
    rates: InvoiceRates


def hourly_pricing(
    session: Session, plan: Plan, *, currency: str, table: RateTable | None = None
) -> HourlyPricing:
    """The hourly plan's rate in `currency`: its fixed rate there, else its own rate converted
    at the day's rate (or `table`'s). A rate keeps 6 places (half-up): the tenant's rounding
    rule applies to what is charged, whole minor units of each usage charge, not to the rate —
    rounding $0.015/h up to a whole euro would multiply the price."""
    currency = currency.upper()
    own = plan.hourly_rate if plan.hourly_rate is not None else Decimal(0)
    if currency == plan.currency.upper():
        same = InvoiceRates(currency, currency, Decimal(1), currency, None, None)
        return HourlyPricing(currency, own, False, same)
    settings = tenant_currencies(session)
    if currency not in settings.enabled:
        raise DomainError(f"{plan.name} is not sold in {currency}.")
    fixed = session.exec(
        select(PlanPrice).where(PlanPrice.plan_id == plan.id, PlanPrice.currency == currency)
    ).first()
    if fixed is not None and fixed.hourly_rate is not None:
        rates = rates_for(session, currency=currency, table=table, settings=settings, required=False)
        return HourlyPricing(currency, Decimal(fixed.hourly_rate), False, rates)
    if plan.currency.upper() != settings.base:
        raise DomainError(f"{plan.name} is priced in {plan.currency}, not the base {settings.base}.")
    rates = rates_for(session, currency=currency, table=table, settings=settings)
    if rates.rate is None:
        raise RatesUnavailable(f"No exchange rate for {currency} is known yet; try again later.")
    rate = (own * rates.rate).quantize(RATE_STEP, rounding=ROUND_HALF_UP)
    return HourlyPricing(currency, rate, True, rates)


def set_fixed_price(
    session: Session,
    plan: Plan,
    *,
    currency: str,
    price_minor: int | None,
    setup_fee_minor: int = 0,
    hourly_rate: Decimal | None = None,
) -> None:
    """Give the plan a fixed price in `currency` (an hourly plan: `hourly_rate`, price_minor 0;
    None removes it: the price is converted again). Not committed; the catalogue's editor
    audits it."""
    currency = currency.upper()
    if currency == plan.currency.upper():
        raise DomainError("The base currency's price is the plan's own price.")
    if currency not in tenant_currencies(session).enabled:
        raise DomainError(f"{currency} is not one of this shop's currencies.")
    row = session.exec(
        select(PlanPrice).where(PlanPrice.plan_id == plan.id, PlanPrice.currency == currency)
    ).first()
    if price_minor is None:
        if row is not None:
            session.delete(row)
        return
    if price_minor < 0 or setup_fee_minor < 0 or (hourly_rate is not None and hourly_rate < 0):
        raise DomainError("A price must be a number of zero or more.")
    row = row or PlanPrice(plan_id=row_id(plan), currency=currency, price_minor=0)
    row.price_minor, row.setup_fee_minor, row.hourly_rate = price_minor, setup_fee_minor, hourly_rate
    session.add(row)
