"""Billing runs (called by Celery beat, one tenant at a time): renewals, usage, charging, dunning.

Each customer's invoice is made in its own transaction together with the marks that say "this is
invoiced" (a subscription's `invoiced_through`, a usage charge's `invoice_id`), so a run that is
repeated, or killed and restarted, bills everything exactly once. Work is read in keyset pages,
so memory stays flat however many customers a tenant has.
"""

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from ezscale import clock
from ezscale.models.billing import Payment, PaymentStatus, UsageCharge
from ezscale.models.tenant import (
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    Plan,
    Subscription,
    SubscriptionStatus,
    User,
)
from ezscale.money import round_minor
from ezscale.services.billing import dunning, invoices, payments
from ezscale.services.billing.dunning import DunningReport
from ezscale.services.billing.profiles import ensure_profile
from ezscale.services.billing.proration import latest_anchor, period_end
from ezscale.services.billing.stripe_gateway import StripeGateway
from ezscale.services.billing.subscriptions import roll_periods
from ezscale.services.tenancy import TenantInfo
from ezscale.settings import get_settings

log = logging.getLogger(__name__)
PAGE = 500


@dataclass
class RunReport:
    invoices: int = 0
    issued: list[int] = field(default_factory=list)
    charged: int = 0
    failed: int = 0
    dunning: DunningReport = field(default_factory=DunningReport)


def _pages(session: Session, query, column):
    """Yield ids page by page (keyset on `column`), never loading everything."""
    last = 0
    while True:
        ids = list(session.exec(query.where(column > last).order_by(column).limit(PAGE)))
        if not ids:
            return
        yield ids
        last = ids[-1]


def invoice_renewals(session: Session) -> list[int]:
    """One invoice per customer and period start, for every subscription due within the horizon."""
    horizon = clock.now() + timedelta(days=get_settings().renewal_days_ahead)
    due = (
        Subscription.status != SubscriptionStatus.CANCELLED,
        Subscription.cancel_at_period_end.is_(False),
        Subscription.invoiced_through <= horizon,
    )
    made: list[int] = []
    for user_ids in _pages(
        session, select(Subscription.user_id).where(*due).distinct(), Subscription.user_id
    ):
        subs: dict[int, list[Subscription]] = defaultdict(list)
        for sub in session.exec(
            select(Subscription).where(Subscription.user_id.in_(user_ids), *due).order_by(Subscription.id)
        ):
            subs[sub.user_id].append(sub)
        # Held for the page, so the invoices below find their customer in the identity map.
        customers = session.exec(select(User).where(User.id.in_(user_ids))).all()
        for user_id in user_ids:
            made += _renew_customer(session, user_id, subs[user_id])
        del customers
    return made


def _renew_customer(session: Session, user_id: int, subs: list[Subscription]) -> list[int]:
    groups: dict[tuple, list[tuple[Subscription, Plan]]] = defaultdict(list)
    for sub in subs:
        plan = session.get(Plan, sub.plan_id)
        groups[(sub.invoiced_through, plan.currency)].append((sub, plan))
    made: list[int] = []
    for (start, currency), items in groups.items():
        key = f"renewal:{user_id}:{start:%Y%m%d}:{currency}:{items[0][0].id}"
        try:
            invoice = invoices.create_draft(session, user_id=user_id, currency=currency, billing_key=key)
            for sub, plan in items:
                end = period_end(start, plan.billing_interval)
                invoices.add_line(
                    session,
                    invoice,
                    description=f"{plan.name} {start:%Y-%m-%d} – {end:%Y-%m-%d}",
                    unit_minor=plan.price_minor,
                    service_id=sub.service_id,
                )
                sub.invoiced_through = end
                session.add(sub)
            invoices.issue(session, invoice, due_at=start)
            session.commit()
            made.append(invoice.id)
        except IntegrityError:
            session.rollback()  # a concurrent run invoiced this group first
    return made


