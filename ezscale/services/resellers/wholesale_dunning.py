"""Collecting wholesale invoices: notices to the owner, the card on the due date, retries, and
suspension of an unpaid storefront (its customers' services keep running) until it is paid.

One daily pass (`collect`) walks every open invoice:
  - issued: the owner is mailed the invoice with a link to its PDF, once;
  - `EZSCALE_WHOLESALE_REMINDER_DAYS` before the due date: a reminder, once;
  - on the due date, and `EZSCALE_WHOLESALE_RETRY_DAYS` after it: the saved card is charged
    (each attempt has its own idempotency key, so a repeated pass is the same charge);
  - a failed or impossible charge on or after the due date: the reseller's billing goes
    `past_due` and the owner is told, once;
  - `EZSCALE_WHOLESALE_GRACE_DAYS` after the due date: the tenant is suspended ("unpaid");
  - paid (by the card, or the owner's "Pay now"): `reinstate` lifts that suspension and the
    `past_due` state once nothing is overdue.
Every step is an audit row on the reseller's own trail (actor "wholesale billing"). Each invoice
is claimed under a row lock, so two passes at once do each step once.
"""

import logging
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlmodel import Session, col, select

from ezscale import clock, routes
from ezscale.db import central_session
from ezscale.errors import DomainError
from ezscale.models.central import (
    Tenant,
    TenantBilling,
    TenantBillingStatus,
    TenantStatus,
    WholesaleInvoice,
    WholesaleInvoiceStatus,
)
from ezscale.models.types import existing, pk, row_id
from ezscale.money import Money
from ezscale.services.billing.locks import lock_held, lock_row
from ezscale.services.billing.stripe_gateway import StripeGateway
from ezscale.services.core.audit import record_audit
from ezscale.services.core.mail import send_mail, tenant_base_url
from ezscale.services.resellers.wholesale_payments import UNPAID, billing_actor, charge_invoice, reinstate
from ezscale.services.tenancy.tenants import TenantInfo
from ezscale.settings import get_settings

log = logging.getLogger(__name__)


@dataclass
class CollectionReport:
    """What one pass did, by invoice number."""

    mailed: list[str] = field(default_factory=list)
    charged: dict[str, str] = field(default_factory=dict)
    suspended: list[str] = field(default_factory=list)


def retry_days() -> list[int]:
    """Days after the due date on which the card is tried again, ascending."""
    return sorted(int(d) for d in get_settings().wholesale_retry_days.split(",") if d.strip())


def _audit(central: Session, tenant: Tenant, action: str, invoice: WholesaleInvoice, **after: object) -> None:
    record_audit(
        session=central,
        actor=billing_actor(tenant),
        action=action,
        target=f"invoice:{invoice.number}",
        after={"tenant": tenant.slug, **after},
    )


def _billing_url(tenant: Tenant) -> str:
    """The reseller dashboard, where wholesale invoices are listed, downloaded and paid."""
    return tenant_base_url(TenantInfo.of(tenant)) + routes.RESELLER


def _mail(tenant: Tenant, invoice: WholesaleInvoice, kind: str, subject: str, body: str) -> None:
    """A platform mail to the owner about one invoice."""
    amount = Money(invoice.total_minor, invoice.currency).format()
    send_mail(
        tenant=None,
        to=tenant.owner_email,
        subject=subject,
        text=(
            f"Hello {tenant.owner_name or tenant.name},\n\n{body}\n\n"
            f"Invoice {invoice.number}, {invoice.period_start:%d %b %Y} – {invoice.period_end:%d %b %Y}: "
            f"{amount}, due {invoice.due_on:%d %B %Y}.\n"
            f"View it, download the PDF and pay: {_billing_url(tenant)}\n"
        ),
        kind=kind,
    )


_SENT_AT = {"issued": "issued_mail_at", "reminder": "reminder_mail_at", "overdue": "overdue_mail_at"}


def _claim_notice(invoice: WholesaleInvoice, notice: str) -> str | None:
    """`notice` when it has not gone out for this invoice yet, marking it sent (in the caller's
    transaction, which commits before the mail is written: at most once); else None."""
    if getattr(invoice, _SENT_AT[notice]) is not None:
        return None
    setattr(invoice, _SENT_AT[notice], clock.now())
    return notice


_NOTICES = {
    "issued": ("wholesale_invoice", "Your {platform} invoice {number}", "Your wholesale invoice is ready."),
    "reminder": (
        "wholesale_reminder",
        "Reminder: {platform} invoice {number} is due soon",
        "This invoice is due soon. {card}",
    ),
    "overdue": (
        "wholesale_overdue",
        "Payment needed: {platform} invoice {number}",
        "We could not collect this invoice{why}. Your storefront will be suspended on {suspend:%d %B %Y} "
        "unless it is paid; your customers' services keep running.",
    ),
}


def _send(tenant: Tenant, billing: TenantBilling, invoice: WholesaleInvoice, notice: str) -> None:
    kind, subject, body = _NOTICES[notice]
    card = (
        f"We will charge {billing.card_label} on the due date."
        if billing.card_label
        else "Add a card to pay it."
    )
    why = (
        f" ({invoice.failure_message})"
        if invoice.failure_message
        else (": no card on file" if not billing.card_label else "")
    )
    suspend = _due(invoice) + timedelta(days=get_settings().wholesale_grace_days)
    fill = {"platform": get_settings().platform_name, "number": invoice.number}
    _mail(
        tenant,
        invoice,
        kind,
        subject.format(**fill),
        body.format(card=card, why=why, suspend=suspend),
    )


def _attempt_due(invoice: WholesaleInvoice, on: date) -> bool:
    return invoice.next_attempt_on is not None and invoice.next_attempt_on <= on


