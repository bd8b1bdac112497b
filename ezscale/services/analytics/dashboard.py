"""What the admin analytics page shows: a few snapshot rows, folded into months and years,
plus today's revenue and active orders read live."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import partial

from sqlalchemy import func
from sqlmodel import Session, col, select

from ezscale import clock
from ezscale.errors import DomainError
from ezscale.models.analytics import PLATFORM_SCOPE, AnalyticsDay, tenant_scope
from ezscale.models.tenant import Invoice, InvoiceKind, InvoiceStatus, Service, ServiceStatus
from ezscale.services.analytics.metrics import AGING_BUCKETS, day_start
from ezscale.services.analytics.snapshots import reporting_tenants
from ezscale.services.tenancy.tenants import TenantInfo, tenant_session

_RATE = Decimal("0.0001")


@dataclass(frozen=True)
class Scope:
    """A dashboard scope: the whole platform in one currency, or one tenant."""

    key: str
    label: str
    currency: str


@dataclass(frozen=True)
class MonthFigures:
    """One month of a scope: MRR levels, MRR movements, customer counts and rates."""

    month: date
    mrr: Decimal
    arr: Decimal
    new_mrr: Decimal
    expansion_mrr: Decimal
    contraction_mrr: Decimal
    churned_mrr: Decimal
    net_new_mrr: Decimal
    paying_customers: int
    customer_growth: int
    logo_churn_rate: Decimal | None
    revenue_churn_rate: Decimal | None
    revenue_minor: int
    tax_minor: int
    usage_seconds: int
    usage_revenue_minor: int
    signups: int
    first_purchases: int
    conversion_rate: Decimal | None


@dataclass(frozen=True)
class Live:
    """Figures read live rather than from the snapshots."""

    today_revenue_minor: int
    active_orders: int


@dataclass(frozen=True)
class Dashboard:
    """Everything the analytics dashboard shows for one scope."""

    scope: Scope
    computed_at: datetime | None
    last_day: date | None
    months: list[MonthFigures]
    days: list[tuple[date, int]]
    years: list[tuple[int, int]]
    plans: list[tuple[str, int]]
    aging: list[tuple[str, int]]
    outstanding_minor: int
    overdue_minor: int
    live: Live


def _ratio(part: Decimal | int, whole: Decimal | int) -> Decimal | None:
    return (Decimal(part) / Decimal(whole)).quantize(_RATE, rounding=ROUND_HALF_UP) if whole else None


def _mrr_total(days: list[AnalyticsDay], name: str) -> Decimal:
    return sum((getattr(d, name) for d in days), start=Decimal(0))


def _count_total(days: list[AnalyticsDay], name: str) -> int:
    return sum(getattr(d, name) for d in days)


def fold_months(rows: list[AnalyticsDay]) -> list[MonthFigures]:
    """Month figures from consecutive day rows: flows add up, levels are the last day's."""
    by_month: dict[date, list[AnalyticsDay]] = defaultdict(list)
    for row in sorted(rows, key=lambda r: r.day):
        by_month[row.day.replace(day=1)].append(row)
    months = []
    for month, days in sorted(by_month.items()):
        first, last = days[0], days[-1]
        mrr_total, total = partial(_mrr_total, days), partial(_count_total, days)
        new, expansion = mrr_total("new_mrr"), mrr_total("expansion_mrr")
        contraction, churned = mrr_total("contraction_mrr"), mrr_total("churned_mrr")
        start_mrr = first.mrr - (
            first.new_mrr + first.expansion_mrr - first.contraction_mrr - first.churned_mrr
        )
        start_paying = first.paying_customers - first.new_customers + first.churned_customers
        signups, firsts = total("signups"), total("first_purchases")
        months.append(
            MonthFigures(
                month=month,
                mrr=last.mrr,
                arr=last.mrr * 12,
                new_mrr=new,
                expansion_mrr=expansion,
                contraction_mrr=contraction,
                churned_mrr=churned,
                net_new_mrr=new + expansion - contraction - churned,
                paying_customers=last.paying_customers,
                customer_growth=last.paying_customers - start_paying,
                logo_churn_rate=_ratio(total("churned_customers"), start_paying),
                revenue_churn_rate=_ratio(churned + contraction, start_mrr),
                revenue_minor=total("revenue_minor"),
                tax_minor=total("tax_minor"),
                usage_seconds=total("usage_seconds"),
                usage_revenue_minor=total("usage_revenue_minor"),
                signups=signups,
                first_purchases=firsts,
                conversion_rate=_ratio(firsts, signups),
            )
        )
    return months


