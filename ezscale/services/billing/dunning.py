"""Dunning: retry failed payments on set days, remind, suspend, terminate; undo when paid.

Every step is a keyed timeline row (`dunning:<invoice>:<step>`), so a step happens once however
often the run repeats. Emails are handed back to the caller and sent after the commit.
"""

from dataclasses import dataclass, field
from datetime import timedelta

from sqlmodel import Session, select

from ezscale import clock
from ezscale.models.billing import BillingEvent
from ezscale.models.tenant import (
    Invoice,
    InvoiceItem,
    InvoiceKind,
    InvoiceStatus,
    Service,
    ServiceStatus,
    Subscription,
    SubscriptionStatus,
    User,
)
from ezscale.money import Money
from ezscale.services.billing import timeline
from ezscale.settings import get_settings

DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Notice:
    to: str
    subject: str
    text: str
    kind: str


@dataclass
class DunningReport:
    retried: int = 0
    reminded: int = 0
    suspended: int = 0
    terminated: int = 0
    notices: list[Notice] = field(default_factory=list)


def retry_days() -> list[int]:
    return sorted(int(d) for d in get_settings().dunning_retry_days.split(",") if d.strip())


def _reason(invoice: Invoice) -> str:
    return f"billing: invoice {invoice.number} overdue"


def on_payment_failed(session: Session, invoice: Invoice, *, message: str) -> None:
    """Schedule the next retry (days after the due date) and note the failure."""
    failures = session.exec(
        select(BillingEvent.id).where(
            BillingEvent.invoice_id == invoice.id, BillingEvent.kind == "payment_failed"
        )
    ).all()
    days = retry_days()
    base = invoice.due_at or clock.now()
    upcoming = [base + d * DAY for d in days[len(failures) :]]
    invoice.next_attempt_at = next((at for at in upcoming if at > clock.now()), None)
    session.add(invoice)
    when = f"; next attempt {invoice.next_attempt_at:%Y-%m-%d}" if invoice.next_attempt_at else ""
    timeline.record(
        session,
        user_id=invoice.user_id,
        invoice_id=invoice.id,
        kind="payment_failed",
        message=f"Payment of invoice {invoice.number} failed: {message}{when}",
    )


def on_invoice_paid(session: Session, invoice: Invoice) -> None:
    """Bring back what this invoice's non-payment suspended."""
    if invoice.attempt_count == 0:
        return  # never collected, so never dunned: nothing can have been suspended for it
    reason = _reason(invoice)
    for service in session.exec(
        select(Service).where(Service.status == ServiceStatus.SUSPENDED, Service.status_reason == reason)
    ):
        service.status, service.status_reason = ServiceStatus.ACTIVE, ""
        session.add(service)
        for sub in session.exec(
            select(Subscription).where(
                Subscription.service_id == service.id, Subscription.status == SubscriptionStatus.PAST_DUE
            )
        ):
            sub.status = SubscriptionStatus.ACTIVE
            session.add(sub)
        timeline.record(
            session,
            user_id=invoice.user_id,
            invoice_id=invoice.id,
            kind="service_unsuspended",
            message=f"Service #{service.id} unsuspended: invoice {invoice.number} paid",
        )


def _services(session: Session, invoice: Invoice, statuses: tuple[ServiceStatus, ...]) -> list[Service]:
    ids = {
        i
        for i in session.exec(select(InvoiceItem.service_id).where(InvoiceItem.invoice_id == invoice.id))
        if i
    }
    if not ids:
        return []
    return list(session.exec(select(Service).where(Service.id.in_(ids), Service.status.in_(statuses))))


def _set_subscriptions(session: Session, services: list[Service], status: SubscriptionStatus) -> None:
    ids = [s.id for s in services]
    for sub in session.exec(select(Subscription).where(Subscription.service_id.in_(ids))):
        if sub.status is not SubscriptionStatus.CANCELLED:
            sub.status = status
            if status is SubscriptionStatus.CANCELLED:
                sub.cancelled_at = clock.now()
            session.add(sub)