def _due(invoice: WholesaleInvoice) -> date:
    """The due date of an issued invoice (set when it is issued)."""
    assert invoice.due_on is not None, "issued wholesale invoices have a due date"
    return invoice.due_on


def _schedule_next(invoice: WholesaleInvoice) -> None:
    """After attempt `attempt_count`: the next retry day, or none when the schedule is spent."""
    tried, due = invoice.next_attempt_on, _due(invoice)
    assert tried is not None, "called after an attempt"
    later = [d for d in retry_days() if due + timedelta(days=d) > tried]
    invoice.next_attempt_on = due + timedelta(days=later[0]) if later else None


def _step(
    central: Session, invoice_id: int, on: date, report: CollectionReport, gw: StripeGateway | None
) -> None:
    """One invoice's due steps, under its row lock."""
    invoice = lock_row(central, WholesaleInvoice, invoice_id)
    if invoice is None or invoice.status is not WholesaleInvoiceStatus.OPEN or invoice.due_on is None:
        central.rollback()
        return
    tenant = existing(central, Tenant, invoice.tenant_id)
    billing = central.exec(select(TenantBilling).where(TenantBilling.tenant_id == tenant.id)).one()
    reminder_from = invoice.due_on - timedelta(days=get_settings().wholesale_reminder_days)
    notice = _claim_notice(invoice, "issued")
    if notice is None and reminder_from <= on < invoice.due_on:
        notice = _claim_notice(invoice, "reminder")
    charge = on >= invoice.due_on and _attempt_due(invoice, on) and billing.stripe_payment_method_id
    if charge:
        invoice.attempt_count += 1
        invoice.failure_message = ""  # in flight: a concurrent pass must not call it overdue
        _schedule_next(invoice)
    elif on >= invoice.due_on and _attempt_due(invoice, on):
        _schedule_next(invoice)  # no card: the attempt is spent, the owner hears of it below
    if notice:
        _audit(central, tenant, f"wholesale.mail_{notice}", invoice, to=tenant.owner_email)
    central.add(invoice)
    central.commit()  # the claim: a second pass now finds this attempt and notice taken
    if notice:
        _send(tenant, billing, invoice, notice)
        report.mailed.append(f"{invoice.number}:{notice}")
    if charge:
        try:
            invoice = charge_invoice(
                central,
                invoice_id=row_id(invoice),
                tenant_id=row_id(tenant),
                gw=gw,
                attempt=invoice.attempt_count,
            )
        except DomainError as error:
            invoice.failure_message = str(error)[:300]
        report.charged[invoice.number] = invoice.status.value
        _audit(
            central,
            tenant,
            "wholesale.charge",
            invoice,
            status=invoice.status.value,
            attempt=invoice.attempt_count,
        )
        central.commit()
        if invoice.status is WholesaleInvoiceStatus.PAID:
            reinstate(central, tenant_id=row_id(tenant))
            return
    if on >= _due(invoice):
        _overdue(central, tenant, billing, invoice, on, report)


def _overdue(
    central: Session,
    tenant: Tenant,
    billing: TenantBilling,
    invoice: WholesaleInvoice,
    on: date,
    report: CollectionReport,
) -> None:
    """An unpaid invoice past its due date: past_due and one notice, then suspension after the grace.
    Not while the card's latest attempt is in flight (no failure recorded yet): that pass decides."""
    invoice = lock_held(central, WholesaleInvoice, row_id(invoice))
    billing = lock_held(central, TenantBilling, row_id(billing))
    tenant = lock_held(central, Tenant, tenant.id)
    in_flight = billing.stripe_payment_method_id and not invoice.failure_message
    if invoice.status is not WholesaleInvoiceStatus.OPEN or in_flight:
        central.rollback()  # paid, or a charge not yet known to have failed
        return
    notice = _claim_notice(invoice, "overdue")
    if notice:
        _audit(central, tenant, "wholesale.mail_overdue", invoice, to=tenant.owner_email)
    if billing.status is TenantBillingStatus.ACTIVE:
        billing.status = TenantBillingStatus.PAST_DUE
        _audit(central, tenant, "wholesale.past_due", invoice)
    suspend = on >= _due(invoice) + timedelta(days=get_settings().wholesale_grace_days)
    if suspend and tenant.status in (TenantStatus.ACTIVE, TenantStatus.TRIAL):
        tenant.status, tenant.suspended_at, tenant.suspension_reason = (
            TenantStatus.SUSPENDED,
            clock.now(),
            UNPAID,
        )
        _audit(central, tenant, "wholesale.suspend", invoice)
        report.suspended.append(tenant.slug)
    central.add_all([invoice, billing, tenant])
    central.commit()
    if notice:
        _send(tenant, billing, invoice, notice)
        report.mailed.append(f"{invoice.number}:{notice}")


def collect(*, on: date, gw: StripeGateway | None = None) -> CollectionReport:
    """The daily pass over every open wholesale invoice (safe to run twice, or twice at once)."""
    report = CollectionReport()
    with central_session() as central:
        ids = central.exec(
            select(pk(WholesaleInvoice.id))
            .join(Tenant, col(Tenant.id) == col(WholesaleInvoice.tenant_id))
            .where(
                col(WholesaleInvoice.status) == WholesaleInvoiceStatus.OPEN,
                col(Tenant.status).not_in((TenantStatus.DELETING, TenantStatus.DELETED)),
            )
            .order_by(col(WholesaleInvoice.id))
        ).all()
        for invoice_id in ids:
            try:
                _step(central, invoice_id, on, report, gw)
            except Exception:  # one invoice's failure must not stop the others
                central.rollback()
                log.exception("collecting wholesale invoice %s failed", invoice_id)
    return report
