"""One-off payment of an open invoice at a gateway the tenant has enabled: PayPal (approve at
PayPal, captured on return), BTCPay (pay in crypto at its checkout page) or a one-off card
(a Stripe PaymentIntent confirmed in the browser).

A checkout is numbered per invoice and its gateway calls carry a key made of the invoice and
that number, so a retried start or capture is the same order, invoice or intent at the gateway.
What the gateway reports is always read back from it (a redirect or a webhook only says "look
again"), and applied once under the invoice's lock: the money becomes one `payments` row,
settles the invoice, and anything beyond what is due becomes account credit.
"""

from dataclasses import dataclass

from sqlmodel import Session, col, func, select

from ezscale import clock, routes
from ezscale.errors import DomainError, NotFound
from ezscale.models.billing import Payment, PaymentMethod, PaymentStatus
from ezscale.models.payments import CheckoutStatus, GatewayCheckout
from ezscale.models.tenant import Invoice, InvoiceKind, InvoiceStatus
from ezscale.models.types import existing, row_id
from ezscale.money import Money
from ezscale.services.billing import invoices, locks, timeline
from ezscale.services.billing.payments import stripe_customer_id
from ezscale.services.billing.profiles import ensure_profile
from ezscale.services.core.mail import tenant_base_url
from ezscale.services.payments import accounts
from ezscale.services.payments.gateway import LABELS, Checkout, CheckoutState, Gateway, GatewayName
from ezscale.services.tenancy.tenants import TenantInfo


def checkout_key(tenant: TenantInfo, invoice: Invoice, number: int) -> str:
    """The gateway key of an invoice's checkout: the same on every retry, different per tenant
    database, invoice (its creation time too) and checkout (as `billing.payments.attempt_key`)."""
    return (
        f"{tenant.database_name}:invoice-{invoice.id}-{invoice.created_at:%Y%m%d%H%M%S%f}:checkout-{number}"
    )


def return_url(tenant: TenantInfo, gateway: GatewayName, checkout_id: int, *, cancel: bool = False) -> str:
    """Where the gateway sends the customer back: the tenant's own configured domain."""
    path = routes.GATEWAY_RETURN.format(gateway=gateway.value)
    return f"{tenant_base_url(tenant)}{path}?checkout={checkout_id}" + ("&cancel=1" if cancel else "")


def start(
    session: Session,
    *,
    tenant: TenantInfo,
    user_id: int,
    invoice_id: int,
    gateway: str,
    save_method: bool = False,
    gw: Gateway | None = None,
) -> Checkout:
    """Start paying one of the customer's open invoices at `gateway` (credit is applied first).

    Pressing Pay twice gives the same checkout while it is open."""
    name = accounts.gateway_name(gateway)
    save_method = save_method and name is GatewayName.PAYPAL  # only a PayPal wallet is kept
    if name not in accounts.enabled_gateways(tenant.id):
        if name is GatewayName.STRIPE:
            from ezscale.services.payments.connect import account_for

            account_for(tenant)  # a reseller not connected yet: "Payments are not available yet."
        raise DomainError(f"{LABELS[name]} is not available here.")
    gw = gw or accounts.adapter(tenant, name.value)
    invoice = locks.lock_invoice(session, invoice_id)
    if invoice is None or invoice.user_id != user_id:
        session.rollback()
        raise NotFound("No such invoice.")
    if invoice.kind is not InvoiceKind.INVOICE or invoice.status is not InvoiceStatus.OPEN:
        session.rollback()
        raise DomainError("Only open invoices can be paid.")
    credit_before = invoice.credit_applied_minor
    invoices.apply_credit(session, invoice)
    due = invoices.amount_due(invoice)
    if due == 0:
        session.commit()
        if invoice.credit_applied_minor > credit_before:
            raise DomainError("Your account credit paid this invoice: nothing is left to pay.")
        raise DomainError("Nothing is due on this invoice.")
    open_one = session.exec(
        select(GatewayCheckout).where(
            GatewayCheckout.invoice_id == invoice.id,
            GatewayCheckout.gateway == name.value,
            GatewayCheckout.status == CheckoutStatus.OPEN,
            GatewayCheckout.amount_minor == due,
        )
    ).first()
    if open_one is not None and open_one.save_method == save_method:
        checkout = open_one
    else:
        number = (
            session.exec(
                select(func.count(col(GatewayCheckout.id))).where(GatewayCheckout.invoice_id == invoice.id)
            ).one()
            + 1
        )
        checkout = GatewayCheckout(
            user_id=user_id,
            invoice_id=row_id(invoice),
            gateway=name.value,
            reference=f"pending:{checkout_key(tenant, invoice, number)}"[:120],
            number=number,
            amount_minor=due,
            currency=invoice.currency,
            save_method=save_method,
            created_at=clock.now(),
            updated_at=clock.now(),
        )
        session.add(checkout)
    session.commit()  # the lock ends here; the gateway is called outside it, with the key
    customer = (
        stripe_customer_id(session, tenant=tenant, user_id=user_id) if name is GatewayName.STRIPE else None
    )
    started = gw.start_checkout(
        customer_ref=customer,
        amount=Money(checkout.amount_minor, checkout.currency),
        invoice_ref=f"{invoice.number}-{checkout.number}",
        description=f"Invoice {invoice.number}",
        return_url=return_url(tenant, name, row_id(checkout)),
        cancel_url=return_url(tenant, name, row_id(checkout), cancel=True),
        idempotency_key=checkout_key(tenant, invoice, checkout.number),
        save_method=checkout.save_method,
        metadata={
            "tenant_id": str(tenant.id),
            "user_id": str(user_id),
            "invoice_id": str(invoice.id),
            "custom_id": f"{tenant.id}:{invoice.id}:{checkout.number}",
        },
    )
    checkout.reference, checkout.redirect_url = started.reference, started.redirect_url[:500]
    checkout.updated_at = clock.now()
    session.add(checkout)
    session.commit()
    return started


