"""Resellers pay their wholesale invoices by card on EZSCALE's own Stripe account: the card is
saved once (SetupIntent, confirmed in the browser by Stripe.js), then each invoice is charged
off-session with an idempotency key derived from the invoice, so a retried charge is never a
second charge. Paying the last overdue invoice reopens a storefront suspended for non-payment
(`reinstate`)."""

from sqlmodel import Session, col, select

from ezscale import clock
from ezscale.errors import DomainError, NotFound
from ezscale.models.central import (
    Tenant,
    TenantBilling,
    TenantBillingStatus,
    TenantStatus,
    WholesaleInvoice,
    WholesaleInvoiceStatus,
)
from ezscale.models.types import existing, row_id
from ezscale.services.accounts.sessions import AuthUser
from ezscale.services.billing.locks import lock_held
from ezscale.services.billing.stripe_gateway import StripeGateway, gateway
from ezscale.services.core.audit import operator, record_audit
from ezscale.services.resellers.roles import require_owner
from ezscale.settings import get_settings

# Why a tenant is suspended when its wholesale invoices went unpaid past the grace period.
UNPAID = "unpaid"


def _billing(central: Session, tenant_id: int) -> TenantBilling:
    row = central.exec(select(TenantBilling).where(TenantBilling.tenant_id == tenant_id)).first()
    if row is None:
        raise NotFound("This tenant has no billing account.")
    return row


def card_label(central: Session, *, tenant_id: int) -> str:
    """The label of the card EZSCALE charges this reseller ("" when none)."""
    return _billing(central, tenant_id).card_label


def _customer(central: Session, tenant: Tenant, billing: TenantBilling, gw: StripeGateway) -> str:
    if not billing.stripe_customer_id:
        billing.stripe_customer_id = gw.create_customer(
            email=tenant.owner_email, name=tenant.name, metadata={"reseller": tenant.slug}
        )
        central.add(billing)
        central.commit()
    return billing.stripe_customer_id


def start_card_setup(
    central: Session, *, actor: AuthUser, tenant_id: int, gw: StripeGateway | None = None
) -> str:
    """A SetupIntent for the reseller's card page; returns its client secret (for Stripe.js)."""
    require_owner(actor, tenant_id, "change the card")
    gw = gw or gateway()
    tenant = existing(central, Tenant, tenant_id)
    customer = _customer(central, tenant, _billing(central, tenant_id), gw)
    return gw.create_setup_intent(customer_id=customer, metadata={"reseller": tenant.slug}).client_secret


def save_card(
    central: Session,
    *,
    actor: AuthUser,
    tenant_id: int,
    setup_intent_id: str,
    gw: StripeGateway | None = None,
    ip: str = "",
) -> str:
    """Keep the card a succeeded SetupIntent collected as the reseller's card; returns its label.
    A reseller whose trial ended for want of a card is reactivated."""
    require_owner(actor, tenant_id, "change the card")
    gw = gw or gateway()
    tenant = existing(central, Tenant, tenant_id)
    billing = _billing(central, tenant_id)
    customer = _customer(central, tenant, billing, gw)
    intent = gw.retrieve_setup_intent(setup_intent_id)
    if intent.status != "succeeded" or not intent.payment_method:
        raise DomainError("The card was not confirmed.")
    if intent.customer not in (None, customer):
        raise DomainError("That card setup belongs to another account.")
    card = gw.attach(payment_method_id=intent.payment_method, customer_id=customer)
    gw.set_default(customer_id=customer, payment_method_id=card.id)
    billing.stripe_payment_method_id = card.id
    billing.card_label = f"{card.brand.title()} •••• {card.last4}"
    central.add(billing)
    if tenant.status is TenantStatus.SUSPENDED and tenant.suspension_reason == "trial_ended":
        tenant.status, tenant.suspended_at, tenant.suspension_reason = TenantStatus.ACTIVE, None, ""
        central.add(tenant)
    record_audit(
        session=central,
        actor=actor,
        action="reseller.card",
        target=f"tenant:{tenant.slug}",
        after={"card": billing.card_label},
        ip=ip,
    )
    central.commit()
    return billing.card_label


def _key(invoice: WholesaleInvoice, payment_method_id: str, attempt: int | None) -> str:
    """Idempotency key of charging this invoice to this card: repeated (a retry, a second
    click) it is the same charge at Stripe; a new card, or the collection's next scheduled
    `attempt`, is a new one. The installation's database prefix and the invoice's creation time
    keep other databases' keys apart."""
    return (
        f"wholesale:{get_settings().tenant_db_prefix}:{invoice.id}-"
        f"{invoice.created_at:%Y%m%d%H%M%S%f}:{payment_method_id}"
        + (f":a{attempt}" if attempt is not None else "")
    )


