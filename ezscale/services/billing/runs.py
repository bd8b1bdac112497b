"""Billing runs (called by Celery beat, one tenant at a time): renewals, usage, charging, dunning.

Each invoice is made in the same transaction as the marks that say "this is invoiced" (a
subscription's `invoiced_through`, a usage charge's `invoice_id`), so a run that is repeated, or
killed and restarted, bills everything exactly once. Renewals commit a batch of customers at a
time, re-reading the batch's subscriptions under lock; charging claims each invoice attempt
under the invoice's lock (`payments.charge_invoice`), by a bounded pool of workers
(`charge_pool`) so that a run keeps up with the gateways' rate. A per-tenant lease (`leases`) keeps a
second run of a kind from starting while one runs. Work is read in keyset pages, so memory stays
flat however many customers a tenant has.
"""

import logging
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped
from sqlmodel import Session, col, or_, select
from sqlmodel.sql.expression import SelectOfScalar

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
from ezscale.models.types import existing, row_id
from ezscale.services.billing import (
    charge_pool,
    credits,
    dunning,
    invoice_mail,
    invoices,
    leases,
    locks,
    payments,
)
from ezscale.services.billing.dunning import DunningReport
from ezscale.services.billing.profiles import ensure_profile
from ezscale.services.billing.proration import latest_anchor, period_end
from ezscale.services.billing.stripe_gateway import PaymentProviderUnavailable, StripeGateway
from ezscale.services.billing.subscriptions import period_line, roll_periods
from ezscale.services.billing.usage_charges import invoice_line
from ezscale.services.fx.currencies import tenant_currencies
from ezscale.services.fx.pricing import PlanPricing, plan_pricing
from ezscale.services.payments.gateway import GatewayUnavailable
from ezscale.services.tenancy.tenants import TenantInfo
from ezscale.settings import get_settings

log = logging.getLogger(__name__)
PAGE = 500
BATCH = 100  # customers per transaction: fewer commits, while a savepoint isolates each one


