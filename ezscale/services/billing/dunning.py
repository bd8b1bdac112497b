"""Dunning: retry failed payments on set days, remind, suspend, terminate; undo when paid.

Every step is a keyed timeline row (`dunning:<invoice>:<step>`), so a step happens once however
often the run repeats. Emails are handed back to the caller and sent after the commit.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from sqlmodel import Session, col, select

from ezscale import clock
from ezscale.models.billing import BillingEvent
from ezscale.models.provisioning import JobAction
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
from ezscale.models.types import existing, pk, row_id
from ezscale.money import Money
from ezscale.services.billing import renewal_changes, timeline
from ezscale.services.provisioning import lifecycle
from ezscale.settings import get_settings

DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Notice:
    """A dunning mail for the caller to send after the run commits."""

    to: str
    subject: str
    text: str
    kind: str


@dataclass
class DunningReport:
    """What a dunning pass did, counted per step, with the mails it queued."""

    retried: int = 0
    reminded: int = 0
    suspended: int = 0
    terminated: int = 0
    notices: list[Notice] = field(default_factory=list)


def retry_days() -> list[int]:
    """Days after the due date on which a failed payment is retried (DUNNING_RETRY_DAYS), ascending."""
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
        lifecycle.request(
            session, service_id=row_id(service), action=JobAction.UNSUSPEND, cause=f"paid:{row_id(invoice)}"
        )
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
    return list(
        session.exec(select(Service).where(col(Service.id).in_(ids), col(Service.status).in_(statuses)))
    )


def _set_subscriptions(session: Session, services: list[Service], status: SubscriptionStatus) -> None:
    ids = [s.id for s in services]
    for sub in session.exec(select(Subscription).where(col(Subscription.service_id).in_(ids))):
        if sub.status is not SubscriptionStatus.CANCELLED:
            sub.status = status
            if status is SubscriptionStatus.CANCELLED:
                sub.cancelled_at = clock.now()
                renewal_changes.follow_cancel(session, subscription=sub)
            session.add(sub)


def _notice(session: Session, invoice: Invoice, subject: str, text: str, kind: str) -> Notice:
    user = existing(session, User, invoice.user_id)
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


def step(
    session: Session, invoice: Invoice, report: DunningReport, charge: Callable[[Invoice], Invoice]
) -> None:
    """One invoice's dunning steps due now (`charge(invoice)` makes one payment attempt)."""
    settings = get_settings()
    now = clock.now()
    key = f"dunning:{invoice.id}"
    if invoice.due_at is None or invoice.status is not InvoiceStatus.OPEN:
        return  # e.g. a renewal voided when an earlier step of this run terminated its service
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
    if overdue >= settings.suspend_after_days * DAY:
        report.suspended += _escalate(
            session,
            invoice,
            step="suspend",
            touches=(ServiceStatus.ACTIVE,),
            to=(ServiceStatus.SUSPENDED, SubscriptionStatus.PAST_DUE),
            kind="suspended",
            message="{count} service(s) suspended: invoice {number} overdue",
            notice=(
                "Services suspended: invoice {number} overdue",
                "Your services were suspended because invoice {number} ({due}) is unpaid. "
                "They resume as soon as it is paid.",
                "billing_suspended",
            ),
            report=report,
        )
    if overdue >= settings.terminate_after_days * DAY:
        report.terminated += _escalate(
            session,
            invoice,
            step="terminate",
            touches=(ServiceStatus.ACTIVE, ServiceStatus.SUSPENDED, ServiceStatus.PENDING),
            to=(ServiceStatus.TERMINATED, SubscriptionStatus.CANCELLED),
            kind="terminated",
            message="{count} service(s) terminated: invoice {number} unpaid",
            notice=(
                "Services terminated: invoice {number} unpaid",
                "Your services were terminated because invoice {number} ({due}) stayed unpaid.",
                "billing_terminated",
            ),
            report=report,
        )


def _escalate(
    session: Session,
    invoice: Invoice,
    *,
    step: str,
    touches: tuple[ServiceStatus, ...],
    to: tuple[ServiceStatus, SubscriptionStatus],
    kind: str,
    message: str,
    notice: tuple[str, str, str],
    report: DunningReport,
) -> int:
    """Suspend or terminate the invoice's services once (keyed on the timeline); returns how many."""
    key = f"dunning:{invoice.id}:{step}"
    if timeline.has_step(session, key):
        return 0
    services = _services(session, invoice, touches)
    for service in services:
        service.status, service.status_reason = to[0], _reason(invoice)
        session.add(service)
    action = JobAction.TERMINATE if to[0] is ServiceStatus.TERMINATED else JobAction.SUSPEND
    lifecycle.request_many(session, service_ids=[row_id(s) for s in services], action=action, cause=key)
    if to[0] is ServiceStatus.TERMINATED:
        renewal_changes.void_unpaid_renewals(
            session, service_ids=[row_id(s) for s in services], keep_invoice_id=row_id(invoice)
        )
    _set_subscriptions(session, services, to[1])
    timeline.record(
        session,
        user_id=invoice.user_id,
        invoice_id=invoice.id,
        kind=kind,
        message=message.format(count=len(services), number=invoice.number),
        key=key,
    )
    report.notices.append(_notice(session, invoice, *notice))
    return len(services)


def open_invoice_ids(session: Session) -> list[int]:
    """Ids of the open (unpaid, issued) invoices that dunning looks at, in id order."""
    return list(
        session.exec(
            select(pk(Invoice.id))
            .where(col(Invoice.status) == InvoiceStatus.OPEN, col(Invoice.kind) == InvoiceKind.INVOICE)
            .order_by(col(Invoice.id))
        )
    )
