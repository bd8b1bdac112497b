"""Invoices: drafts, issuing (gapless numbers, tax), settlement, void, credit notes.

Numbers come from a per-series row in `invoice_sequences`, locked (SELECT … FOR UPDATE on
PostgreSQL) and incremented in the same transaction that issues the invoice, so a rolled-back
issue leaves no gap and two concurrent issues never share a number.
"""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select, update

from ezscale import clock
from ezscale.errors import DomainError, NotFound
from ezscale.models.billing import InvoiceSequence, Payment
from ezscale.models.tenant import CreditKind, Invoice, InvoiceItem, InvoiceKind, InvoiceStatus, User
from ezscale.models.types import existing, row_id
from ezscale.money import minor_digits, round_minor
from ezscale.services.billing import credits, locks, timeline
from ezscale.services.billing.tax import tax_for, tax_minor
from ezscale.services.fx.pricing import InvoiceRates, rates_for, recorded_rates, stamp

SERIES = {InvoiceKind.INVOICE: "INV", InvoiceKind.CREDIT_NOTE: "CN"}


def take_numbers(session: Session, series: str, count: int) -> list[str]:
    """Take the next `count` numbers of a series inside the caller's transaction.

    One `UPDATE … RETURNING`: on PostgreSQL it row-locks the sequence exactly like SELECT … FOR
    UPDATE would, until the caller commits or rolls back (then the numbers are given back), so
    numbers have no gaps as long as every number taken is used in that transaction."""
    take = (
        update(InvoiceSequence)
        .where(col(InvoiceSequence.series) == series)
        .values(next_number=col(InvoiceSequence.next_number) + count)
        .returning(col(InvoiceSequence.next_number))
        .execution_options(synchronize_session=False)
    )
    after = session.execute(take).scalar()
    if after is None:
        try:
            with session.begin_nested():
                session.add(InvoiceSequence(series=series, next_number=1))
        except IntegrityError:
            pass  # created by a concurrent issuer; take from theirs
        after = session.execute(take).scalar_one()
    return [f"{series}-{n:06d}" for n in range(after - count, after)]


def next_number(session: Session, series: str) -> str:
    """Take one number of the series inside the caller's transaction."""
    return take_numbers(session, series, 1)[0]


def get_invoice(session: Session, *, invoice_id: int, user_id: int | None = None) -> Invoice:
    """An invoice; with `user_id`, only if it belongs to that customer."""
    invoice = session.get(Invoice, invoice_id)
    if invoice is None or (user_id is not None and invoice.user_id != user_id):
        raise NotFound("No such invoice.")
    return invoice


def lines(session: Session, invoice: Invoice) -> list[InvoiceItem]:
    """The invoice's lines in the order they were added."""
    return list(
        session.exec(
            select(InvoiceItem).where(col(InvoiceItem.invoice_id) == invoice.id).order_by(col(InvoiceItem.id))
        )
    )


def amount_due(invoice: Invoice) -> int:
    """What is still owed: the total less credit and payments, zero unless the invoice is open."""
    if invoice.status is not InvoiceStatus.OPEN:
        return 0
    return max(
        invoice.total_minor
        - invoice.credit_applied_minor
        - invoice.amount_paid_minor
        - invoice.credited_minor,
        0,
    )


def create_draft(
    session: Session,
    *,
    user_id: int,
    currency: str,
    memo: str = "",
    billing_key: str | None = None,
    kind: InvoiceKind = InvoiceKind.INVOICE,
    flush: bool = True,
    rates: InvoiceRates | None = None,
) -> Invoice:
    """A new draft recording the exchange rates it is made with (`rates`, else today's); flushed
    for its id unless the caller flushes a whole batch of drafts at once."""
    if session.get(User, user_id) is None:
        raise NotFound(f"No customer with id {user_id}.")
    rates = rates or rates_for(session, currency=currency, required=False)
    invoice = Invoice(
        user_id=user_id,
        currency=currency.upper(),
        memo=memo[:300],
        billing_key=billing_key,
        kind=kind,
        created_at=clock.now(),
    )
    stamp(invoice, rates)
    session.add(invoice)
    if flush:
        session.flush()
    return invoice


