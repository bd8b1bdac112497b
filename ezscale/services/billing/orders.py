"""Ordering a recurring plan from the storefront: the quote, the order and its first payment.

The quote and the order's first invoice come from the same computation
(`subscriptions.first_charge`, then the customer's tax), so what the order page shows is what is
invoiced. A plan with a free trial the customer has not had (`trials`) quotes nothing due today
and starts its service at once; the billing run invoices it at the trial's end. Hourly
(workspace) plans are not ordered here: they are started on the workspaces page.
"""

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from ezscale import clock
from ezscale.errors import NotFound
from ezscale.models.tenant import (
    Invoice,
    InvoiceItem,
    InvoiceStatus,
    Plan,
    Service,
    ServiceStatus,
    User,
)
from ezscale.models.types import existing, row_id
from ezscale.money import Money
from ezscale.services.billing import credits, invoices, payments, subscriptions, timeline, trials
from ezscale.services.billing.profiles import current_anchor_day
from ezscale.services.billing.stripe_gateway import PaymentProviderUnavailable, StripeGateway
from ezscale.services.billing.tax import tax_for, tax_minor
from ezscale.services.catalogue.storefront import kind_label, price_label, trial_label
from ezscale.services.tenancy.tenants import TenantInfo

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Quote:
    """What ordering a plan now costs, in minor units of `currency`."""

    plan_code: str
    plan_name: str
    description: str
    kind: str
    interval: str
    recurring: str
    currency: str
    setup_minor: int
    period_start: datetime
    period_end: datetime
    period_minor: int
    tax_label: str
    tax_minor: int
    total_minor: int
    credit_minor: int
    trial_days: int = 0  # a free trial: nothing is due today, the first invoice comes at its end
    trial: str = ""  # "14-day free trial, then €9.00/mo; card required"
    setup_later_minor: int = 0  # a trial's setup fee, on the first invoice at the trial's end

    @property
    def due_now_minor(self) -> int:
        """What is left for the card after account credit."""
        return self.total_minor - self.credit_minor

    def trial_note(self) -> str:
        """What a free trial charges, and when ("" without one)."""
        if not self.trial_days:
            return ""
        setup_fee = Money(self.setup_later_minor, self.currency).format()
        setup = f" plus the {setup_fee} setup fee" if self.setup_later_minor else ""
        return (
            f"Nothing is charged today. Your saved payment method is charged {self.recurring}{setup} "
            f"on {self.period_end:%Y-%m-%d} unless you cancel before then."
        )


@dataclass(frozen=True, slots=True)
class PlacedOrder:
    """An order's invoice (None for a free trial: nothing is invoiced yet) and its service."""

    invoice: Invoice | None
    service: Service

    @property
    def paid(self) -> bool:
        """Whether nothing is left to pay: the invoice is paid (by credit or card), or a trial."""
        return self.invoice is None or self.invoice.status is InvoiceStatus.PAID

    @property
    def trial(self) -> bool:
        """Whether the order started a free trial."""
        return self.invoice is None


def _plan(session: Session, plan_code: str) -> Plan:
    """An active, recurring plan of this tenant by code."""
    plan_id = session.exec(select(Plan.id).where(Plan.code == (plan_code or "").strip())).first()
    if plan_id is None:
        raise NotFound("No such plan.")
    return subscriptions.orderable_plan(session, plan_id)


def _provisioning_code(session: Session, plan_code: str) -> str:
    """The code whose panel delivers `plan_code` (a reseller's own plan resells a house plan),
    read in a transaction that ends before the stock check asks the panel."""
    plan = session.exec(select(Plan).where(Plan.code == (plan_code or "").strip())).first()
    code = plan.provisioning_code if plan is not None else (plan_code or "").strip()
    session.rollback()
    return code