def get_checkout(session: Session, *, checkout_id: int, user_id: int | None = None) -> GatewayCheckout:
    """A checkout; with `user_id`, only if it is that customer's."""
    checkout = session.get(GatewayCheckout, checkout_id)
    if checkout is None or (user_id is not None and checkout.user_id != user_id):
        raise NotFound("No such payment.")
    return checkout


def find(session: Session, *, gateway: str, reference: str) -> GatewayCheckout | None:
    """The checkout a gateway's order, invoice or intent belongs to."""
    return session.exec(
        select(GatewayCheckout).where(
            GatewayCheckout.gateway == str(gateway), GatewayCheckout.reference == reference
        )
    ).first()


def refresh(
    session: Session, *, tenant: TenantInfo, checkout: GatewayCheckout, gw: Gateway | None = None
) -> GatewayCheckout:
    """Read the checkout back from its gateway (capturing an approved PayPal order) and apply
    what it says. Safe to call from the return page and every webhook, in any order."""
    if checkout.status is not CheckoutStatus.OPEN or checkout.reference.startswith("pending:"):
        return checkout
    gw = gw or accounts.adapter(tenant, checkout.gateway, require_enabled=False)
    invoice = existing(session, Invoice, checkout.invoice_id)
    state = gw.checkout_state(
        checkout.reference, idempotency_key=f"{checkout_key(tenant, invoice, checkout.number)}:capture"
    )
    apply_state(session, checkout=checkout, state=state)
    session.commit()
    return checkout


def apply_state(session: Session, *, checkout: GatewayCheckout, state: CheckoutState) -> None:
    """Apply a checkout's state at the gateway once, under the invoice's lock (not committed)."""
    invoice = locks.lock_held(session, Invoice, checkout.invoice_id)
    session.refresh(checkout)
    if checkout.status is not CheckoutStatus.OPEN or state.status in ("open", "approved", "pending"):
        return
    label = LABELS[GatewayName(checkout.gateway)]
    if state.status in ("completed", "partial") and state.paid is not None and state.paid.minor > 0:
        if state.paid.currency != checkout.currency:
            raise DomainError(f"The {label} payment is in {state.paid.currency}, not {checkout.currency}.")
        _record_payment(
            session, checkout=checkout, invoice=invoice, state=state, paid=state.paid, label=label
        )
        checkout.status = CheckoutStatus.COMPLETED if state.status == "completed" else CheckoutStatus.EXPIRED
    else:
        checkout.status = CheckoutStatus.EXPIRED if state.status == "expired" else CheckoutStatus.FAILED
        timeline.record(
            session,
            user_id=checkout.user_id,
            invoice_id=checkout.invoice_id,
            kind="payment_failed",
            message=f"{label} payment of invoice {invoice.number} "
            + ("expired" if state.status == "expired" else f"failed: {state.failure_message or 'declined'}"),
            key=f"checkout:{checkout.id}:closed",
        )
    checkout.updated_at = clock.now()
    session.add(checkout)
    session.flush()