def add_line(
    session: Session,
    invoice: Invoice,
    *,
    description: str,
    unit_minor: int,
    quantity: Decimal = Decimal(1),
    amount_minor: int | None = None,
    service_id: int | None = None,
) -> InvoiceItem:
    """Add a line to a draft. Without `amount_minor` it is quantity × unit, rounded once."""
    if invoice.status is not InvoiceStatus.DRAFT:
        raise DomainError("Only draft invoices can be edited.")
    if not isinstance(quantity, Decimal) or not isinstance(unit_minor, int):
        raise DomainError("Quantities are decimals and prices whole minor units.")
    if amount_minor is None:
        unit = Decimal(unit_minor).scaleb(-minor_digits(invoice.currency))
        amount_minor = round_minor(quantity * unit, invoice.currency)
    item = InvoiceItem(
        invoice_id=row_id(invoice),
        service_id=service_id,
        description=description[:300],
        quantity=quantity,
        unit_minor=unit_minor,
        amount_minor=amount_minor,
    )
    session.add(item)
    return item


def _bill_to(user: User) -> str:
    parts = [
        user.name,
        user.company,
        user.address,
        user.country,
        f"Tax id: {user.tax_id}" if user.tax_id else "",
    ]
    return "\n".join(p for p in parts if p)[:600]


def issue(
    session: Session,
    invoice: Invoice,
    *,
    due_at: datetime | None = None,
    number: str | None = None,
    items: list[InvoiceItem] | None = None,
    flush: bool = True,
) -> Invoice:
    """Draft → open: totals, tax, customer snapshot and the next number (flushed, not committed).

    Billing runs pass a `number` taken with `take_numbers` in this same transaction, the draft's
    `items` they just added, and `flush=False`: the whole batch is written by its commit."""
    if invoice.status is not InvoiceStatus.DRAFT:
        raise DomainError(f"Invoice {invoice.number} is already issued.")
    if items is None:
        items = lines(session, invoice)
    if not items:
        raise DomainError("An invoice needs at least one line.")
    subtotal = sum(i.amount_minor for i in items)
    if subtotal < 0:
        raise DomainError("An invoice cannot total less than zero; issue a credit note instead.")
    user = existing(session, User, invoice.user_id)
    decision = tax_for(session, user)
    number = number or next_number(session, SERIES[invoice.kind])  # before the changes: one UPDATE
    now = clock.now()
    invoice.subtotal_minor = subtotal
    invoice.tax_rate_percent = decision.rate_percent
    invoice.tax_label = decision.label
    invoice.reverse_charge = decision.reverse_charge
    invoice.tax_minor = tax_minor(subtotal, decision.rate_percent, invoice.currency)
    invoice.total_minor = subtotal + invoice.tax_minor
    invoice.bill_to = _bill_to(user)
    invoice.number = number
    invoice.issued_at = now
    invoice.due_at = due_at or now
    invoice.status = InvoiceStatus.OPEN
    session.add(invoice)
    timeline.record(
        session,
        user_id=invoice.user_id,
        invoice_id=invoice.id,
        kind="invoice_issued",
        message=f"Invoice {invoice.number} issued",
    )
    if invoice.kind is InvoiceKind.INVOICE and invoice.total_minor == 0:
        _mark_paid(session, invoice)
    if flush:
        session.flush()
    return invoice