def _batched(ids: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


@dataclass
class RunReport:
    """What one billing run did, for the task result and the admin alerts."""

    invoices: int = 0
    issued: list[int] = field(default_factory=list)
    charged: int = 0
    failed: int = 0
    dunning: DunningReport = field(default_factory=DunningReport)
    skipped: bool = False  # another run of the kind held the tenant's lease


def _pages(session: Session, query: SelectOfScalar[Any], column: Mapped[Any]) -> Iterator[list[int]]:
    """Yield ids page by page (keyset on `column`, an integer column: NULLs never page in),
    never loading everything."""
    last = 0
    while True:
        ids = list(session.exec(query.where(column > last).order_by(column).limit(PAGE)))
        if not ids:
            return
        yield ids
        last = ids[-1]


def invoice_renewals(session: Session, *, beat: Callable[[], None] = lambda: None) -> list[int]:
    """One invoice per customer and period start, for every subscription due within the horizon.

    Each batch re-reads its customers' due subscriptions under lock: a page read earlier may be
    stale (another run may have invoiced them meanwhile, and their objects would then show the
    next period as due), so nothing is issued from it directly. `beat` renews the run's lease."""
    now = clock.now()
    horizon = now + timedelta(days=get_settings().renewal_days_ahead)
    due = (
        col(Subscription.status) != SubscriptionStatus.CANCELLED,
        col(Subscription.cancel_at_period_end).is_(False),
        col(Subscription.invoiced_through) <= horizon,
        # A free trial is invoiced when it ends, not ahead of it (cancelling in it costs nothing).
        or_(col(Subscription.trial_ends_at).is_(None), col(Subscription.trial_ends_at) <= now),
    )
    made: list[int] = []
    prices = _RunPrices(tenant_currencies(session).base)
    for user_ids in _pages(
        session, select(col(Subscription.user_id)).where(*due).distinct(), col(Subscription.user_id)
    ):
        # Held for the page, so the invoices below find customers and plans in the identity map.
        customers = session.exec(select(User).where(col(User.id).in_(user_ids))).all()
        plans = session.exec(select(Plan)).all()
        for chunk in _batched(user_ids, BATCH):
            try:
                subs = _lock_due(session, chunk, due)
                groups = {user_id: _groups(session, subs[user_id], prices) for user_id in chunk}
                count = sum(map(len, groups.values()))
                if count == 0:
                    session.commit()
                    continue
                # One block of numbers for the batch: used in full, or given back by the rollback.
                numbers = iter(invoices.take_numbers(session, invoices.SERIES[InvoiceKind.INVOICE], count))
                batch = _renew_batch(session, chunk, groups, numbers)
                session.commit()
                made += batch
            except IntegrityError:
                session.rollback()  # a concurrent writer got there first: redo one customer at a time
                made += _renew_one_by_one(session, chunk, due, prices)
            beat()
        del customers, plans
    return made


def _lock_due(
    session: Session, user_ids: list[int], due: tuple[ColumnElement[bool], ...]
) -> dict[int, list[Subscription]]:
    """The customers' due subscriptions, locked and read fresh."""
    locks.write_lock(session)
    subs: dict[int, list[Subscription]] = defaultdict(list)
    for sub in session.exec(
        select(Subscription)
        .where(col(Subscription.user_id).in_(user_ids), *due)
        .order_by(col(Subscription.id))
        .with_for_update()
        .execution_options(populate_existing=True)
    ):
        subs[sub.user_id].append(sub)
    return subs


def _renew_one_by_one(
    session: Session,
    user_ids: list[int],
    due: tuple[ColumnElement[bool], ...],
    prices: "_RunPrices",
) -> list[int]:
    made: list[int] = []
    for user_id in user_ids:
        try:
            subs = _lock_due(session, [user_id], due)[user_id]
            if subs:
                groups = {user_id: _groups(session, subs, prices)}
                made += _renew_batch(session, [user_id], groups, numbers=None)
            session.commit()
        except IntegrityError:
            session.rollback()
    return made


Priced = tuple[Subscription, Plan, PlanPricing]


@dataclass
class _RunPrices:
    """The plans' prices per currency for one renewal run (today's rate, looked up once)."""

    base: str
    prices: dict[tuple[int, str], PlanPricing] = field(default_factory=dict)

    def of(self, session: Session, plan: Plan, user: User) -> PlanPricing:
        currency = (user.currency or self.base).upper()
        price = self.prices.get((row_id(plan), currency))
        if price is None:
            price = self.prices[(row_id(plan), currency)] = plan_pricing(session, plan, currency=currency)
        return price


def _groups(session: Session, subs: list[Subscription], prices: _RunPrices) -> dict[tuple, list[Priced]]:
    """A customer's due subscriptions by (period start, currency): one invoice each, each plan
    priced in the customer's currency."""
    groups: dict[tuple, list[Priced]] = defaultdict(list)
    for sub in subs:
        plan = existing(session, Plan, sub.plan_id)
        price = prices.of(session, plan, existing(session, User, sub.user_id))
        groups[(sub.invoiced_through, price.currency)].append((sub, plan, price))
    return groups


def _renew_batch(
    session: Session, user_ids: list[int], groups: dict, numbers: Iterator[str] | None
) -> list[int]:
    """The renewal invoices of a batch of customers, written by a few multi-row statements: the
    drafts are inserted together (for their ids), then lines, totals and timeline rows together."""
    drafts = [
        (
            invoices.create_draft(
                session,
                user_id=user_id,
                currency=currency,
                billing_key=f"renewal:{user_id}:{start:%Y%m%d}:{currency}:{items[0][0].id}",
                flush=False,
                rates=items[0][2].rates,
            ),
            start,
            items,
        )
        for user_id in user_ids
        for (start, currency), items in groups[user_id].items()
    ]
    session.flush()
    for invoice, start, items in drafts:
        lines = []
        for sub, plan, price in items:
            end = period_end(start, plan.billing_interval)
            if sub.trial_ends_at == start and price.setup_fee_minor:  # the first invoice after a trial
                lines.append(
                    invoices.add_line(
                        session,
                        invoice,
                        description=f"{plan.name} setup",
                        unit_minor=price.setup_fee_minor,
                        service_id=sub.service_id,
                    )
                )
            lines.append(
                invoices.add_line(
                    session,
                    invoice,
                    description=period_line(plan, start, end),
                    unit_minor=price.price_minor,
                    service_id=sub.service_id,
                )
            )
            sub.invoiced_through = end
            session.add(sub)
        number = next(numbers) if numbers is not None else None
        invoices.issue(session, invoice, due_at=start, number=number, items=lines, flush=False)
    invoice_mail.queue(session, (invoice for invoice, _, _ in drafts))
    return [row_id(invoice) for invoice, _, _ in drafts]


def invoice_usage(session: Session) -> list[int]:
    """Monthly usage: on each customer's billing date, one invoice with every uninvoiced charge
    whose period ended by that date. Later charges wait for the next billing date."""
    now = clock.now()
    pending = select(col(UsageCharge.user_id)).where(col(UsageCharge.invoice_id).is_(None)).distinct()
    made: list[int] = []
    for user_ids in _pages(session, pending, col(UsageCharge.user_id)):
        for user_id in user_ids:
            billing_date = latest_anchor(now, ensure_profile(session, user_id=user_id).anchor_day)
            charges = list(
                session.exec(
                    select(UsageCharge)
                    .where(
                        col(UsageCharge.user_id) == user_id,
                        col(UsageCharge.invoice_id).is_(None),
                        col(UsageCharge.period_end) <= billing_date,
                    )
                    .order_by(col(UsageCharge.currency), col(UsageCharge.period_end), col(UsageCharge.id))
                )
            )
            by_currency: dict[str, list[UsageCharge]] = defaultdict(list)
            for charge in charges:
                by_currency[charge.currency].append(charge)
            for currency, group in by_currency.items():
                if not any(charge.amount_minor for charge in group):
                    continue  # nothing to pay: no numbered 0.00 invoice (a later one takes them)
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
                        line = invoice_line(charge)
                        invoices.add_line(
                            session,
                            invoice,
                            description=line.description,
                            quantity=line.quantity,
                            unit_minor=line.unit_minor,
                            amount_minor=line.amount_minor,
                            service_id=charge.service_id,
                        )
                        charge.invoice_id = invoice.id
                        session.add(charge)
                    invoices.issue(session, invoice)
                    invoice_mail.queue(session, [invoice])
                    session.commit()
                    made.append(row_id(invoice))
                except IntegrityError:
                    session.rollback()
    return made


def collect(
    session: Session,
    *,
    tenant: TenantInfo,
    gw: StripeGateway | None = None,
    beat: Callable[[], None] = lambda: None,
) -> tuple[int, int]:
    """First attempt on every due invoice (credit, then card), and resume interrupted attempts.

    Every invoice is re-checked under its lock (fresh rows) before credit is applied or a card
    is charged, so a concurrent run, Pay now or a redelivered task never makes it pay twice; an
    attempt another actor has in flight is left to it (counted as not paid here)."""
    now = clock.now()
    charged = failed = 0
    due_first = (
        col(Invoice.status) == InvoiceStatus.OPEN,
        col(Invoice.kind) == InvoiceKind.INVOICE,
        col(Invoice.attempt_count) == 0,
        col(Invoice.due_at) <= now,
    )
    interrupted = select(col(Payment.invoice_id)).where(
        col(Payment.status) == PaymentStatus.PENDING,
        col(Payment.invoice_id).is_not(None),
        col(Payment.updated_at) <= now - payments.ATTEMPT_LEASE,
    )
    for ids in _pages(session, interrupted, col(Payment.invoice_id)):
        for status in charge_pool.charge_each(session, ids, partial(_charge_status, tenant=tenant, gw=gw)):
            charged, failed = _tally(status, charged, failed)
        beat()
    for ids in _pages(session, select(col(Invoice.id)).where(*due_first), col(Invoice.id)):
        for chunk in _batched(ids, BATCH):
            # Credit first for the whole batch in one transaction; cards one by one after it.
            batch = locks.lock_invoices(session, col(Invoice.id).in_(chunk), *due_first)
            balances = credits.lock_and_balances(session, user_ids=[i.user_id for i in batch])
            for invoice in batch:
                if balances is None:
                    invoices.apply_credit(session, invoice)
                    continue
                key = (invoice.user_id, invoice.currency)
                balances[key] = balances.get(key, 0) - invoices.apply_credit(
                    session, invoice, available=balances.get(key, 0), flush=False
                )
            session.commit()
            # Cards in parallel (each worker its own session; the invoice lock keeps it once).
            to_charge = [row_id(invoice) for invoice in batch if invoice.status is InvoiceStatus.OPEN]
            statuses = dict(
                zip(
                    to_charge,
                    charge_pool.charge_each(
                        session, to_charge, partial(_charge_status, tenant=tenant, gw=gw, attempts_seen=0)
                    ),
                    strict=True,
                )
            )
            for invoice in batch:
                charged, failed = _tally(statuses.get(row_id(invoice), invoice.status), charged, failed)
            beat()
    return charged, failed


def _charge(
    session: Session, tenant: TenantInfo, invoice_id: int, gw: StripeGateway | None, attempts_seen: int | None
) -> Invoice:
    """One attempt on an invoice (see `payments.charge_invoice`); the invoice as it is after it."""
    invoice = existing(session, Invoice, invoice_id)
    try:
        payments.charge_invoice(session, tenant=tenant, invoice=invoice, gw=gw, attempts_seen=attempts_seen)
    except payments.PaymentInProgress:
        log.info("invoice %s: another actor's payment attempt is in flight", invoice.number)
    except (PaymentProviderUnavailable, GatewayUnavailable):
        # The attempt was released: the next run resumes it with its key. The others go on.
        log.warning("invoice %s: the payment provider is unavailable; left for the next run", invoice.number)
    return invoice


def _charge_status(
    session: Session,
    invoice_id: int,
    *,
    tenant: TenantInfo,
    gw: StripeGateway | None,
    attempts_seen: int | None = None,
) -> InvoiceStatus:
    """`_charge` in a worker's session: the invoice's status after the attempt."""
    return _charge(session, tenant, invoice_id, gw, attempts_seen).status


def _tally(status: InvoiceStatus, charged: int, failed: int) -> tuple[int, int]:
    return (charged + 1, failed) if status is InvoiceStatus.PAID else (charged, failed + 1)


def run_dunning(
    session: Session,
    *,
    tenant: TenantInfo,
    gw: StripeGateway | None = None,
    beat: Callable[[], None] = lambda: None,
) -> DunningReport:
    """Dunning steps of every open invoice, each read fresh (not from the run's earlier objects)."""
    report = DunningReport()
    open_invoices = select(Invoice.id).where(
        Invoice.status == InvoiceStatus.OPEN, Invoice.kind == InvoiceKind.INVOICE
    )
    for ids in _pages(session, open_invoices, col(Invoice.id)):
        for invoice_id in ids:
            invoice = existing(session, Invoice, invoice_id, populate_existing=True)
            if invoice.status is not InvoiceStatus.OPEN:
                continue
            dunning.step(
                session,
                invoice,
                report,
                lambda inv: _charge(session, tenant, row_id(inv), gw, inv.attempt_count),
            )
            session.commit()
        beat()
    return report


def daily_run(session: Session, *, tenant: TenantInfo, gw: StripeGateway | None = None) -> RunReport:
    """The whole daily cycle; safe to run again at any time. A second run while one is running
    (a redelivered task, a second beat, a cycle started by hand) exits at once (`skipped`)."""
    report = RunReport()
    with leases.held(session, name="daily") as lease:
        if lease is None:
            return RunReport(skipped=True)
        beat = partial(leases.renew, session, lease)
        roll_periods(session)
        report.issued = invoice_renewals(session, beat=beat)
        report.invoices = len(report.issued)
        report.charged, report.failed = collect(session, tenant=tenant, gw=gw, beat=beat)
        report.dunning = run_dunning(session, tenant=tenant, gw=gw, beat=beat)
    log.info(
        "billing run %s: %d invoices, %d paid, %d unpaid",
        tenant.slug,
        report.invoices,
        report.charged,
        report.failed,
    )
    return report


def usage_run(session: Session, *, tenant: TenantInfo, gw: StripeGateway | None = None) -> RunReport:
    """The monthly usage cycle (each customer on their billing date); safe to run daily, and
    like the daily run, one at a time per tenant."""
    with leases.held(session, name="usage") as lease:
        if lease is None:
            return RunReport(skipped=True)
        beat = partial(leases.renew, session, lease)
        issued = invoice_usage(session)
        report = RunReport(invoices=len(issued), issued=issued)
        report.charged, report.failed = collect(session, tenant=tenant, gw=gw, beat=beat)
    log.info(
        "usage run %s: %d invoices, %d paid, %d unpaid",
        tenant.slug,
        report.invoices,
        report.charged,
        report.failed,
    )
    return report
