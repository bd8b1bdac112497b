"""Subscription and revenue analytics of one tenant database, day by day.

Definitions (also shown on the admin analytics page, `DEFINITIONS`):

- A subscription counts from `created_at` (a free trial: from `trial_ends_at`, so one
  cancelled in its trial never counts) until `cancelled_at` (past-due ones still count), at
  the plan it had at that moment (plan switches are kept in `plan_changes`).
- Its monthly value is the plan price ÷ months of the interval (monthly 1, quarterly 3,
  annual 12), kept to 6 decimal places of a minor unit, never rounded further until shown.
- Hourly (Kasm) usage counts as the usage revenue of the trailing 30 days: the cost of usage
  sessions that stopped within the 30 days up to the moment measured.
- MRR = recurring + usage; ARR = 12 × MRR. A paying customer has MRR > 0.
- Net new MRR, customer by customer between the start and the end of each day: from 0 → new;
  to 0 → churned; up → expansion; down → contraction. Months sum their days.
- Logo churn rate of a period = customers churned ÷ paying customers at its start; revenue churn
  rate = (churned + contraction MRR) ÷ MRR at its start.
- Revenue = net (before tax) totals of invoices paid that day, by payment date; credit notes and
  refunds are in the refunds report. Usage = Kasm sessions that stopped that day.
- Conversion = customers making their first purchase (subscription or workspace) ÷ sign-ups.
- Outstanding = issued invoices not yet paid at the end of the day; aged by whole days past the
  due date (not yet due counts as 0) in buckets 0–30, 31–60, 61–90, 90+; overdue = past due.
"""

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import cast

from sqlalchemy import func
from sqlalchemy.orm import Mapped
from sqlmodel import Session, col, select

from ezscale.models.analytics import PlanChange
from ezscale.models.kasm import KasmUsageSession, KasmWorkspace
from ezscale.models.tenant import (
    BillingInterval,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    Plan,
    Role,
    Subscription,
    SubscriptionStatus,
    User,
)
from ezscale.models.types import row_id
from ezscale.services.fx.conversion import convert_back_minor
from ezscale.services.fx.currencies import tenant_currencies

USAGE_WINDOW = timedelta(days=30)
MONTHS_PER_INTERVAL = {
    BillingInterval.MONTHLY: 1,
    BillingInterval.QUARTERLY: 3,
    BillingInterval.ANNUAL: 12,
}
AGING_BUCKETS = ("0–30", "31–60", "61–90", "90+")
_PLACES = Decimal("0.000001")
_ONE_DAY = timedelta(days=1)

DEFINITIONS = [
    "MRR: active subscriptions (from creation, or the end of a free trial, to cancellation, "
    "past-due included) at the plan "
    "held at that time; quarterly plans count price ÷ 3 and annual plans price ÷ 12 per month, "
    "exact to 6 decimal places.",
    "Hourly usage (Kasm) counts in MRR as the usage revenue of the trailing 30 days.",
    "ARR = 12 × MRR. A paying customer is one with MRR above zero.",
    "Net new MRR is measured customer by customer each day: new (from nothing), expansion "
    "(up), contraction (down), churned (to nothing); months add up their days.",
    "Logo churn = churned customers ÷ paying customers at the start of the month; revenue churn "
    "= (churned + contraction MRR) ÷ MRR at the start of the month.",
    "Revenue = net totals (before tax) of invoices paid, by payment date.",
    "Conversion = first purchases (subscription or workspace) ÷ sign-ups in the month.",
    "Aging: unpaid issued invoices by days past their due date: 0–30, 31–60, 61–90, 90+.",
    "History comes from a nightly snapshot per tenant and day; today's revenue and active orders are live.",
]


def day_start(day: date) -> datetime:
    """Midnight UTC at the start of the day: every daily figure uses UTC days."""
    return datetime.combine(day, time(0), tzinfo=UTC)


