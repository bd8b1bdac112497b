"""What the reseller pages show, as rows of text ready for the page: the platform admin's list of
resellers (domains, status, trial, wholesale billing day), a reseller's overview (its figures and
its wholesale invoices) and its monthly usage statistics."""

from dataclasses import dataclass

from sqlmodel import Session

from ezscale.models.types import row_id
from ezscale.money import Money
from ezscale.services.resellers.dashboard import ResellerSummary
from ezscale.services.resellers.usage_stats import UsageLine, UsageMonth
from ezscale.services.resellers.wholesale import billing_cycle_days, list_wholesale_invoices
from ezscale.services.tenancy.tenants import list_tenants


@dataclass(frozen=True, slots=True)
class ResellerRow:
    """A tenant (a reseller, or the house site) as the admin's list shows it."""

    slug: str
    name: str
    status: str
    house: bool
    domains: str
    trial_ends: str
    reason: str  # why it is suspended ("unpaid": wholesale invoices overdue)
    cycle_day: str  # the day of the month its wholesale invoice is made ("" for the house)


def reseller_rows(central: Session) -> list[ResellerRow]:
    """Every tenant, in id order."""
    cycle_days = billing_cycle_days(central)
    return [
        ResellerRow(
            slug=t.slug,
            name=t.name,
            status=t.status.value,
            house=t.is_house,
            domains=", ".join(domains),
            trial_ends=f"{t.trial_ends_at:%d %b %Y}" if t.trial_ends_at else "",
            reason=t.suspension_reason,
            cycle_day=str(cycle_days.get(row_id(t), "")),
        )
        for t, domains in list_tenants(central)
    ]


@dataclass(frozen=True, slots=True)
class StatCard:
    """A figure on the reseller's overview."""

    label: str
    value: str


@dataclass(frozen=True, slots=True)
class WholesaleInvoiceRow:
    """A wholesale invoice as the reseller's overview lists it."""

    id: int
    number: str
    period: str
    total: str
    status: str
    due: str
    problem: str  # why the last charge failed ("" when none did)


def overview_cards(summary: ResellerSummary) -> list[StatCard]:
    """The overview's figures: customers, MRR, margin, revenue and workspace hours this month."""
    return [
        StatCard("Customers", str(summary.customers)),
        StatCard("MRR (retail)", summary.mrr.format()),
        StatCard("Your margin / month", summary.margin.format()),
        StatCard("Revenue this month", summary.revenue_this_month.format()),
        StatCard("Workspace hours this month", f"{summary.usage_hours_this_month.normalize():f}"),
    ]


def wholesale_invoice_rows(central: Session, *, tenant_id: int) -> list[WholesaleInvoiceRow]:
    """The reseller's wholesale invoices, as `list_wholesale_invoices` orders them."""
    return [
        WholesaleInvoiceRow(
            id=row_id(inv),
            number=inv.number,
            period=f"{inv.period_start:%d %b %Y} – {inv.period_end:%d %b %Y}",
            total=Money(inv.total_minor, inv.currency).format(),
            status=inv.status.value,
            due=f"{inv.due_on:%d %b %Y}" if inv.due_on else "",
            problem=inv.failure_message,
        )
        for inv in list_wholesale_invoices(central, tenant_id=tenant_id)
    ]


@dataclass(frozen=True, slots=True)
class UsageRow:
    """Hours and retail revenue of one customer or one workspace type."""

    name: str
    hours: str
    revenue: str


@dataclass(frozen=True, slots=True)
class PlanMarginRow:
    """A plan: its active services, prices per unit, and the margin (a month's, where it has one)."""

    plan: str
    active: str
    retail: str
    wholesale: str
    margin: str
    monthly: str


@dataclass(frozen=True, slots=True)
class UsageView:
    """A month of the reseller's usage statistics, as the usage page shows it."""

    hours: str
    revenue: str
    by_customer: list[UsageRow]
    by_type: list[UsageRow]
    plans: list[PlanMarginRow]


def usage_view(report: UsageMonth) -> UsageView:
    """The usage page's figures and tables for a month's report."""

    def fmt(minor: int) -> str:
        return Money(minor, report.currency).format()

    def rows(lines: list[UsageLine]) -> list[UsageRow]:
        return [UsageRow(u.label, f"{u.hours.normalize():f}", fmt(u.revenue_minor)) for u in lines]

    return UsageView(
        hours=f"{report.hours.normalize():f}",
        revenue=fmt(report.revenue_minor),
        by_customer=rows(report.by_customer),
        by_type=rows(report.by_type),
        plans=[
            PlanMarginRow(
                p.plan,
                str(p.active),
                p.retail,
                p.wholesale,
                p.margin,
                "—" if p.monthly_margin_minor is None else fmt(p.monthly_margin_minor),
            )
            for p in report.plans
        ],
    )
