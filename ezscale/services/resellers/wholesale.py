"""Wholesale billing: what EZSCALE invoices each reseller for a month, in the central database.

Only the billable days of a period are billed: from the later of the period's start, the day the
tenant was created and the end of its trial (a trial that ends after midnight makes that day free
too), to the period's end. A reseller created after the period, or still in its trial, gets no
invoice; suspension does not stop billing (its customers' services keep running).

A reseller's invoice for a period = the platform fee prorated by billable days
  + for every subscription active on billable days, the plan's wholesale monthly price prorated
    by those days (whole days: the start day counts, the cancellation day does not),
  + Kasm usage whose usage period ends on a billable day, at the plan's wholesale hourly rate,
with one line per customer service. One invoice per tenant and period (unique in the database),
so running a period again, or after a crash, creates nothing new. The invoice is due
`EZSCALE_WHOLESALE_DUE_DAYS` after issue; collecting it is `wholesale_dunning.py`.
"""

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import sqlalchemy as sa
from dateutil.relativedelta import relativedelta
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from ezscale import clock
from ezscale.db import central_session
from ezscale.errors import DomainError, NotFound
from ezscale.models.billing import UsageCharge
from ezscale.models.central import (
    Tenant,
    TenantBilling,
    TenantBranding,
    WholesaleInvoice,
    WholesaleInvoiceItem,
    WholesaleInvoiceStatus,
)
from ezscale.models.tenant import BillingInterval, Plan, Service, Subscription, User
from ezscale.models.types import existing, row_id
from ezscale.money import minor_digits, round_minor
from ezscale.services.accounts.sessions import AuthUser
from ezscale.services.core.audit import record_audit
from ezscale.services.core.pdf import Document, DocumentLine, render
from ezscale.services.tenancy.tenants import BrandingInfo, TenantInfo, active_tenants, tenant_session
from ezscale.settings import get_settings

_MONTHS = {
    BillingInterval.MONTHLY: 1,
    BillingInterval.QUARTERLY: 3,
    BillingInterval.ANNUAL: 12,
}


@dataclass(frozen=True)
class Line:
    """One line of a wholesale invoice."""

    description: str
    quantity: Decimal
    unit_minor: int
    amount_minor: int
    customer_email: str = ""
    service_id: int | None = None


@dataclass
class RunReport:
    """What a wholesale run did: invoices created, already there, and failures per tenant slug."""

    created: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)
    not_billable: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


def period_ending_by(cycle_day: int, on: date) -> tuple[date, date]:
    """The latest whole billing period [start, end) that has ended by `on`."""
    end = on.replace(day=cycle_day)
    if end > on:
        end -= relativedelta(months=1)
    return end - relativedelta(months=1), end


