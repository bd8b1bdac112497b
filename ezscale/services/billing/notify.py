"""Billing emails through the mail service: invoice mails written with the invoice (outbox),
dunning notices sent after the billing transaction committed."""

import logging

from sqlmodel import Session

from ezscale.models.tenant import Invoice, User
from ezscale.money import Money
from ezscale.services.billing.dunning import Notice
from ezscale.services.errors import DomainError
from ezscale.services.mail import send_mail, write_pending
from ezscale.services.tenancy import TenantInfo

log = logging.getLogger(__name__)


def queue_invoice_mail(session: Session, invoice: Invoice, user: User | None = None) -> None:
    """The invoice's e-mail, written to the outbox in the transaction that issues the invoice:
    a run killed after its commit still has it mailed, once (`mail.dispatch_pending`)."""
    user = user or session.get(User, invoice.user_id)
    total = Money(invoice.total_minor, invoice.currency).format()
    write_pending(
        session,
        to=user.email,
        subject=f"Invoice {invoice.number} ({total})",
        text=(
            f"Invoice {invoice.number} for {total} is due {invoice.due_at:%Y-%m-%d}.\n"
            "Account credit is applied first, then your saved card is charged on the due date.\n"
            "You can view, download and pay it in the billing area of your account."
        ),
        kind="invoice",
    )


def send(tenant: TenantInfo, notices: list[Notice]) -> int:
    """Send each notice; a bad address is logged, not fatal to the run. Returns how many went."""
    sent = 0
    for notice in notices:
        try:
            send_mail(tenant=tenant, to=notice.to, subject=notice.subject, text=notice.text, kind=notice.kind)
            sent += 1
        except DomainError as error:
            log.warning("billing mail to %s not sent: %s", notice.to, error)
    return sent