def monthly_value(plan: Plan) -> Decimal:
    """A plan's contribution to MRR in minor units (6 places); hourly plans count by usage."""
    months = MONTHS_PER_INTERVAL.get(plan.billing_interval)
    if months is None:
        return Decimal(0)
    return (Decimal(plan.price_minor) / months).quantize(_PLACES, rounding=ROUND_HALF_UP)


@dataclass
class DayFigures:
    """One day's figures of a scope, as they are stored in the snapshots."""

    day: date
    mrr: Decimal = Decimal(0)
    recurring_mrr: Decimal = Decimal(0)
    usage_mrr: Decimal = Decimal(0)
    new_mrr: Decimal = Decimal(0)
    expansion_mrr: Decimal = Decimal(0)
    contraction_mrr: Decimal = Decimal(0)
    churned_mrr: Decimal = Decimal(0)
    paying_customers: int = 0
    new_customers: int = 0
    churned_customers: int = 0
    registered_customers: int = 0
    signups: int = 0
    first_purchases: int = 0
    revenue_minor: int = 0
    tax_minor: int = 0
    invoices_paid: int = 0
    usage_seconds: int = 0
    usage_revenue_minor: int = 0
    outstanding_minor: int = 0
    overdue_minor: int = 0
    aging_0_30_minor: int = 0
    aging_31_60_minor: int = 0
    aging_61_90_minor: int = 0
    aging_90_plus_minor: int = 0
    plans: dict = field(default_factory=dict)


@dataclass(frozen=True, order=True)
class _Event:
    at: datetime
    user_id: int
    amount: Decimal
    usage: bool = False
    plan_id: int | None = None
    count: int = 0


def _subscription_events(
    session: Session, plans: dict[int, Plan], since: datetime, until: datetime
) -> Iterator[_Event]:
    subs = session.exec(
        select(Subscription).where(
            col(Subscription.created_at) < until,
            (col(Subscription.cancelled_at).is_(None)) | (col(Subscription.cancelled_at) > since),
        )
    ).all()
    changes: dict[int, list[PlanChange]] = defaultdict(list)
    ids = [s.id for s in subs]
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        for change in session.exec(
            select(PlanChange)
            .where(col(PlanChange.subscription_id).in_(chunk))
            .order_by(col(PlanChange.changed_at))
        ):
            changes[change.subscription_id].append(change)
    for sub in subs:
        end = sub.cancelled_at
        if sub.status is SubscriptionStatus.CANCELLED and end is None:
            continue
        history = changes.get(row_id(sub), [])
        plan_id = history[0].from_plan_id if history else sub.plan_id
        paid_from = sub.trial_ends_at or sub.created_at  # a free trial counts from its end
        begin = max(sub.created_at, paid_from)
        segments: list[PlanChange | None] = [*history, None]
        for step in segments:
            seg_end = step.changed_at if step else end
            if seg_end is not None and seg_end < paid_from:
                seg_end = paid_from
            value = monthly_value(plans[plan_id])
            if seg_end is None or seg_end > begin:
                yield _Event(begin, sub.user_id, value, plan_id=plan_id, count=1)
                if seg_end is not None:
                    yield _Event(seg_end, sub.user_id, -value, plan_id=plan_id, count=-1)
            if step:
                begin, plan_id = max(step.changed_at, paid_from), step.to_plan_id


def _usage_rows(
    session: Session, since: datetime, until: datetime
) -> Sequence[tuple[int, datetime, int | None, int | None]]:
    """Workspace sessions in the tenant's base currency. Those of customers billed in another
    currency record no exchange rate, so they are not added in here (never mixing currencies);
    their invoices count in the revenue, converted at the rate each recorded."""
    base = tenant_currencies(session).base
    return session.exec(
        select(
            col(KasmUsageSession.user_id),
            cast(Mapped[datetime], col(KasmUsageSession.stopped_at)),  # IS NOT NULL below
            col(KasmUsageSession.billable_seconds),
            col(KasmUsageSession.cost_minor),
        ).where(
            col(KasmUsageSession.started_at) < until,
            col(KasmUsageSession.stopped_at).is_not(None),
            col(KasmUsageSession.stopped_at) > since,
            col(KasmUsageSession.currency) == base,
        )
    ).all()