def _at(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def billable_from(tenant: Tenant, start: date) -> date:
    """The first billable day on or after `start`: not before the tenant existed, nor in its trial."""
    first = max(start, tenant.created_at.date())
    if tenant.trial_ends_at is not None:
        trial_end = tenant.trial_ends_at
        first = max(first, trial_end.date() + timedelta(days=1 if trial_end.timetz() != time.min else 0))
    return first


def _days_active(sub: Subscription, start: date, end: date) -> int:
    first = max(start, sub.created_at.date())
    last = min(end, sub.cancelled_at.date()) if sub.cancelled_at else end
    return max(0, (last - first).days)


def subscription_lines(db: Session, *, start: date, end: date, currency: str, period_days: int) -> list[Line]:
    """Lines for every fixed-price subscription active in [start, end), prorated by its days active
    there out of the billing period's `period_days`."""
    rows = db.exec(
        select(Subscription, Plan, User)
        .join(Plan, col(Plan.id) == col(Subscription.plan_id))
        .join(User, col(User.id) == col(Subscription.user_id))
        .where(
            col(Subscription.created_at) < _at(end),
            (col(Subscription.cancelled_at).is_(None)) | (col(Subscription.cancelled_at) > _at(start)),
            col(Plan.billing_interval) != BillingInterval.HOURLY,
        )
        .order_by(col(Subscription.id))
    ).all()
    lines = []
    for sub, plan, user in rows:
        days = _days_active(sub, start, end)
        if days == 0 or not plan.wholesale_price_minor:
            continue
        monthly = Decimal(plan.wholesale_price_minor) / _MONTHS[plan.billing_interval]
        amount = round_minor(monthly.scaleb(-minor_digits(currency)) * days / period_days, currency)
        lines.append(
            Line(
                description=f"{plan.name} for {user.email}: {days} of {period_days} days",
                quantity=Decimal(days),
                unit_minor=round_minor(monthly.scaleb(-minor_digits(currency)) / period_days, currency),
                amount_minor=amount,
                customer_email=user.email,
                service_id=sub.service_id,
            )
        )
    return lines


def usage_lines(db: Session, *, start: date, end: date, currency: str) -> list[Line]:
    """Lines for the Kasm usage whose usage period ends in the period, at the wholesale hourly rate."""
    rows = db.exec(
        select(UsageCharge, Plan, User)
        .join(Service, col(Service.id) == col(UsageCharge.service_id))
        .join(Plan, col(Plan.id) == col(Service.plan_id))
        .join(User, col(User.id) == col(UsageCharge.user_id))
        .where(col(UsageCharge.period_end) > _at(start), col(UsageCharge.period_end) <= _at(end))
        .order_by(col(UsageCharge.service_id), col(UsageCharge.id))
    ).all()
    hours: dict[int, Decimal] = {}
    meta: dict[int, tuple[Plan, User]] = {}
    for charge, plan, user in rows:
        service_id = charge.service_id
        assert service_id is not None, "joined to its service above"
        hours[service_id] = hours.get(service_id, Decimal(0)) + charge.quantity
        meta[service_id] = (plan, user)
    lines = []
    for service_id, total in hours.items():
        plan, user = meta[service_id]
        rate = plan.wholesale_hourly_rate or Decimal(0)
        lines.append(
            Line(
                description=f"{plan.name} usage for {user.email}: {total.normalize():f} h",
                quantity=total,
                unit_minor=round_minor(rate, currency),
                amount_minor=round_minor(total * rate, currency),
                customer_email=user.email,
                service_id=service_id,
            )
        )
    return lines


def invoice_number(tenant_id: int, start: date) -> str:
    """The wholesale invoice number of a tenant and month, e.g. W202611-00042."""
    return f"W{start:%Y%m}-{tenant_id:05d}"


def _find(central: Session, tenant_id: int, start: date) -> WholesaleInvoice | None:
    return central.exec(
        select(WholesaleInvoice).where(
            WholesaleInvoice.tenant_id == tenant_id, WholesaleInvoice.period_start == start
        )
    ).first()


def _fee_line(billing: TenantBilling, start: date, end: date, first: date) -> Line:
    """The platform fee, prorated by billable days when the period is not billable throughout."""
    period_days, days = (end - start).days, (end - first).days
    amount = billing.monthly_fee_minor
    description = f"Platform fee ({billing.tier}), {start:%d %b %Y} – {end:%d %b %Y}"
    if days < period_days:
        amount = round_minor(
            Decimal(amount).scaleb(-minor_digits(billing.currency)) * days / period_days, billing.currency
        )
        description = (
            f"Platform fee ({billing.tier}), {first:%d %b %Y} – {end:%d %b %Y}: {days} of {period_days} days"
        )
    return Line(description=description, quantity=Decimal(1), unit_minor=amount, amount_minor=amount)


def bill_tenant(*, tenant_id: int, start: date, end: date) -> tuple[WholesaleInvoice | None, bool]:
    """Issue the tenant's wholesale invoice for [start, end); returns (invoice, created), and
    (None, False) when the period has no billable day for this tenant."""
    with central_session() as central:
        found = _find(central, tenant_id, start)
        if found is not None:
            return found, False
        tenant = existing(central, Tenant, tenant_id)
        first = billable_from(tenant, start)
        if first >= end:
            return None, False
        billing = central.exec(select(TenantBilling).where(TenantBilling.tenant_id == tenant_id)).one()
        currency = billing.currency
        lines = [_fee_line(billing, start, end, first)]
        period_days = (end - start).days
        with tenant_session(TenantInfo.of(tenant)) as db:
            lines += subscription_lines(db, start=first, end=end, currency=currency, period_days=period_days)
            lines += usage_lines(db, start=first, end=end, currency=currency)
        total = sum(line.amount_minor for line in lines)
        now = clock.now()
        invoice = WholesaleInvoice(
            tenant_id=tenant_id,
            number=invoice_number(tenant_id, start),
            period_start=start,
            period_end=end,
            status=WholesaleInvoiceStatus.OPEN,
            currency=currency,
            subtotal_minor=total,
            total_minor=total,
            issued_at=now,
            created_at=now,
            due_on=now.date() + timedelta(days=get_settings().wholesale_due_days),
        )
        invoice.next_attempt_on = invoice.due_on
        try:
            central.add(invoice)
            central.flush()
            central.execute(sa.insert(WholesaleInvoiceItem), _items(row_id(invoice), lines))
            central.commit()
        except IntegrityError:  # a concurrent run issued it first
            central.rollback()
            concurrent = _find(central, tenant_id, start)
            assert concurrent is not None
            return concurrent, False
        return invoice, True


def _items(invoice_id: int, lines: Iterable[Line]) -> list[dict]:
    """Rows for one bulk insert (an invoice can have thousands of lines)."""
    return [
        {
            "invoice_id": invoice_id,
            "customer_email": line.customer_email,
            "service_id": line.service_id,
            "description": line.description[:300],
            "quantity": line.quantity,
            "unit_minor": line.unit_minor,
            "amount_minor": line.amount_minor,
        }
        for line in lines
    ]


def run_wholesale_billing(*, on: date, max_workers: int = 4) -> RunReport:
    """Bill every reseller whose latest period has ended by `on`, `max_workers` at a time."""
    with central_session() as central:
        cycle_days = billing_cycle_days(central)
        rows = [
            (tenant.id, tenant.slug, cycle_days[tenant.id])
            for tenant in active_tenants(central, include_suspended=True)
            if not tenant.is_house
        ]
    report = RunReport()

    def bill(row: tuple[int, str, int]) -> None:
        tenant_id, slug, cycle_day = row
        start, end = period_ending_by(cycle_day, on)
        try:
            invoice, created = bill_tenant(tenant_id=tenant_id, start=start, end=end)
        except Exception as error:  # one reseller's failure must not stop the others
            report.failed[slug] = f"{error.__class__.__name__}: {error}"
            return
        if invoice is None:
            report.not_billable.append(slug)
        else:
            (report.created if created else report.existing).append(slug)

    with ThreadPoolExecutor(max_workers=max_workers) as pool:
        list(pool.map(bill, rows))
    return report


def billing_cycle_days(central: Session) -> dict[int, int]:
    """Each reseller's billing cycle day (1–28), by tenant id."""
    return dict(central.exec(select(TenantBilling.tenant_id, TenantBilling.billing_cycle_day)).all())


def set_billing_cycle_day(central: Session, *, actor: AuthUser, slug: str, day: int, ip: str = "") -> None:
    """The admin moves a reseller's billing day (1–28; periods end on that day). Audited."""
    if not actor.is_admin:
        raise DomainError("Only platform admins set a reseller's billing day.")
    if not 1 <= day <= 28:
        raise DomainError("The billing day is a day of the month from 1 to 28.")
    tenant = central.exec(select(Tenant).where(Tenant.slug == slug)).first()
    if tenant is None or tenant.is_house:
        raise NotFound("No such reseller.")
    billing = central.exec(select(TenantBilling).where(TenantBilling.tenant_id == tenant.id)).one()
    before = billing.billing_cycle_day
    billing.billing_cycle_day = day
    central.add(billing)
    record_audit(
        session=central,
        actor=actor,
        action="reseller.billing_day",
        target=f"tenant:{slug}",
        before={"day": before},
        after={"day": day},
        ip=ip,
    )
    central.commit()


def list_wholesale_invoices(central: Session, *, tenant_id: int) -> list[WholesaleInvoice]:
    """The tenant's wholesale invoices, newest period first."""
    return list(
        central.exec(
            select(WholesaleInvoice)
            .where(col(WholesaleInvoice.tenant_id) == tenant_id)
            .order_by(col(WholesaleInvoice.period_start).desc())
        ).all()
    )


def invoice_items(central: Session, *, invoice_id: int) -> list[WholesaleInvoiceItem]:
    """The lines of one wholesale invoice."""
    return list(
        central.exec(
            select(WholesaleInvoiceItem)
            .where(col(WholesaleInvoiceItem.invoice_id) == invoice_id)
            .order_by(col(WholesaleInvoiceItem.id))
        ).all()
    )


def _platform_branding(central: Session) -> BrandingInfo:
    """EZSCALE's own brand (the house tenant's), which its invoices to resellers carry."""
    row = central.exec(
        select(TenantBranding)
        .join(Tenant, col(Tenant.id) == col(TenantBranding.tenant_id))
        .where(col(Tenant.is_house))
    ).first()
    settings = get_settings()
    return (
        BrandingInfo.of(row)
        if row
        else BrandingInfo(settings.platform_name, "#2563EB", "#0F172A", None, None, None)
    )


def wholesale_pdf(central: Session, *, tenant_id: int, invoice_id: int) -> tuple[str, bytes]:
    """The invoice as PDF, for its own reseller only."""
    invoice = central.get(WholesaleInvoice, invoice_id)
    if invoice is None or invoice.tenant_id != tenant_id:
        raise NotFound("No such invoice.")
    tenant = existing(central, Tenant, tenant_id)
    totals = [("Total", invoice.total_minor, True)]
    if invoice.status is WholesaleInvoiceStatus.PAID:
        totals += [("Paid by card", -invoice.total_minor, False), ("Amount due", 0, True)]
    doc = Document(
        title="Wholesale invoice",
        number=invoice.number,
        dates=f"Period {invoice.period_start:%Y-%m-%d} – {invoice.period_end:%Y-%m-%d}   "
        f"Issued {invoice.issued_at:%Y-%m-%d}",
        status=invoice.status.value,
        currency=invoice.currency,
        bill_to=f"{tenant.name}\n{tenant.owner_email}",
        lines=[
            DocumentLine(i.description, i.quantity, i.unit_minor, i.amount_minor)
            for i in invoice_items(central, invoice_id=row_id(invoice))
        ],
        totals=totals,
    )
    return f"{invoice.number}.pdf", render(doc, branding=_platform_branding(central))
