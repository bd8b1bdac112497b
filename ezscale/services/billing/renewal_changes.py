"""Renewals issued ahead follow later changes (plan change, cancellation, termination).

A renewal is invoiced days before its period starts, so a change made in between must reach
it. Issued invoices are never edited: a renewal nobody paid by card is voided (its applied
credit given back) and, if anything is still to be billed for that period, re-issued; a paid
one gets a credit note for the changed subscription's share, to account credit, and the new
plan's renewal is issued and paid from that credit at once, so the customer keeps exactly the
difference (an upgrade leaves the difference due). Every step is on the timeline.
"""

from datetime import datetime

from sqlmodel import Session, col, select

from ezscale.models.tenant import Invoice, InvoiceItem, InvoiceKind, InvoiceStatus, Plan, Subscription
from ezscale.models.types import row_id
from ezscale.services.billing import invoice_mail, invoices, locks, timeline
from ezscale.services.billing.proration import period_end, period_line
from ezscale.services.billing.tax import tax_minor
from ezscale.services.fx.pricing import recorded_rates

RENEWAL_KEY_PREFIX = "renewal:"  # renewal:<user>:<period start>:<currency>:…


def _key_prefix(user_id: int, start: datetime) -> str:
    return f"{RENEWAL_KEY_PREFIX}{user_id}:{start:%Y%m%d}:"


def _invoiced_ahead(subscription: Subscription) -> bool:
    through, end = subscription.invoiced_through, subscription.current_period_end
    return through is not None and end is not None and through > end


def _standing_renewal(session: Session, subscription: Subscription) -> Invoice | None:
    """The renewal that now bills the subscription's next period, if one was issued ahead."""
    if not _invoiced_ahead(subscription) or subscription.service_id is None:
        return None
    start = subscription.current_period_end
    return session.exec(
        select(Invoice)
        .join(InvoiceItem, col(InvoiceItem.invoice_id) == col(Invoice.id))
        .where(
            col(Invoice.user_id) == subscription.user_id,
            col(Invoice.kind) == InvoiceKind.INVOICE,
            col(Invoice.billing_key).like(f"{_key_prefix(subscription.user_id, start)}%"),
            col(Invoice.status).in_((InvoiceStatus.OPEN, InvoiceStatus.PAID)),
            col(InvoiceItem.service_id) == subscription.service_id,
        )
        .order_by(col(Invoice.id).desc())
    ).first()


def follow_plan_change(session: Session, *, subscription: Subscription, plan: Plan, price_minor: int) -> None:
    """After `subscription` moved to `plan` (at `price_minor` in the customer's currency): its
    renewal issued ahead bills the new plan."""
    renewal = _standing_renewal(session, subscription)
    if renewal is not None and subscription.service_id is not None:
        start = subscription.current_period_end
        line = (period_line(plan, start, period_end(start, plan.billing_interval)), price_minor)
        _replace(session, renewal, service_ids={subscription.service_id}, line=line, why=f"now {plan.name}")


def follow_cancel(session: Session, *, subscription: Subscription) -> None:
    """After a cancellation: nothing stays billed for the period after the current one."""
    renewal = _standing_renewal(session, subscription)
    if renewal is not None and subscription.service_id is not None:
        _replace(session, renewal, service_ids={subscription.service_id}, line=None, why="cancelled")
    if _invoiced_ahead(subscription):
        subscription.invoiced_through = subscription.current_period_end
        session.add(subscription)


def void_unpaid_renewals(session: Session, *, service_ids: list[int], keep_invoice_id: int) -> None:
    """Dunning terminated these services: their renewals issued before that and not paid by card
    are voided (re-issued without them if they bill other services too); `keep_invoice_id`, the
    unpaid invoice that led to the termination, stays as it is."""
    if not service_ids:
        return
    unpaid = session.exec(
        select(Invoice)
        .join(InvoiceItem, col(InvoiceItem.invoice_id) == col(Invoice.id))
        .where(
            col(Invoice.billing_key).like(f"{RENEWAL_KEY_PREFIX}%"),
            col(Invoice.status) == InvoiceStatus.OPEN,
            col(Invoice.amount_paid_minor) == 0,
            col(Invoice.id) != keep_invoice_id,
            col(InvoiceItem.service_id).in_(service_ids),
        )
        .order_by(col(Invoice.id))
        .distinct()
    ).all()
    for invoice in unpaid:
        _replace(session, invoice, service_ids=set(service_ids), line=None, why="service terminated")


def _replace(
    session: Session,
    invoice: Invoice,
    *,
    service_ids: set[int],
    line: tuple[str, int] | None,
    why: str,
) -> None:
    """Take `service_ids` off an issued renewal (adding `line`, for the one service changing
    plan, instead). Not committed."""
    invoice = locks.lock_held(session, Invoice, row_id(invoice))
    if invoice.status not in (InvoiceStatus.OPEN, InvoiceStatus.PAID):
        return
    items = invoices.lines(session, invoice)
    others = [i for i in items if i.service_id not in service_ids]
    if invoice.status is InvoiceStatus.OPEN and invoice.amount_paid_minor == 0:
        invoices.void(session, invoice, reason=f"renewal changed ({why})", commit=False)
        new = _reissue(session, invoice, service_id=min(service_ids), copies=others, line=line)
    else:
        kept = sum(i.amount_minor for i in others)
        share = invoice.total_minor - kept - tax_minor(kept, invoice.tax_rate_percent, invoice.currency)
        amount = min(share, invoices.returnable_minor(session, invoice))
        if amount > 0:
            invoices.create_credit_note(
                session, invoice=invoice, amount_minor=amount, reason=f"renewal changed ({why})", commit=False
            )
        new = _reissue(session, invoice, service_id=min(service_ids), copies=[], line=line)
        if new is not None:
            invoices.apply_credit(session, new)
    timeline.record(
        session,
        user_id=invoice.user_id,
        invoice_id=invoice.id,
        kind="renewal_revised",
        message=f"Renewal {invoice.number} revised ({why})"
        + (f": now billed on {new.number}" if new is not None else ""),
    )


def _reissue(
    session: Session,
    old: Invoice,
    *,
    service_id: int,
    copies: list[InvoiceItem],
    line: tuple[str, int] | None,
) -> Invoice | None:
    """A new renewal for the same period with `copies` of old lines plus `line`; None if empty."""
    if not copies and line is None:
        return None
    start = old.due_at
    assert start is not None, "an issued renewal has a due date"
    new = invoices.create_draft(
        session,
        user_id=old.user_id,
        currency=old.currency,
        memo=old.memo,
        billing_key=f"{_key_prefix(old.user_id, start)}{old.currency}:s{service_id}:after-{old.id}",
        rates=recorded_rates(old),
    )
    for item in copies:
        invoices.add_line(
            session,
            new,
            description=item.description,
            quantity=item.quantity,
            unit_minor=item.unit_minor,
            amount_minor=item.amount_minor,
            service_id=item.service_id,
        )
    if line is not None:
        invoices.add_line(session, new, description=line[0], unit_minor=line[1], service_id=service_id)
    invoices.issue(session, new, due_at=start)
    invoice_mail.queue(session, [new])
    return new