def _record_payment(
    session: Session,
    *,
    checkout: GatewayCheckout,
    invoice: Invoice,
    state: CheckoutState,
    paid: Money,
    label: str,
) -> None:
    gateway = GatewayName(checkout.gateway)
    payment = Payment(
        user_id=checkout.user_id,
        invoice_id=checkout.invoice_id,
        status=PaymentStatus.SUCCEEDED,
        amount_minor=paid.minor,
        currency=paid.currency,
        idempotency_key=f"{gateway.value}:{checkout.reference}"[:120],
        gateway=gateway.value,
        gateway_ref=None if gateway is GatewayName.STRIPE else state.payment_ref,
        stripe_payment_intent_id=state.payment_ref if gateway is GatewayName.STRIPE else None,
        stripe_account_id=(
            ensure_profile(session, user_id=checkout.user_id).stripe_account_id
            if gateway is GatewayName.STRIPE
            else None
        ),
        created_at=clock.now(),
        updated_at=clock.now(),
    )
    session.add(payment)
    checkout.paid_minor = paid.minor
    invoices.record_card_payment(session, invoice, amount_minor=paid.minor)
    rest = invoices.amount_due(invoice)
    timeline.record(
        session,
        user_id=checkout.user_id,
        invoice_id=checkout.invoice_id,
        kind="payment_succeeded",
        message=f"{label} payment of {paid.format()} received"
        + (f"; {Money(rest, invoice.currency).format()} still due" if rest else ""),
        key=f"checkout:{checkout.id}:paid",
    )
    if state.saved_method and checkout.save_method:
        _save_method(session, checkout=checkout, token=state.saved_method, gateway=gateway)


def _save_method(session: Session, *, checkout: GatewayCheckout, token: str, gateway: GatewayName) -> None:
    if session.exec(select(PaymentMethod.id).where(PaymentMethod.stripe_payment_method_id == token)).first():
        return
    has_default = session.exec(
        select(PaymentMethod.id).where(
            PaymentMethod.user_id == checkout.user_id,
            PaymentMethod.is_default,
            col(PaymentMethod.removed_at).is_(None),
        )
    ).first()
    session.add(
        PaymentMethod(
            user_id=checkout.user_id,
            stripe_payment_method_id=token,
            gateway=gateway.value,
            brand=gateway.value,
            is_default=has_default is None,
            created_at=clock.now(),
        )
    )
    timeline.record(
        session,
        user_id=checkout.user_id,
        kind="card_added",
        message=f"{LABELS[gateway]} saved for renewals",
        key=f"method:{gateway.value}:{token}",
    )


def return_target(checkout: GatewayCheckout) -> str:
    """Where the customer lands after the gateway: the invoice on the billing page."""
    return routes.invoice_path(checkout.invoice_id)


@dataclass(frozen=True, slots=True)
class PayChoice:
    """A way to pay an open invoice, as its button reads."""

    gateway: str
    label: str


def choices(tenant: TenantInfo) -> list[PayChoice]:
    """The ways a customer of the tenant can pay an open invoice, card first."""
    return [
        PayChoice(name.value, "A card" if name is GatewayName.STRIPE else LABELS[name])
        for name in accounts.enabled_gateways(tenant.id)
    ]


def finish_card(
    session: Session, *, tenant: TenantInfo, user_id: int, setup_intent_id: str
) -> GatewayCheckout:
    """The browser confirmed the one-off card of the customer's checkout: charge it once."""
    row = find(session, gateway=GatewayName.STRIPE, reference=setup_intent_id)
    if row is None or row.user_id != user_id:
        raise NotFound("No such payment.")
    refresh(session, tenant=tenant, checkout=row)
    if row.status is not CheckoutStatus.COMPLETED:
        raise DomainError("The card payment did not go through; check the card and try again.")
    return row
