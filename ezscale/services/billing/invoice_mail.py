"""The e-mail of an issued invoice, written to the outbox in the transaction that issues it."""

from collections.abc import Iterable

from sqlmodel import Session

from ezscale.models.tenant import Invoice, User
from ezscale.models.types import existing
from ezscale.money import Money
from ezscale.services.core.mail import PendingMail, write_pending


def queue(session: Session, invoices: Iterable[Invoice]) -> None:
    """The invoices' e-mails, written to the outbox in the transaction that issues them: a run
    killed after its commit still has them mailed, once (`mail.dispatch_pending`)."""
    write_pending(session, [_message(session, invoice) for invoice in invoices])


def _message(session: Session, invoice: Invoice) -> PendingMail:
    user = existing(session, User, invoice.user_id)
    total = Money(invoice.total_minor, invoice.currency).format()
    return PendingMail(
        to=user.email,
        subject=f"Invoice {invoice.number} ({total})",
        text=(
            f"Invoice {invoice.number} for {total} is due {invoice.due_at:%Y-%m-%d}.\n"
            "Account credit is applied first, then your saved card is charged on the due date.\n"
            "You can view, download and pay it in the billing area of your account."
        ),
        kind="invoice",
    )