def charge_invoice(
    central: Session,
    *,
    invoice_id: int,
    tenant_id: int,
    gw: StripeGateway | None = None,
    attempt: int | None = None,
) -> WholesaleInvoice:
    """Charge an open wholesale invoice to the reseller's card; paid invoices are left alone.
    `attempt` numbers the collection's scheduled tries (None: the owner's own "Pay now")."""
    invoice = central.get(WholesaleInvoice, invoice_id)
    if invoice is None or invoice.tenant_id != tenant_id:
        raise NotFound("No such invoice.")
    if invoice.status is WholesaleInvoiceStatus.PAID:
        return invoice
    if invoice.status is not WholesaleInvoiceStatus.OPEN:
        raise DomainError(f"Invoice {invoice.number} is {invoice.status.value} and cannot be paid.")
    billing = _billing(central, tenant_id)
    if not billing.stripe_payment_method_id or not billing.stripe_customer_id:
        raise DomainError("Add a card first.")
    gw = gw or gateway()
    key = _key(invoice, billing.stripe_payment_method_id, attempt)
    result = gw.charge_off_session(
        customer_id=billing.stripe_customer_id,
        payment_method_id=billing.stripe_payment_method_id,
        amount_minor=invoice.total_minor,
        currency=invoice.currency,
        idempotency_key=key,
        metadata={"payment_key": key, "wholesale_invoice": invoice.number},
    )
    invoice.stripe_payment_intent_id = result.payment_intent_id
    if result.status == "succeeded":
        invoice.status, invoice.paid_at, invoice.failure_message = (
            WholesaleInvoiceStatus.PAID,
            clock.now(),
            "",
        )
    else:
        invoice.failure_message = (result.failure_message or f"Payment {result.status}.")[:300]
    central.add(invoice)
    central.commit()
    return invoice


def pay_invoice(
    central: Session,
    *,
    actor: AuthUser,
    invoice_id: int,
    tenant_id: int,
    gw: StripeGateway | None = None,
    ip: str = "",
) -> WholesaleInvoice:
    """The owner's "Pay now" on a wholesale invoice (billing runs charge through charge_invoice).

    The charge commits on its own (its outcome must never be lost); the audit row follows it."""
    require_owner(actor, tenant_id, "pay wholesale invoices")
    invoice = charge_invoice(central, invoice_id=invoice_id, tenant_id=tenant_id, gw=gw)
    after = {"status": invoice.status.value}
    record_audit(
        session=central,
        actor=actor,
        action="wholesale.pay",
        target=f"invoice:{invoice.number}",
        after=after,
        ip=ip,
    )
    central.commit()
    if invoice.status is WholesaleInvoiceStatus.PAID:
        reinstate(central, tenant_id=tenant_id)
    return invoice


def billing_actor(tenant: Tenant) -> AuthUser:
    """The billing run as the audit trail names it, on the reseller's own trail."""
    return operator("wholesale-billing", tenant_id=row_id(tenant))


def reinstate(central: Session, *, tenant_id: int) -> bool:
    """Once nothing is overdue: billing active again, and a storefront suspended for non-payment
    reopened (audited). Returns whether the storefront was reopened."""
    today = clock.now().date()
    overdue = central.exec(
        select(WholesaleInvoice.id).where(
            WholesaleInvoice.tenant_id == tenant_id,
            WholesaleInvoice.status == WholesaleInvoiceStatus.OPEN,
            col(WholesaleInvoice.due_on) <= today,
        )
    ).first()
    if overdue is not None:
        return False
    tenant = lock_held(central, Tenant, tenant_id)
    billing = central.exec(select(TenantBilling).where(TenantBilling.tenant_id == tenant_id)).one()
    reopened = tenant.status is TenantStatus.SUSPENDED and tenant.suspension_reason == UNPAID
    if reopened:
        tenant.status, tenant.suspended_at, tenant.suspension_reason = TenantStatus.ACTIVE, None, ""
        record_audit(
            session=central,
            actor=billing_actor(tenant),
            action="wholesale.reinstate",
            target=f"tenant:{tenant.slug}",
        )
    if billing.status is TenantBillingStatus.PAST_DUE:
        billing.status = TenantBillingStatus.ACTIVE
    central.add_all([tenant, billing])
    central.commit()
    return reopened
