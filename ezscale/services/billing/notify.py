"""Billing emails through the mail service, sent after the billing transaction committed."""

import logging

from sqlmodel import Session

from ezscale.models.tenant import Invoice, User
from ezscale.money import Money
from ezscale.services.billing.dunning import Notice
from ezscale.services.errors import DomainError
from ezscale.services.mail import send_mail
from ezscale.services.tenancy import TenantInfo

log = logging.getLogger(__name__)


def invoice_notice(session: Session, invoice_id: int) -> Notice:
    invoice = session.get(Invoice, invoice_id)
    user = session.get(User, invoice.user_id)
    total = Money(invoice.total_minor, invoice.currency).format()
    return Notice(
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