def apply_credit(
    session: Session, invoice: Invoice, *, available: int | None = None, flush: bool = True
) -> int:
    """Pay what account credit covers (ledger row referenced by the invoice); returns the amount.

    A caller that already locked the invoice and the customer and read the balance passes it as
    `available` (and may leave the flush to its batch's commit); otherwise both are locked here,
    the invoice first, and it is read fresh."""
    if available is None:
        locks.lock_invoice(session, row_id(invoice))
        credits.lock_customer(session, invoice.user_id)
        available = credits.balance_minor(session, user_id=invoice.user_id, currency=invoice.currency)
    use = min(amount_due(invoice), available)
    if use <= 0:
        return 0
    credits.add_entry(
        session,
        user_id=invoice.user_id,
        kind=CreditKind.CHARGE,
        amount_minor=-use,
        currency=invoice.currency,
        memo=f"Applied to invoice {invoice.number}",
        reference=f"apply:{invoice.id}:{invoice.credit_applied_minor}",
        check_reference=False,  # the invoice row is updated in the same transaction
    )
    invoice.credit_applied_minor += use
    session.add(invoice)
    if amount_due(invoice) == 0:
        _mark_paid(session, invoice)
    if flush:
        session.flush()
    return use


def record_card_payment(session: Session, invoice: Invoice, *, amount_minor: int) -> None:
    """Settle a card payment on the invoice; anything beyond the amount due becomes credit."""
    due = amount_due(invoice)
    applied = min(due, amount_minor)
    invoice.amount_paid_minor += applied
    session.add(invoice)
    if amount_minor > applied:
        credits.add_entry(
            session,
            user_id=invoice.user_id,
            kind=CreditKind.ADJUSTMENT,
            amount_minor=amount_minor - applied,
            currency=invoice.currency,
            memo=f"Overpayment of invoice {invoice.number}",
        )
    if amount_due(invoice) == 0 and invoice.status is InvoiceStatus.OPEN:
        _mark_paid(session, invoice)
    session.flush()


def _mark_paid(session: Session, invoice: Invoice) -> None:
    from ezscale.services.billing.dunning import on_invoice_paid
    from ezscale.services.billing.orders import activate_paid_services

    invoice.status = InvoiceStatus.PAID
    invoice.paid_at = clock.now()
    invoice.next_attempt_at = None
    session.add(invoice)
    timeline.record(
        session,
        user_id=invoice.user_id,
        invoice_id=invoice.id,
        kind="invoice_paid",
        message=f"Invoice {invoice.number} paid",
    )
    on_invoice_paid(session, invoice)
    activate_paid_services(session, invoice)


def void(session: Session, invoice: Invoice, *, reason: str, commit: bool = True) -> Invoice:
    """Cancel an open invoice nobody has paid towards (credit applied is given back)."""
    if invoice.status is not InvoiceStatus.OPEN:
        raise DomainError("Only open invoices can be voided.")
    if invoice.amount_paid_minor:
        raise DomainError("This invoice has card payments; issue a credit note instead.")
    if invoice.credit_applied_minor:
        credits.add_entry(
            session,
            user_id=invoice.user_id,
            kind=CreditKind.REFUND,
            amount_minor=invoice.credit_applied_minor,
            currency=invoice.currency,
            memo=f"Credit returned from voided invoice {invoice.number}",
            reference=f"void:{invoice.id}",
        )
    invoice.status = InvoiceStatus.VOID
    invoice.next_attempt_at = None
    session.add(invoice)
    timeline.record(
        session,
        user_id=invoice.user_id,
        invoice_id=invoice.id,
        kind="invoice_void",
        message=f"Invoice {invoice.number} voided: {reason}",
    )
    if commit:
        session.commit()
    return invoice


def mark_uncollectible(session: Session, invoice: Invoice) -> Invoice:
    """Write off an open invoice: no more payment attempts; the timeline records it."""
    if invoice.status is not InvoiceStatus.OPEN:
        raise DomainError("Only open invoices can be written off.")
    invoice.status = InvoiceStatus.UNCOLLECTIBLE
    invoice.next_attempt_at = None
    session.add(invoice)
    timeline.record(
        session,
        user_id=invoice.user_id,
        invoice_id=invoice.id,
        kind="invoice_uncollectible",
        message=f"Invoice {invoice.number} written off",
    )
    session.commit()
    return invoice


def refunded_minor(session: Session, *, invoice_id: int) -> int:
    """What card refunds gave back of the payments on an invoice (read fresh from the database)."""
    total = session.exec(
        select(func.coalesce(func.sum(Payment.refunded_minor), 0)).where(Payment.invoice_id == invoice_id)
    ).one()
    return int(total)