def invoice_usage(session: Session) -> list[int]:
    """Monthly usage: on each customer's billing date, one invoice with every uninvoiced charge
    whose period ended by that date. Later charges wait for the next billing date."""
    now = clock.now()
    pending = select(UsageCharge.user_id).where(UsageCharge.invoice_id.is_(None)).distinct()
    made: list[int] = []
    for user_ids in _pages(session, pending, UsageCharge.user_id):
        for user_id in user_ids:
            billing_date = latest_anchor(now, ensure_profile(session, user_id=user_id).anchor_day)
            charges = list(
                session.exec(
                    select(UsageCharge)
                    .where(
                        UsageCharge.user_id == user_id,
                        UsageCharge.invoice_id.is_(None),
                        UsageCharge.period_end <= billing_date,
                    )
                    .order_by(UsageCharge.currency, UsageCharge.period_end, UsageCharge.id)
                )
            )
            by_currency: dict[str, list[UsageCharge]] = defaultdict(list)
            for charge in charges:
                by_currency[charge.currency].append(charge)
            for currency, group in by_currency.items():
                key = f"usage:{user_id}:{billing_date:%Y%m%d}:{currency}"
                if session.exec(select(Invoice.id).where(Invoice.billing_key == key)).first() is not None:
                    continue
                try:
                    invoice = invoices.create_draft(
                        session,
                        user_id=user_id,
                        currency=currency,
                        billing_key=key,
                        memo=f"Usage to {billing_date:%Y-%m-%d}",
                    )
                    for charge in group:
                        invoices.add_line(
                            session,
                            invoice,
                            description=charge.description,
                            quantity=charge.quantity.quantize(Decimal("0.0001")),
                            unit_minor=round_minor(charge.unit_rate, currency),
                            amount_minor=charge.amount_minor,
                            service_id=charge.service_id,
                        )
                        charge.invoice_id = invoice.id
                        session.add(charge)
                    invoices.issue(session, invoice)
                    session.commit()
                    made.append(invoice.id)
                except IntegrityError:
                    session.rollback()
    return made


def collect(session: Session, *, tenant: TenantInfo, gw: StripeGateway | None = None) -> tuple[int, int]:
    """First attempt on every due invoice (credit, then card), and resume interrupted attempts."""
    now = clock.now()
    charged = failed = 0
    first = select(Invoice.id).where(
        Invoice.status == InvoiceStatus.OPEN,
        Invoice.kind == InvoiceKind.INVOICE,
        Invoice.attempt_count == 0,
        Invoice.due_at <= now,
    )
    interrupted = select(Payment.invoice_id).where(
        Payment.status == PaymentStatus.PENDING, Payment.invoice_id.is_not(None)
    )
    for query, column in ((interrupted, Payment.invoice_id), (first, Invoice.id)):
        for ids in _pages(session, query, column):
            for invoice_id in ids:
                invoice = session.get(Invoice, invoice_id)
                payments.charge_invoice(session, tenant=tenant, invoice=invoice, gw=gw)
                if invoice.status is InvoiceStatus.PAID:
                    charged += 1
                else:
                    failed += 1
    return charged, failed


def run_dunning(session: Session, *, tenant: TenantInfo, gw: StripeGateway | None = None) -> DunningReport:
    report = DunningReport()
    open_invoices = select(Invoice.id).where(
        Invoice.status == InvoiceStatus.OPEN, Invoice.kind == InvoiceKind.INVOICE
    )
    for ids in _pages(session, open_invoices, Invoice.id):
        for invoice_id in ids:
            invoice = session.get(Invoice, invoice_id)
            dunning.step(
                session,
                invoice,
                report,
                lambda inv: payments.charge_invoice(session, tenant=tenant, invoice=inv, gw=gw),
            )
            session.commit()
    return report


def daily_run(session: Session, *, tenant: TenantInfo, gw: StripeGateway | None = None) -> RunReport:
    """The whole daily cycle; safe to run again at any time."""
    report = RunReport()
    roll_periods(session)
    report.issued = invoice_renewals(session)
    report.invoices = len(report.issued)
    report.charged, report.failed = collect(session, tenant=tenant, gw=gw)
    report.dunning = run_dunning(session, tenant=tenant, gw=gw)
    log.info(
        "billing run %s: %d invoices, %d paid, %d unpaid",
        tenant.slug,
        report.invoices,
        report.charged,
        report.failed,
    )
    return report


def usage_run(session: Session, *, tenant: TenantInfo, gw: StripeGateway | None = None) -> RunReport:
    """The monthly usage cycle (each customer on their billing date); safe to run daily."""
    issued = invoice_usage(session)
    report = RunReport(invoices=len(issued), issued=issued)
    report.charged, report.failed = collect(session, tenant=tenant, gw=gw)
    log.info(
        "usage run %s: %d invoices, %d paid, %d unpaid",
        tenant.slug,
        report.invoices,
        report.charged,
        report.failed,
    )
    return report