def scopes(central: Session) -> list[Scope]:
    """The platform (one per currency in use) and every tenant."""
    tenants = reporting_tenants(central)
    currencies = sorted({t.currency for t in tenants})
    platform = [
        Scope(PLATFORM_SCOPE if len(currencies) == 1 else f"{PLATFORM_SCOPE}:{c}", f"Whole platform ({c})", c)
        for c in currencies
    ]
    return platform + [Scope(tenant_scope(t.id), f"{t.name} ({t.slug})", t.currency) for t in tenants]


def live(tenants: list[TenantInfo], *, now: datetime) -> Live:
    """Today's paid revenue (before tax) and orders still being set up, read now."""
    since = day_start(now.date())
    revenue = orders = 0
    for tenant in tenants:
        with tenant_session(tenant) as db:
            revenue += db.exec(
                select(func.coalesce(func.sum(col(Invoice.subtotal_minor)), 0)).where(
                    col(Invoice.kind) == InvoiceKind.INVOICE,
                    col(Invoice.status) == InvoiceStatus.PAID,
                    col(Invoice.paid_at) >= since,
                )
            ).one()
            orders += db.exec(
                select(func.count())
                .select_from(Service)
                .where(col(Service.status).in_((ServiceStatus.PENDING, ServiceStatus.PROVISIONING)))
            ).one()
    return Live(today_revenue_minor=int(revenue), active_orders=int(orders))


def load_dashboard(central: Session, *, scope_key: str, months: int = 24) -> Dashboard:
    """The dashboard of a scope from the stored snapshots plus live figures; unknown scopes are refused."""
    scope = next((s for s in scopes(central) if s.key == scope_key), None)
    if scope is None:
        raise DomainError("Unknown analytics scope.")
    now = clock.now()
    first_month = (now.date().replace(day=1) - timedelta(days=31 * (months - 1))).replace(day=1)
    stored = scope.key.split(":")[0] if scope.key.startswith(PLATFORM_SCOPE) else scope.key
    rows = central.exec(
        select(AnalyticsDay)
        .where(
            col(AnalyticsDay.scope) == stored,
            col(AnalyticsDay.currency) == scope.currency,
            col(AnalyticsDay.day) >= first_month,
            col(AnalyticsDay.day) < now.date(),
        )
        .order_by(col(AnalyticsDay.day))
    ).all()
    years: dict[int, int] = defaultdict(int)
    for row in rows:
        years[row.day.year] += row.revenue_minor
    last = rows[-1] if rows else None
    tenants = [
        t for t in reporting_tenants(central) if stored == PLATFORM_SCOPE or tenant_scope(t.id) == stored
    ]
    tenants = [t for t in tenants if t.currency == scope.currency]
    aging = ("aging_0_30_minor", "aging_31_60_minor", "aging_61_90_minor", "aging_90_plus_minor")
    return Dashboard(
        scope=scope,
        computed_at=max((r.computed_at for r in rows), default=None),
        last_day=last.day if last else None,
        months=fold_months(list(rows)),
        days=[(r.day, r.revenue_minor) for r in rows[-30:]],
        years=sorted(years.items()),
        plans=sorted(
            ((p["name"], p["active"]) for p in (last.plans if last else {}).values()), key=lambda p: -p[1]
        ),
        aging=[
            (label, getattr(last, name) if last else 0)
            for label, name in zip(AGING_BUCKETS, aging, strict=True)
        ],
        outstanding_minor=last.outstanding_minor if last else 0,
        overdue_minor=last.overdue_minor if last else 0,
        live=live(tenants, now=now),
    )