def returnable_minor(session: Session, invoice: Invoice) -> int:
    """What credit notes and card refunds together may still give back on an invoice.

    Credit notes fill what is due first and only the rest goes to account credit, so keeping
    credit notes plus refunds within the total keeps what goes back within what was paid.
    Read it under `locks.lock_row` on the invoice, so two corrections cannot both see room."""
    return invoice.total_minor - invoice.credited_minor - refunded_minor(session, invoice_id=row_id(invoice))


def _refuse(session: Session, release: bool, message: str) -> None:
    """Refuse a correction; a function that owns its transaction releases its lock first."""
    if release:
        session.rollback()
    raise DomainError(message)


def create_credit_note(
    session: Session, *, invoice: Invoice, amount_minor: int, reason: str, commit: bool = True
) -> Invoice:
    """Correct an issued invoice. On an open invoice it lowers what is due; on a paid one it
    becomes account credit. The credit note itself is numbered in its own gapless series.

    The invoice is locked and read fresh first: with card refunds, credit notes never give back
    more than was paid, whatever runs at the same time."""
    if not isinstance(amount_minor, int) or amount_minor <= 0:
        raise DomainError("A credit note needs a positive amount.")
    if not reason.strip():
        raise DomainError("Give a reason for the credit note.")
    invoice = locks.lock_held(session, Invoice, row_id(invoice))
    if invoice.kind is not InvoiceKind.INVOICE or invoice.status not in (
        InvoiceStatus.OPEN,
        InvoiceStatus.PAID,
    ):
        _refuse(session, commit, "Credit notes correct open or paid invoices.")
    if amount_minor > returnable_minor(session, invoice):
        _refuse(session, commit, "A credit note cannot exceed what is left of the invoice after refunds.")
    note = create_draft(
        session,
        user_id=invoice.user_id,
        currency=invoice.currency,
        memo=reason,
        kind=InvoiceKind.CREDIT_NOTE,
        rates=recorded_rates(invoice),
    )
    note.credits_invoice_id = invoice.id
    add_line(
        session,
        note,
        description=f"Correction of {invoice.number}: {reason}",
        unit_minor=amount_minor,
        amount_minor=amount_minor,
    )
    # The note carries the amount as given (tax included): no second tax on a correction.
    note.subtotal_minor = note.total_minor = amount_minor
    note.bill_to, note.number = invoice.bill_to, next_number(session, SERIES[InvoiceKind.CREDIT_NOTE])
    note.issued_at = note.due_at = note.paid_at = clock.now()
    note.status = InvoiceStatus.PAID
    session.add(note)
    if invoice.status is InvoiceStatus.OPEN:
        to_due = min(amount_minor, amount_due(invoice))
        invoice.credited_minor += amount_minor
        rest = amount_minor - to_due
        if amount_due(invoice) == 0:
            _mark_paid(session, invoice)
    else:
        invoice.credited_minor += amount_minor
        rest = amount_minor
    session.add(invoice)
    if rest:
        credits.add_entry(
            session,
            user_id=invoice.user_id,
            kind=CreditKind.REFUND,
            amount_minor=rest,
            currency=invoice.currency,
            memo=f"Credit note {note.number} for {invoice.number}",
            reference=f"credit-note:{note.id}",
        )
    timeline.record(
        session,
        user_id=invoice.user_id,
        invoice_id=invoice.id,
        kind="credit_note",
        message=f"Credit note {note.number} for {invoice.number}: {reason}",
    )
    if commit:
        session.commit()
    return note


def list_invoices(session: Session, *, user_id: int, limit: int = 100) -> list[Invoice]:
    """The customer's issued invoices (never drafts), newest first."""
    return list(
        session.exec(
            select(Invoice)
            .where(col(Invoice.user_id) == user_id, col(Invoice.status) != InvoiceStatus.DRAFT)
            .order_by(col(Invoice.issued_at).desc(), col(Invoice.id).desc())
            .limit(limit)
        )
    )
