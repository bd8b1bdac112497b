"""A reseller's retail prices: free to choose, but never below what EZSCALE charges wholesale
(the rule itself is `plan_catalogue.check_floor`)."""

from dataclasses import dataclass
from decimal import Decimal

from sqlmodel import Session, col, select

from ezscale.errors import NotFound
from ezscale.models.tenant import BillingInterval, Plan
from ezscale.models.types import row_id
from ezscale.money import Money, rate_text
from ezscale.services.catalogue.plans import apply_price


@dataclass(frozen=True)
class PriceRow:
    """One plan's wholesale cost and the reseller's retail price, for the pricing page."""

    plan_id: int
    code: str
    name: str
    hourly: bool
    retail: str
    wholesale: str
    margin: str


def _rate_label(rate: Decimal | None, currency: str) -> str:
    return "—" if rate is None else rate_text(rate, currency)


def pricing(session: Session) -> list[PriceRow]:
    """Every plan with its wholesale cost and retail price, in catalogue order."""
    rows = []
    for plan in session.exec(select(Plan).order_by(col(Plan.sort_order), col(Plan.id))).all():
        hourly = plan.billing_interval is BillingInterval.HOURLY
        if hourly:
            retail, wholesale = plan.hourly_rate, plan.wholesale_hourly_rate
            margin = None if retail is None or wholesale is None else retail - wholesale
            rows.append(
                PriceRow(
                    row_id(plan),
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
                    row_id(plan),
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
    apply_price(plan, price)
    session.add(plan)
    session.commit()
    return plan