def _notice(session: Session, invoice: Invoice, subject: str, text: str, kind: str) -> Notice:
    user = session.get(User, invoice.user_id)
    due = Money(
        invoice.total_minor
        - invoice.credit_applied_minor
        - invoice.amount_paid_minor
        - invoice.credited_minor,
        invoice.currency,
    )
    return Notice(
        user.email,
        subject.format(number=invoice.number),
        text.format(number=invoice.number, due=due.format()),
        kind,
    )


def step(session: Session, invoice: Invoice, report: DunningReport, charge) -> None:
    """One invoice's dunning steps due now (`charge(invoice)` makes one payment attempt)."""
    settings = get_settings()
    now = clock.now()
    key = f"dunning:{invoice.id}"
    if invoice.due_at is None:
        return
    if invoice.due_at > now:
        if invoice.due_at - now <= settings.dunning_reminder_days_before * DAY and timeline.record(
            session,
            user_id=invoice.user_id,
            invoice_id=invoice.id,
            kind="reminder",
            message=f"Reminder: invoice {invoice.number} due soon",
            key=f"{key}:reminder-before",
        ):
            report.reminded += 1
            report.notices.append(
                _notice(
                    session,
                    invoice,
                    "Invoice {number} is due soon",
                    "Invoice {number} ({due}) is due soon. We will charge your saved card on the due date.",
                    "billing_reminder",
                )
            )
        return
    if invoice.next_attempt_at is not None and invoice.next_attempt_at <= now:
        report.retried += 1
        charge(invoice)
        if invoice.status is not InvoiceStatus.OPEN:
            return
    overdue = now - invoice.due_at
    if overdue >= DAY and timeline.record(
        session,
        user_id=invoice.user_id,
        invoice_id=invoice.id,
        kind="reminder",
        message=f"Invoice {invoice.number} is overdue",
        key=f"{key}:reminder-overdue",
    ):
        report.reminded += 1
        report.notices.append(
            _notice(
                session,
                invoice,
                "Invoice {number} is overdue",
                "Invoice {number} ({due}) is overdue. Please pay it or update your card "
                "to keep your services running.",
                "billing_overdue",
            )
        )
    if overdue >= settings.suspend_after_days * DAY and not timeline.has_step(session, f"{key}:suspend"):
        services = _services(session, invoice, (ServiceStatus.ACTIVE,))
        for service in services:
            service.status, service.status_reason = ServiceStatus.SUSPENDED, _reason(invoice)
            session.add(service)
        _set_subscriptions(session, services, SubscriptionStatus.PAST_DUE)
        timeline.record(
            session,
            user_id=invoice.user_id,
            invoice_id=invoice.id,
            kind="suspended",
            message=f"{len(services)} service(s) suspended: invoice {invoice.number} overdue",
            key=f"{key}:suspend",
        )
        report.suspended += len(services)
        report.notices.append(
            _notice(
                session,
                invoice,
                "Services suspended: invoice {number} overdue",
                "Your services were suspended because invoice {number} ({due}) is unpaid. "
                "They resume as soon as it is paid.",
                "billing_suspended",
            )
        )
    if overdue >= settings.terminate_after_days * DAY and not timeline.has_step(session, f"{key}:terminate"):
        services = _services(session, invoice, (ServiceStatus.ACTIVE, ServiceStatus.SUSPENDED))
        for service in services:
            service.status, service.status_reason = ServiceStatus.TERMINATED, _reason(invoice)
            session.add(service)
        _set_subscriptions(session, services, SubscriptionStatus.CANCELLED)
        timeline.record(
            session,
            user_id=invoice.user_id,
            invoice_id=invoice.id,
            kind="terminated",
            message=f"{len(services)} service(s) terminated: invoice {invoice.number} unpaid",
            key=f"{key}:terminate",
        )
        report.terminated += len(services)
        report.notices.append(
            _notice(
                session,
                invoice,
                "Services terminated: invoice {number} unpaid",
                "Your services were terminated because invoice {number} ({due}) stayed unpaid.",
                "billing_terminated",
            )
        )


def open_invoice_ids(session: Session) -> list[int]:
    return list(
        session.exec(
            select(Invoice.id)
            .where(Invoice.status == InvoiceStatus.OPEN, Invoice.kind == InvoiceKind.INVOICE)
            .order_by(Invoice.id)
        )
    )