class _Sweep:
    """Per-customer MRR moved through time by events; reports each day's movements."""

    def __init__(self, events: list[_Event]) -> None:
        self.events = sorted(events, key=lambda e: e.at)
        self.pos = 0
        self.recurring: dict[int, Decimal] = defaultdict(Decimal)
        self.usage: dict[int, Decimal] = defaultdict(Decimal)
        self.plan_counts: dict[int, int] = defaultdict(int)

    def total(self, user_id: int) -> Decimal:
        return self.recurring.get(user_id, Decimal(0)) + self.usage.get(user_id, Decimal(0))

    def advance(self, until: datetime) -> dict[int, Decimal]:
        """Apply events up to `until` (inclusive); returns the affected customers' prior MRR."""
        before: dict[int, Decimal] = {}
        while self.pos < len(self.events) and self.events[self.pos].at <= until:
            event = self.events[self.pos]
            self.pos += 1
            before.setdefault(event.user_id, self.total(event.user_id))
            (self.usage if event.usage else self.recurring)[event.user_id] += event.amount
            if event.plan_id is not None:
                self.plan_counts[event.plan_id] += event.count
        return before


def compute_days(session: Session, *, start: date, end: date) -> list[DayFigures]:
    """Figures of each day from `start` to `end` inclusive, from this tenant's own database."""
    since, until = day_start(start), day_start(end) + _ONE_DAY
    plans = {row_id(p): p for p in session.exec(select(Plan))}
    events = list(_subscription_events(session, plans, since, until))
    days = {start + timedelta(n): DayFigures(start + timedelta(n)) for n in range((end - start).days + 1)}
    for user_id, stopped, seconds, cost in _usage_rows(session, since - USAGE_WINDOW, until):
        events.append(_Event(stopped, user_id, Decimal(cost or 0), usage=True))
        events.append(_Event(stopped + USAGE_WINDOW, user_id, -Decimal(cost or 0), usage=True))
        if stopped >= since and (figures := days.get(stopped.date())):
            figures.usage_seconds += seconds or 0
            figures.usage_revenue_minor += cost or 0
    _sweep_days(_Sweep(events), days, plans, since)
    _customers(session, days, since, until)
    _revenue(session, days, since, until)
    _aging(session, days, since, until)
    return [days[d] for d in sorted(days)]


def _sweep_days(sweep: _Sweep, days: dict[date, DayFigures], plans: dict[int, Plan], since: datetime) -> None:
    sweep.advance(since)
    for day in sorted(days):
        figures = days[day]
        for user_id, was in sweep.advance(day_start(day) + _ONE_DAY).items():
            now = sweep.total(user_id)
            if was <= 0 < now:
                figures.new_mrr += now
                figures.new_customers += 1
            elif now <= 0 < was:
                figures.churned_mrr += was
                figures.churned_customers += 1
            elif now > was:
                figures.expansion_mrr += now - was
            elif now < was:
                figures.contraction_mrr += was - now
        figures.recurring_mrr = sum(sweep.recurring.values(), Decimal(0))
        figures.usage_mrr = sum(sweep.usage.values(), Decimal(0))
        figures.mrr = figures.recurring_mrr + figures.usage_mrr
        figures.paying_customers = sum(
            1 for u in set(sweep.recurring) | set(sweep.usage) if sweep.total(u) > 0
        )
        figures.plans = {
            plans[p].code: {"name": plans[p].name, "active": n}
            for p, n in sorted(sweep.plan_counts.items())
            if n > 0
        }


