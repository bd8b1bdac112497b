"""A reseller's month in figures, from its own database: workspace hours and revenue by customer
and by workspace type, active services by plan, and the margin per plan (retail − wholesale).

Usage counts in the month its usage period ends (as invoices and wholesale bills count it);
revenue is what the usage charges bill at retail, in minor units of the tenant's currency."""

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal

from dateutil.relativedelta import relativedelta
from sqlalchemy import func
from sqlalchemy.orm import Mapped
from sqlmodel import Session, col, select

from ezscale.errors import DomainError
from ezscale.models.billing import UsageCharge
from ezscale.models.tenant import BillingInterval, Plan, Service, ServiceStatus, User
from ezscale.models.types import row_id
from ezscale.money import Money, rate_text
from ezscale.services.resellers.dashboard import MONTHS_PER_INTERVAL


@dataclass(frozen=True)
class UsageLine:
    """Hours and retail revenue of one customer or one workspace type."""

    label: str
    hours: Decimal
    revenue_minor: int


@dataclass(frozen=True)
class PlanLine:
    """A plan: its active services, retail and wholesale price per unit, and the margin."""

    plan: str
    active: int
    retail: str
    wholesale: str
    margin: str
    monthly_margin_minor: int | None


@dataclass(frozen=True)
class UsageMonth:
    """The month's statistics."""

    month: date
    currency: str
    by_customer: list[UsageLine]
    by_type: list[UsageLine]
    plans: list[PlanLine]

    @property
    def hours(self) -> Decimal:
        """All workspace hours of the month."""
        return sum((line.hours for line in self.by_type), Decimal(0))

    @property
    def revenue_minor(self) -> int:
        """All workspace revenue of the month."""
        return sum(line.revenue_minor for line in self.by_type)


def month_start(text: str, *, today: date) -> date:
    """`YYYY-MM` (empty: this month) as the month's first day; not a future month."""
    if not text:
        return today.replace(day=1)
    try:
        month = datetime.strptime(text, "%Y-%m").date()
    except ValueError:
        raise DomainError("Months are written YYYY-MM, e.g. 2026-11.") from None
    if month > today:
        raise DomainError("That month has not started yet.")
    return month


def recent_months(today: date, count: int = 12) -> list[str]:
    """The last `count` months as YYYY-MM, newest first."""
    first = today.replace(day=1)
    return [f"{first - relativedelta(months=n):%Y-%m}" for n in range(count)]


def _usage(
    session: Session, start: datetime, end: datetime, label_column: Mapped[str], currency: str
) -> list[UsageLine]:
    """Hours and revenue of the usage in `currency` ending in [start, end), grouped by
    `label_column` (customers billed in another currency are not added in)."""
    rows = session.exec(
        select(label_column, func.sum(col(UsageCharge.quantity)), func.sum(col(UsageCharge.amount_minor)))
        .join(Service, col(Service.id) == col(UsageCharge.service_id))
        .join(Plan, col(Plan.id) == col(Service.plan_id))
        .join(User, col(User.id) == col(UsageCharge.user_id))
        .where(
            col(UsageCharge.period_end) > start,
            col(UsageCharge.period_end) <= end,
            col(UsageCharge.currency) == currency.upper(),
        )
        .group_by(label_column)
        .order_by(func.sum(col(UsageCharge.amount_minor)).desc(), label_column)
    ).all()
    return [UsageLine(label, Decimal(hours or 0), int(revenue or 0)) for label, hours, revenue in rows]


def _plan_line(plan: Plan, active: int) -> PlanLine:
    if plan.billing_interval is BillingInterval.HOURLY:
        retail, wholesale = plan.hourly_rate, plan.wholesale_hourly_rate
        margin = None if retail is None or wholesale is None else retail - wholesale
        return PlanLine(
            plan.name,
            active,
            "—" if retail is None else rate_text(retail, plan.currency),
            "—" if wholesale is None else rate_text(wholesale, plan.currency),
            "—" if margin is None else rate_text(margin, plan.currency),
            None,
        )
    wholesale_minor = plan.wholesale_price_minor
    margin_minor = None if wholesale_minor is None else plan.price_minor - wholesale_minor
    monthly = None
    if margin_minor is not None:
        per_month = Decimal(margin_minor * active) / MONTHS_PER_INTERVAL[plan.billing_interval]
        monthly = int(per_month.to_integral_value(rounding=ROUND_HALF_UP))
    return PlanLine(
        plan.name,
        active,
        Money(plan.price_minor, plan.currency).format(),
        "—" if wholesale_minor is None else Money(wholesale_minor, plan.currency).format(),
        "—" if margin_minor is None else Money(margin_minor, plan.currency).format(),
        monthly,
    )


def usage_month(session: Session, *, month: date, currency: str) -> UsageMonth:
    """The statistics of the month starting on `month`."""
    start = datetime(month.year, month.month, 1, tzinfo=UTC)
    end = start + relativedelta(months=1)
    active = dict(
        session.exec(
            select(col(Service.plan_id), func.count())
            .where(col(Service.status) == ServiceStatus.ACTIVE)
            .group_by(col(Service.plan_id))
        ).all()
    )
    plans = session.exec(
        select(Plan).where(col(Plan.active)).order_by(col(Plan.sort_order), col(Plan.id))
    ).all()
    return UsageMonth(
        month=month,
        currency=currency,
        by_customer=_usage(session, start, end, col(User.email), currency),
        by_type=_usage(session, start, end, col(Plan.name), currency),
        plans=[_plan_line(plan, active.get(row_id(plan), 0)) for plan in plans],
    )


def _csv(header: list[str], rows: Iterable[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def usage_csv(report: UsageMonth) -> tuple[str, str]:
    """The month as a CSV file (name, text): one row per customer, type and plan, exact amounts."""

    def amount(minor: int | None) -> str:
        return "" if minor is None else f"{Money(minor, report.currency).amount:f}"

    rows = [
        [kind, line.label, f"{line.hours.normalize():f}", amount(line.revenue_minor)]
        for kind, lines in (("customer", report.by_customer), ("type", report.by_type))
        for line in lines
    ]
    rows += [["plan", p.plan, str(p.active), amount(p.monthly_margin_minor)] for p in report.plans]
    header = ["breakdown", "name", "hours_or_active", f"revenue_or_monthly_margin_{report.currency}"]
    return f"usage-{report.month:%Y-%m}.csv", _csv(header, rows)
