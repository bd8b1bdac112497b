"""A reseller's retail prices: free to choose, but never below what EZSCALE charges wholesale."""

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from sqlmodel import Session, select

from ezscale.models.tenant import BillingInterval, Plan
from ezscale.money import Money, minor_digits, round_minor
from ezscale.services.errors import DomainError, NotFound

RATE_PLACES = Decimal("0.000001")


@dataclass(frozen=True)
class PriceRow:
    plan_id: int
    code: str
    name: str
    hourly: bool
    retail: str
    wholesale: str
    margin: str


def _parse(text: str, *, places: int) -> Decimal:
    try:
        value = Decimal((text or "").strip().lstrip("$"))
    except InvalidOperation:
        raise DomainError(f"“{text}” is not a price.") from None
    if not value.is_finite() or value < 0:
        raise DomainError("A price must be a number of zero or more.")
    if value != value.quantize(Decimal(1).scaleb(-places)):
        raise DomainError(f"Use at most {places} decimal places.")
    return value


def _rate_label(rate: Decimal | None, currency: str) -> str:
    return "—" if rate is None else f"{rate.normalize():f} {currency}/h"


def pricing(session: Session) -> list[PriceRow]:
    rows = []
    for plan in session.exec(select(Plan).order_by(Plan.sort_order, Plan.id)).all():
        hourly = plan.billing_interval is BillingInterval.HOURLY
        if hourly:
            retail, wholesale = plan.hourly_rate, plan.wholesale_hourly_rate
            margin = None if retail is None or wholesale is None else retail - wholesale
            rows.append(
                PriceRow(
                    plan.id,
                    plan.code,
                    plan.name,
                    True,
                    _rate_label(retail, plan.currency),
                    _rate_label(wholesale, plan.currency),
                    _rate_label(margin, plan.currency),
                )
            )
        else:
            wholesale_minor = plan.wholesale_price_minor
            rows.append(
                PriceRow(
                    plan.id,
                    plan.code,
                    plan.name,
                    False,
                    Money(plan.price_minor, plan.currency).format(),
                    "—" if wholesale_minor is None else Money(wholesale_minor, plan.currency).format(),
                    "—"
                    if wholesale_minor is None
                    else Money(plan.price_minor - wholesale_minor, plan.currency).format(),
                )
            )
    return rows


def set_retail_price(session: Session, *, plan_id: int, price: str) -> Plan:
    """Set the customer price (hourly plans: the hourly rate); refused below wholesale."""
    plan = session.get(Plan, plan_id)
    if plan is None:
        raise NotFound("No such plan.")
    if plan.billing_interval is BillingInterval.HOURLY:
        rate = _parse(price, places=6)
        floor = plan.wholesale_hourly_rate
        if floor is not None and rate < floor:
            raise DomainError(
                f"{plan.name}: {rate.normalize():f}/h is below the wholesale rate {floor.normalize():f}/h."
            )
        plan.hourly_rate = rate.quantize(RATE_PLACES)
    else:
        amount = _parse(price, places=minor_digits(plan.currency))
        minor = round_minor(amount, plan.currency)
        floor_minor = plan.wholesale_price_minor
        if floor_minor is not None and minor < floor_minor:
            raise DomainError(
                f"{plan.name}: {Money(minor, plan.currency).format()} is below the wholesale price "
                f"{Money(floor_minor, plan.currency).format()}."
            )
        plan.price_minor = minor
    session.add(plan)
    session.commit()
    return plan