def _customer(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None or not user.is_active:
        raise NotFound("No such customer.")
    return user


def quote(session: Session, *, user_id: int, plan_code: str) -> Quote:
    """The first invoice ordering `plan_code` now would make for this customer (nothing is written).
    A plan its panel has no room for is refused here (out of stock), before any invoice."""
    from ezscale.services.provisioning.stock import require_in_stock

    require_in_stock(_provisioning_code(session, plan_code))
    plan = _plan(session, plan_code)
    user = _customer(session, user_id)
    price = subscriptions.customer_pricing(session, user_id=user_id, plan=plan)
    currency = price.currency
    first = subscriptions.first_charge(
        plan, price, anchor_day=current_anchor_day(session, user_id=user_id), now=clock.now()
    )
    decision = tax_for(session, user)
    recurring = price_label(plan, price)
    if trials.trial_available(session, user_id=user_id, plan=plan):
        now = clock.now()
        return Quote(
            plan_code=plan.code,
            plan_name=plan.name,
            description=plan.description,
            kind=kind_label(plan),
            interval=plan.billing_interval.value.title(),
            recurring=recurring,
            currency=currency,
            setup_minor=0,
            period_start=now,
            period_end=trials.trial_end(plan, now=now),
            period_minor=0,
            tax_label=decision.label,
            tax_minor=0,
            total_minor=0,
            credit_minor=0,
            trial_days=plan.trial_days,
            trial=trial_label(plan, recurring),
            setup_later_minor=price.setup_fee_minor,
        )
    tax = tax_minor(first.subtotal_minor, decision.rate_percent, currency)
    total = first.subtotal_minor + tax
    balance = credits.balance_minor(session, user_id=user_id, currency=currency)
    return Quote(
        plan_code=plan.code,
        plan_name=plan.name,
        description=plan.description,
        kind=kind_label(plan),
        interval=plan.billing_interval.value.title(),
        recurring=recurring,
        currency=currency,
        setup_minor=first.setup_minor,
        period_start=first.start,
        period_end=first.end,
        period_minor=first.period_minor,
        tax_label=decision.label,
        tax_minor=tax,
        total_minor=total,
        credit_minor=min(max(balance, 0), total),
    )


def place_order(
    session: Session, *, tenant: TenantInfo, user_id: int, plan_code: str, gw: StripeGateway | None = None
) -> PlacedOrder:
    """Order a plan: subscription, service and issued first invoice (`subscriptions.subscribe`),
    paid from account credit and then the default card, if the customer has one.

    Without enough credit and no card the invoice stays open and the service pending; a card
    that is declined or cannot be reached leaves the invoice to dunning and the billing run. A
    plan its panel has no room for is refused (out of stock) before any invoice or charge."""
    from ezscale.services.provisioning.stock import require_in_stock

    require_in_stock(_provisioning_code(session, plan_code))
    plan = _plan(session, plan_code)
    _customer(session, user_id)
    if trials.trial_available(session, user_id=user_id, plan=plan):
        trials.require_payment_method(session, user_id=user_id)
        trial = trials.start_trial(session, user_id=user_id, plan=plan)
        if trial is not None:
            service = existing(session, Service, trial.service_id)
            _start_service(session, service, invoice=None)
            session.commit()
            return PlacedOrder(invoice=None, service=service)
        plan = _plan(session, plan_code)  # the trial went to a concurrent order: a paid order
    sub, invoice = subscriptions.subscribe(session, user_id=user_id, plan_id=row_id(plan))
    if invoice.status is InvoiceStatus.OPEN:
        invoices.apply_credit(session, invoice)
        session.commit()
    if invoices.amount_due(invoice) and payments.default_card(session, user_id=user_id) is not None:
        try:
            payments.charge_invoice(session, tenant=tenant, invoice=invoice, gw=gw)
        except PaymentProviderUnavailable:
            session.rollback()
            log.warning("order %s: card not charged, provider unavailable", invoice.number)
    return PlacedOrder(invoice=invoice, service=existing(session, Service, sub.service_id))


def activate_paid_services(session: Session, invoice: Invoice) -> None:
    """A paid order invoice starts the services it ordered that are still pending.

    A plan mapped to a panel gets a provisioning job (sent to the worker after the commit; the
    service goes provisioning → active or failed); any other plan is active at once. Either way
    the customer's timeline says so."""
    from ezscale.services.provisioning.lifecycle import follow_plan

    for service_id in {i.service_id for i in invoices.lines(session, invoice) if i.service_id}:
        follow_plan(session, service_id=service_id)  # a paid plan change reaches the panel
    if not (invoice.billing_key or "").startswith(subscriptions.ORDER_KEY_PREFIX):
        return
    pending = session.exec(
        select(Service)
        .join(InvoiceItem, col(InvoiceItem.service_id) == col(Service.id))
        .where(col(InvoiceItem.invoice_id) == invoice.id, col(Service.status) == ServiceStatus.PENDING)
        .distinct()
    ).all()
    for service in pending:
        _start_service(session, service, invoice=invoice)


def _start_service(session: Session, service: Service, *, invoice: Invoice | None) -> None:
    """Start a pending service (not committed): a provisioning job for a plan mapped to a panel,
    else active at once; paid by `invoice`, or a free trial (None)."""
    from ezscale.services.provisioning.jobs import enqueue_provisioning
    from ezscale.services.provisioning.registry import is_provisioned

    paid = invoice.number if invoice is not None else ""
    invoice_id = invoice.id if invoice is not None else None
    plan = existing(session, Plan, service.plan_id)
    if is_provisioned(plan.provisioning_code):
        enqueue_provisioning(session, service=service)
        timeline.record(
            session,
            user_id=service.user_id,
            invoice_id=invoice_id,
            kind="service_provisioning",
            message=f"{service.label} (service #{service.id}) being set up: "
            + (f"{paid} paid" if paid else "free trial"),
        )
        return
    service.status, service.status_reason = ServiceStatus.ACTIVE, ""
    session.add(service)
    timeline.record(
        session,
        user_id=service.user_id,
        invoice_id=invoice_id,
        kind="service_activated",
        message=f"{service.label} (service #{service.id}) active: "
        + (f"invoice {paid} paid" if paid else "free trial"),
    )