def _customers(session: Session, days: dict[date, DayFigures], since: datetime, until: datetime) -> None:
    joined = sorted(
        session.exec(select(User.created_at).where(User.role == Role.CUSTOMER, User.created_at < until))
    )
    firsts: dict[int, datetime] = {}
    for model in (Subscription, KasmWorkspace):
        for user_id, first in session.exec(
            select(col(model.user_id), func.min(col(model.created_at))).group_by(col(model.user_id))
        ):
            first = first if first.tzinfo else first.replace(tzinfo=UTC)
            firsts[user_id] = min(first, firsts.get(user_id, first))
    for day, figures in days.items():
        begin = day_start(day)
        figures.registered_customers = bisect_left(joined, begin + _ONE_DAY)
        figures.signups = figures.registered_customers - bisect_left(joined, begin)
    for first in firsts.values():
        if since <= first < until:
            days[first.date()].first_purchases += 1


def _in_base(base: str) -> Callable[[int, str, str], int]:
    """Amounts of invoices in other currencies, in the tenant's base currency at the rate each
    invoice recorded (units of its currency per 1 base unit); one made before any rate was
    known counts as it is."""

    def convert(minor: int, currency: str, rate: str) -> int:
        return convert_back_minor(minor, currency=currency, target=base, rate=Decimal(rate or "1"))

    return convert


def _revenue(session: Session, days: dict[date, DayFigures], since: datetime, until: datetime) -> None:
    in_base = _in_base(tenant_currencies(session).base)
    rows = session.exec(
        select(  # type: ignore[call-overload]  # sqlmodel types select() up to four columns
            cast(Mapped[datetime], col(Invoice.paid_at)),  # paid invoices: never NULL
            col(Invoice.subtotal_minor),
            col(Invoice.tax_minor),
            col(Invoice.currency),
            col(Invoice.fx_rate),
        ).where(
            col(Invoice.kind) == InvoiceKind.INVOICE,
            col(Invoice.status) == InvoiceStatus.PAID,
            col(Invoice.paid_at) >= since,
            col(Invoice.paid_at) < until,
        )
    )
    for paid_at, subtotal, tax, currency, rate in rows:
        figures = days[paid_at.date()]
        figures.revenue_minor += in_base(subtotal, currency, rate)
        figures.tax_minor += in_base(tax, currency, rate)
        figures.invoices_paid += 1


def aging_bucket(days_past_due: int) -> int:
    """Index into AGING_BUCKETS."""
    return 0 if days_past_due <= 30 else 1 if days_past_due <= 60 else 2 if days_past_due <= 90 else 3


def _aging(session: Session, days: dict[date, DayFigures], since: datetime, until: datetime) -> None:
    invoices = session.exec(
        select(Invoice).where(
            col(Invoice.kind) == InvoiceKind.INVOICE,
            col(Invoice.status).in_((InvoiceStatus.OPEN, InvoiceStatus.PAID)),
            col(Invoice.issued_at) < until,
            (col(Invoice.paid_at).is_(None)) | (col(Invoice.paid_at) > since),
        )
    )
    fields = ("aging_0_30_minor", "aging_31_60_minor", "aging_61_90_minor", "aging_90_plus_minor")
    last = max(days)
    in_base = _in_base(tenant_currencies(session).base)
    for invoice in invoices:
        if invoice.status is InvoiceStatus.OPEN:
            amount = invoice.total_minor - invoice.credit_applied_minor
            amount -= invoice.amount_paid_minor + invoice.credited_minor
        else:
            amount = invoice.total_minor - invoice.credit_applied_minor
        if amount <= 0:
            continue
        amount = in_base(amount, invoice.currency, invoice.fx_rate)
        issued = invoice.issued_at
        assert issued is not None, "open and paid invoices are issued"
        due = invoice.due_at or issued
        day = max(issued.date(), min(days))
        while day <= last:
            at = day_start(day) + _ONE_DAY
            if invoice.paid_at is not None and invoice.paid_at <= at:
                break
            if issued <= at:
                figures = days[day]
                past_due = (at - due).days if at > due else 0
                figures.outstanding_minor += amount
                figures.overdue_minor += amount if at > due else 0
                setattr(
                    figures,
                    fields[aging_bucket(past_due)],
                    getattr(figures, fields[aging_bucket(past_due)]) + amount,
                )
            day += _ONE_DAY
