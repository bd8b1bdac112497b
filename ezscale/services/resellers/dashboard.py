"""The reseller's overview: customers, recurring revenue and margin, revenue and usage this month."""

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import func
from sqlmodel import Session, col, select

from ezscale import clock
from ezscale.models.billing import UsageCharge
from ezscale.models.tenant import (
    BillingInterval,
    Invoice,
    InvoiceStatus,
    Plan,
    Role,
    Subscription,
    SubscriptionStatus,
    User,
)
from ezscale.money import Money, minor_digits, round_minor

MONTHS_PER_INTERVAL = {
    BillingInterval.MONTHLY: 1,
    BillingInterval.QUARTERLY: 3,
    BillingInterval.ANNUAL: 12,
}


@dataclass(frozen=True)
class ResellerSummary:
    """The reseller dashboard's figures: customers, MRR against wholesale cost, and this month's
    revenue and usage."""

    customers: int
    mrr: Money
    wholesale_mrr: Money
    margin: Money
    revenue_this_month: Money
    usage_hours_this_month: Decimal


def _month_start(now: datetime) -> datetime:
    return datetime(now.year, now.month, 1, tzinfo=UTC)


def summary(session: Session, *, currency: str) -> ResellerSummary:
    """MRR counts active subscriptions of recurring plans, normalised to a month (exact); one in
    its free trial counts from the trial's end, while its wholesale cost counts already."""
    now = clock.now()
    customers = session.exec(select(func.count()).select_from(User).where(User.role == Role.CUSTOMER)).one()
    retail = wholesale = Decimal(0)
    rows = session.exec(
        select(
            col(Plan.price_minor),
            col(Plan.wholesale_price_minor),
            col(Plan.billing_interval),
            col(Subscription.trial_ends_at),
        )
        .join(Subscription, col(Subscription.plan_id) == col(Plan.id))
        .where(
            col(Subscription.status) == SubscriptionStatus.ACTIVE,
            col(Plan.billing_interval) != BillingInterval.HOURLY,
        )
    ).all()
    for price, wholesale_price, interval, trial_ends_at in rows:
        months = MONTHS_PER_INTERVAL[interval]
        if trial_ends_at is None or trial_ends_at <= now:
            retail += Decimal(price) / months
        wholesale += Decimal(wholesale_price or 0) / months
    start = _month_start(now)
    revenue = session.exec(
        select(func.coalesce(func.sum(col(Invoice.total_minor)), 0)).where(
            col(Invoice.status) == InvoiceStatus.PAID, col(Invoice.paid_at) >= start
        )
    ).one()
    hours = session.exec(
        select(func.coalesce(func.sum(UsageCharge.quantity), 0)).where(UsageCharge.period_end > start)
    ).one()
    digits = minor_digits(currency)
    mrr = Money(round_minor(retail.scaleb(-digits), currency), currency)
    wholesale_mrr = Money(round_minor(wholesale.scaleb(-digits), currency), currency)
    return ResellerSummary(
        customers=customers,
        mrr=mrr,
        wholesale_mrr=wholesale_mrr,
        margin=mrr - wholesale_mrr,
        revenue_this_month=Money(int(revenue), currency),
        usage_hours_this_month=Decimal(hours),
    )
