"""Payments: Stripe customers, saved cards, charging invoices (credit first), top-ups, refunds.

A saved method is a Stripe card or another gateway's saved wallet (a PayPal vault token): an
attempt is sent to the gateway of the method it was claimed with (`services/payments`).

A charge attempt is first committed as a pending `payments` row, numbered per invoice, with an
idempotency key made of the invoice and that number; only then is Stripe called. The database
holds at most one pending attempt per invoice, claimed under the invoice's lock. A run killed
in between leaves the row pending: the next actor resumes it with the same key (looking the
PaymentIntent up first), so an invoice attempt is one charge whoever retries it.
"""

import logging
import secrets
from datetime import timedelta

from sqlmodel import Session, col, select, update

from ezscale import clock, routes
from ezscale.db import central_session
from ezscale.errors import DomainError, NotFound
from ezscale.models.billing import Payment, PaymentMethod, PaymentStatus, RefundRequest, StripeCustomer
from ezscale.models.tenant import CreditKind, Invoice, InvoiceKind, InvoiceStatus, User
from ezscale.models.types import existing, row_id
from ezscale.money import Money
from ezscale.services.billing import credits, invoices, locks, timeline
from ezscale.services.billing.profiles import ensure_profile
from ezscale.services.billing.stripe_gateway import ChargeResult, StripeGateway, gateway
from ezscale.services.core.mail import PendingMail, tenant_base_url, write_pending
from ezscale.services.fx.currencies import customer_currency
from ezscale.services.payments.gateway import GatewayName, GatewayUnavailable
from ezscale.services.tenancy.tenants import TenantInfo

log = logging.getLogger(__name__)

# An attempt pending for longer than this was interrupted (its process died): the next actor
# resumes it with the same key. Younger, it is in flight and nobody else touches it.
ATTEMPT_LEASE = timedelta(minutes=10)


def stripe_for(tenant: TenantInfo, gw: StripeGateway | None = None) -> StripeGateway:
    """Stripe on the account the tenant's customers pay into: the platform's for the house
    tenant, the reseller's connected account (direct charges) otherwise; PaymentsUnavailable
    while a reseller has none that can charge, so nothing is charged to the platform for it."""
    from ezscale.services.payments import connect

    return (gw or gateway()).on_account(connect.account_for(tenant))


def stripe_customer_id(
    session: Session, *, tenant: TenantInfo, user_id: int, gw: StripeGateway | None = None
) -> str:
    """The customer's Stripe customer on the tenant's account, created on first need (again if
    the tenant's account changed) and mapped to the tenant centrally."""
    gw = stripe_for(tenant, gw)
    profile = ensure_profile(session, user_id=user_id)
    if profile.stripe_customer_id and profile.stripe_account_id == gw.account:
        return profile.stripe_customer_id
    user = existing(session, User, user_id)
    customer_id = gw.create_customer(
        email=user.email,
        name=user.name or user.email,
        metadata={"tenant_id": str(tenant.id), "user_id": str(user_id)},
    )
    with central_session() as central:
        if (
            central.exec(
                select(StripeCustomer).where(StripeCustomer.stripe_customer_id == customer_id)
            ).first()
            is None
        ):
            central.add(
                StripeCustomer(
                    stripe_customer_id=customer_id,
                    tenant_id=tenant.id,
                    user_id=user_id,
                    created_at=clock.now(),
                )
            )
            central.commit()
    profile.stripe_customer_id, profile.stripe_account_id = customer_id, gw.account
    session.add(profile)
    session.commit()
    return customer_id


def _key(tenant: TenantInfo, what: str) -> str:
    """Idempotency key of a top-up (each request is a new top-up): what, plus a nonce."""
    return f"t{tenant.id}:{what}:{secrets.token_hex(6)}"


def start_card_setup(
    session: Session, *, tenant: TenantInfo, user_id: int, gw: StripeGateway | None = None
) -> str:
    """A SetupIntent for the card entry page; returns its client secret (for Stripe.js only)."""
    gw = stripe_for(tenant, gw)
    customer = stripe_customer_id(session, tenant=tenant, user_id=user_id, gw=gw)
    intent = gw.create_setup_intent(
        customer_id=customer, metadata={"tenant_id": str(tenant.id), "user_id": str(user_id)}
    )
    return intent.client_secret


def save_card(
    session: Session,
    *,
    tenant: TenantInfo,
    user_id: int,
    setup_intent_id: str,
    gw: StripeGateway | None = None,
) -> PaymentMethod:
    """Store the card a succeeded SetupIntent collected (idempotent: page and webhook both call it)."""
    gw = stripe_for(tenant, gw)
    intent = gw.retrieve_setup_intent(setup_intent_id)
    customer = stripe_customer_id(session, tenant=tenant, user_id=user_id, gw=gw)
    if intent.status != "succeeded" or not intent.payment_method:
        raise DomainError("The card was not confirmed.")
    if intent.customer not in (None, customer) or intent.metadata.get("user_id") not in (None, str(user_id)):
        raise DomainError("That card setup belongs to another customer.")
    existing = session.exec(
        select(PaymentMethod).where(PaymentMethod.stripe_payment_method_id == intent.payment_method)
    ).first()
    if existing is not None:
        return existing
    card = gw.attach(payment_method_id=intent.payment_method, customer_id=customer)
    has_default = any(m.is_default for m in list_cards(session, user_id=user_id))
    method = PaymentMethod(
        user_id=user_id,
        stripe_payment_method_id=card.id,
        brand=card.brand,
        last4=card.last4,
        exp_month=card.exp_month,
        exp_year=card.exp_year,
        is_default=not has_default,
        created_at=clock.now(),
    )
    session.add(method)
    if method.is_default:
        gw.set_default(customer_id=customer, payment_method_id=card.id)
    timeline.record(
        session, user_id=user_id, kind="card_added", message=f"{card.brand.title()} ending {card.last4} added"
    )
    session.commit()
    return method


def list_cards(session: Session, *, user_id: int) -> list[PaymentMethod]:
    """The customer's saved cards, default first; removed cards are left out."""
    return list(
        session.exec(
            select(PaymentMethod)
            .where(col(PaymentMethod.user_id) == user_id, col(PaymentMethod.removed_at).is_(None))
            .order_by(col(PaymentMethod.is_default).desc(), col(PaymentMethod.id))
        )
    )


def default_card(session: Session, *, user_id: int) -> PaymentMethod | None:
    """The card charged off-session: the one marked default, else the first saved."""
    cards = list_cards(session, user_id=user_id)
    return next((c for c in cards if c.is_default), cards[0] if cards else None)


def renew_by_crypto(session: Session, *, user_id: int) -> PaymentMethod:
    """Make crypto (BTCPay) the customer's way to pay renewals: each renewal then mails a BTCPay
    pay link instead of charging a saved method. Idempotent; committed."""
    token = f"btcpay:{user_id}"
    method = session.exec(
        select(PaymentMethod).where(PaymentMethod.stripe_payment_method_id == token)
    ).first() or PaymentMethod(
        user_id=user_id,
        stripe_payment_method_id=token,
        brand="crypto",
        gateway=GatewayName.BTCPAY.value,
        created_at=clock.now(),
    )
    method.removed_at = None
    for other in list_cards(session, user_id=user_id):
        other.is_default = False
        session.add(other)
    method.is_default = True
    session.add(method)
    session.commit()
    return method


def _own_card(session: Session, user_id: int, card_id: int) -> PaymentMethod:
    card = session.get(PaymentMethod, card_id)
    if card is None or card.user_id != user_id or card.removed_at is not None:
        raise NotFound("No such card.")
    return card


def set_default_card(
    session: Session, *, tenant: TenantInfo, user_id: int, card_id: int, gw: StripeGateway | None = None
) -> PaymentMethod:
    """Make one of the customer's cards the default, at Stripe and here."""
    card = _own_card(session, user_id, card_id)
    if card.gateway == GatewayName.STRIPE:
        gw = stripe_for(tenant, gw)
        gw.set_default(
            customer_id=stripe_customer_id(session, tenant=tenant, user_id=user_id, gw=gw),
            payment_method_id=card.stripe_payment_method_id,
        )
    for other in list_cards(session, user_id=user_id):
        other.is_default = other.id == card.id
        session.add(other)
    session.commit()
    return card


def remove_card(
    session: Session,
    *,
    user_id: int,
    card_id: int,
    gw: StripeGateway | None = None,
    tenant: TenantInfo | None = None,
) -> None:
    """Detach a card at Stripe (or delete a saved wallet at its gateway) and hide it here; if it
    was the default, the next method takes over."""
    card = _own_card(session, user_id, card_id)
    if card.gateway == GatewayName.STRIPE:
        profile = ensure_profile(session, user_id=user_id)  # the card lives where the customer does
        (gw or gateway()).on_account(profile.stripe_account_id).detach(card.stripe_payment_method_id)
    elif tenant is not None:
        from ezscale.services.payments import accounts

        accounts.adapter(tenant, card.gateway, require_enabled=False).remove_method(
            card.stripe_payment_method_id
        )
    card.removed_at = clock.now()
    was_default, card.is_default = card.is_default, False
    session.add(card)
    if was_default:
        rest = [c for c in list_cards(session, user_id=user_id) if c.id != card.id]
        if rest:
            rest[0].is_default = True
            session.add(rest[0])
    timeline.record(
        session, user_id=user_id, kind="card_removed", message=f"Card ending {card.last4} removed"
    )
    session.commit()


class PaymentInProgress(DomainError):
    """Another actor's charge of this invoice is running; it is not charged a second time."""


def attempt_key(tenant: TenantInfo, invoice: Invoice, attempt_no: int) -> str:
    """The idempotency key of an invoice's attempt: the same whoever sends or resends it (no
    random part), different per tenant database, invoice (its creation time too, so a database
    made again does not meet its predecessor's keys at Stripe) and attempt."""
    return (
        f"{tenant.database_name}:invoice-{invoice.id}-{invoice.created_at:%Y%m%d%H%M%S%f}"
        f":attempt-{attempt_no}"
    )


def charge_invoice(
    session: Session,
    *,
    tenant: TenantInfo,
    invoice: Invoice,
    gw: StripeGateway | None = None,
    attempts_seen: int | None = None,
) -> Payment | None:
    """Collect an open invoice: account credit first, then the default card (one attempt).

    The attempt is claimed under the invoice's lock on fresh rows and committed before Stripe is
    called with its own key; the outcome is recorded under the lock again. So however many
    actors reach an invoice at once (runs, Pay now, a redelivered task), one of them charges it.
    `attempts_seen` is the attempt count a run decided on (first attempt, dunning retry): if
    another actor made an attempt meanwhile, this call does nothing. `invoice` is refreshed.

    Returns the card payment (None when credit covered it, nothing was due or there is no card);
    raises PaymentInProgress while another actor's attempt runs."""
    claim = _claim(session, tenant=tenant, invoice_id=row_id(invoice), attempts_seen=attempts_seen)
    if claim is None:
        return None
    if isinstance(claim, Invoice):
        _crypto_renewal(session, tenant=tenant, invoice=claim)
        return None
    payment, resumed = claim
    return _send(session, tenant=tenant, payment=payment, gw=gw or gateway(), resumed=resumed)


def _claim(
    session: Session, *, tenant: TenantInfo, invoice_id: int, attempts_seen: int | None
) -> tuple[Payment, bool] | Invoice | None:
    """Under the invoice's lock: resume an interrupted attempt, or apply credit and number a new
    attempt (committed). Returns (attempt, resumed), the invoice when its customer renews by
    crypto (the attempt is counted, nothing is charged), or None when there is nothing to charge."""
    from ezscale.services.billing.dunning import on_payment_failed

    invoice = locks.lock_invoice(session, invoice_id)
    if invoice is None or invoice.kind is not InvoiceKind.INVOICE or invoice.status is not InvoiceStatus.OPEN:
        session.commit()
        return None
    pending = session.exec(
        select(Payment)
        .where(Payment.invoice_id == invoice.id, Payment.status == PaymentStatus.PENDING)
        .execution_options(populate_existing=True)
    ).first()
    if pending is not None:
        if pending.updated_at > clock.now() - ATTEMPT_LEASE:
            session.commit()
            raise PaymentInProgress("A payment of this invoice is already in progress.")
        pending.updated_at = clock.now()  # take the interrupted attempt over, with its key
        session.add(pending)
        session.commit()
        return pending, True
    if attempts_seen is not None and invoice.attempt_count != attempts_seen:
        session.commit()
        return None
    invoices.apply_credit(session, invoice)
    due = invoices.amount_due(invoice)
    if due == 0:
        session.commit()
        return None
    card = default_card(session, user_id=invoice.user_id)
    invoice.attempt_count += 1
    session.add(invoice)
    if card is None:
        on_payment_failed(session, invoice, message="No saved card")
        session.commit()
        return None
    if card.gateway == GatewayName.BTCPAY:  # crypto is pushed by the payer: a pay link instead
        session.commit()
        return invoice
    payment = Payment(
        stripe_account_id=_card_account(session, card),
        user_id=invoice.user_id,
        invoice_id=invoice.id,
        amount_minor=due,
        currency=invoice.currency,
        attempt_no=invoice.attempt_count,
        idempotency_key=attempt_key(tenant, invoice, invoice.attempt_count),
        stripe_payment_method_id=card.stripe_payment_method_id,
        gateway=card.gateway,
        created_at=clock.now(),
        updated_at=clock.now(),
    )
    session.add(payment)
    session.commit()
    return payment, False


def _crypto_renewal(session: Session, *, tenant: TenantInfo, invoice: Invoice) -> None:
    """A renewal attempt of a customer who pays by crypto (BTCPay), which cannot be charged
    off-session: a BTCPay invoice for what is due (`checkout.start` keeps one open per invoice,
    so a retried attempt is the same one) and a mail with its pay link. The payment arrives by
    BTCPay's webhook, like any checkout."""
    from ezscale.services.payments import checkout

    try:
        started = checkout.start(
            session, tenant=tenant, user_id=invoice.user_id, invoice_id=row_id(invoice), gateway="btcpay"
        )
    except GatewayUnavailable:
        raise
    except DomainError as error:  # BTCPay switched off, or credit paid it meanwhile
        log.info("invoice %s: no crypto pay link (%s)", invoice.number, error)
        return
    user = existing(session, User, invoice.user_id)
    due = Money(invoices.amount_due(invoice), invoice.currency)
    write_pending(
        session,
        [
            PendingMail(
                to=user.email,
                subject=f"Invoice {invoice.number}: pay {due.format()} in crypto",
                text=f"Your renewal invoice {invoice.number} is due. Pay it here: {started.redirect_url}",
                kind="crypto_pay_link",
            )
        ],
    )
    session.commit()


def _send(
    session: Session, *, tenant: TenantInfo, payment: Payment, gw: StripeGateway, resumed: bool = False
) -> Payment:
    """Call Stripe for a claimed attempt (outside any lock), then record the outcome.

    A resumed attempt is first looked up (Stripe keeps keys 24 hours only), then resent as the
    same request with the same key, which Stripe answers with the first response."""
    try:
        result = _result(session, tenant=tenant, payment=payment, gw=gw, resumed=resumed)
    except Exception:
        _release(session, payment)
        raise
    record_outcome(session, payment=payment, result=result, tenant=tenant)
    session.commit()
    return payment


def _result(
    session: Session, *, tenant: TenantInfo, payment: Payment, gw: StripeGateway, resumed: bool
) -> ChargeResult:
    if payment.gateway != GatewayName.STRIPE:
        return _other_gateway_result(tenant=tenant, payment=payment)
    from ezscale.services.payments.connect import PaymentsUnavailable

    try:
        gw = stripe_for(tenant, gw)
    except PaymentsUnavailable as error:  # a reseller without a chargeable account: not charged
        return ChargeResult("failed", None, None, str(error))
    if payment.stripe_account_id is None and gw.account is not None:
        _note_account(session, payment, gw.account)  # an attempt from before accounts were noted
    elif payment.stripe_account_id != gw.account:  # the seller connected another account since
        return ChargeResult("failed", None, None, "The seller's payment account changed; please pay again.")
    customer = stripe_customer_id(session, tenant=tenant, user_id=payment.user_id, gw=gw)
    if resumed and (found := gw.find_payment(customer_id=customer, payment_key=payment.idempotency_key)):
        return found
    method = payment.stripe_payment_method_id
    if method is None:  # an attempt from before cards were kept on attempts
        card = default_card(session, user_id=payment.user_id)
        method = card.stripe_payment_method_id if card else None
    if method is None:
        return ChargeResult("failed", None, None, "No saved card")
    return gw.charge_off_session(
        customer_id=customer,
        payment_method_id=method,
        amount_minor=payment.amount_minor,
        currency=payment.currency,
        idempotency_key=payment.idempotency_key,
        metadata={
            "tenant_id": str(tenant.id),
            "payment_key": payment.idempotency_key,
            "invoice_id": str(payment.invoice_id or ""),
        },
    )


def _other_gateway_result(*, tenant: TenantInfo, payment: Payment) -> ChargeResult:
    """Charge a saved wallet at its gateway; a resumed attempt is the same request with the
    same key (PayPal-Request-Id), which the gateway answers with the first result."""
    from ezscale.services.payments import accounts

    if payment.stripe_payment_method_id is None:
        return ChargeResult("failed", None, None, "No saved payment method")
    try:
        adapter = accounts.adapter(tenant, payment.gateway)
    except DomainError as error:  # switched off since the wallet was saved: not charged
        return ChargeResult("failed", None, None, str(error))
    return adapter.charge_saved(
        customer_ref=None,
        method_token=payment.stripe_payment_method_id,
        amount=Money(payment.amount_minor, payment.currency),
        idempotency_key=payment.idempotency_key,
        metadata={
            "invoice_id": str(payment.invoice_id or ""),
            "custom_id": f"{tenant.id}:{payment.invoice_id or ''}:{payment.attempt_no or ''}",
        },
    )


def _card_account(session: Session, card: PaymentMethod) -> str | None:
    """The Stripe account a saved card lives on: its customer's (None for another gateway's)."""
    if card.gateway != GatewayName.STRIPE:
        return None
    profile = ensure_profile(session, user_id=card.user_id)
    return profile.stripe_account_id


def _note_account(session: Session, payment: Payment, account: str | None) -> None:
    """Record, before the charge is sent, the account an attempt is made on."""
    payment.stripe_account_id = account
    session.add(payment)
    session.commit()


def _release(session: Session, payment: Payment) -> None:
    """After an error on our side (the charge may or may not have happened), let the next actor
    resume the attempt at once, with the same key, instead of waiting for its lease to end."""
    session.rollback()
    session.execute(
        update(Payment)
        .where(col(Payment.id) == payment.id, col(Payment.status) == PaymentStatus.PENDING)
        .values(updated_at=clock.now() - ATTEMPT_LEASE)
    )
    session.commit()


def record_outcome(
    session: Session, *, payment: Payment, result: ChargeResult, tenant: TenantInfo | None = None
) -> None:
    """Apply a charge result (from the API or a webhook) to the payment and what it pays for.

    A failed attempt of an invoice mails the customer a pay link at once (`tenant` gives the
    link its domain), in the same transaction: once per attempt. Monotonic: a succeeded payment
    never goes back to failed, so events may arrive in any order. Done under the invoice's lock
    on fresh rows: the run, Pay now and a webhook may all report the same charge, and it counts
    once."""
    from ezscale.services.billing.dunning import on_payment_failed

    if payment.invoice_id is not None:
        locks.lock_invoice(session, payment.invoice_id)
    else:
        locks.write_lock(session)
    session.exec(
        select(Payment)
        .where(Payment.id == payment.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()

    if result.payment_intent_id and not payment.stripe_payment_intent_id:
        payment.stripe_payment_intent_id = result.payment_intent_id
    if result.charge_id:
        payment.stripe_charge_id = result.charge_id
    if result.gateway_ref and not payment.gateway_ref:
        payment.gateway_ref = result.gateway_ref
    payment.updated_at = clock.now()
    session.add(payment)
    if payment.status is PaymentStatus.SUCCEEDED or result.status in ("processing", "requires_action"):
        session.flush()
        return
    invoice = session.get(Invoice, payment.invoice_id) if payment.invoice_id else None
    if result.status == "succeeded":
        payment.status = PaymentStatus.SUCCEEDED
        payment.failure_message = ""
        if invoice is not None:
            invoices.record_card_payment(session, invoice, amount_minor=payment.amount_minor)
        else:
            credits.add_entry(
                session,
                user_id=payment.user_id,
                kind=CreditKind.TOP_UP,
                amount_minor=payment.amount_minor,
                currency=payment.currency,
                memo="Credit added by card",
                reference=f"top-up:{payment.id}",
            )
        timeline.record(
            session,
            user_id=payment.user_id,
            invoice_id=payment.invoice_id,
            kind="payment_succeeded",
            message=f"Card payment of {Money(payment.amount_minor, payment.currency).format()} succeeded",
            key=f"payment:{payment.id}:succeeded",
        )
    elif payment.status is PaymentStatus.PENDING:
        payment.status = PaymentStatus.FAILED
        payment.failure_message = result.failure_message[:300]
        if invoice is not None:
            on_payment_failed(session, invoice, message=payment.failure_message)
            write_pending(session, [_failure_mail(session, tenant, invoice, payment)])
        else:
            timeline.record(
                session,
                user_id=payment.user_id,
                kind="payment_failed",
                message=f"Top-up failed: {payment.failure_message}",
            )
    session.add(payment)
    session.flush()


def _failure_mail(
    session: Session, tenant: TenantInfo | None, invoice: Invoice, payment: Payment
) -> PendingMail:
    """The mail of a failed charge: what failed, and a link to pay the invoice another way."""
    user = existing(session, User, invoice.user_id)
    due = Money(payment.amount_minor, payment.currency).format()
    try:
        link = (
            f"Pay it here: {tenant_base_url(tenant)}{routes.invoice_path(row_id(invoice))}" if tenant else ""
        )
    except DomainError:
        link = ""
    return PendingMail(
        to=user.email,
        subject=f"Payment of invoice {invoice.number} failed",
        text=(
            f"We could not collect {due} for invoice {invoice.number}: {payment.failure_message}\n"
            + (link or "Sign in to your account to pay it.")
            + "\nYou can pay with another card or payment method, or update your saved one."
        ),
        kind="payment_failed",
    )


def top_up(
    session: Session, *, tenant: TenantInfo, user_id: int, amount_minor: int, gw: StripeGateway | None = None
) -> Payment:
    """Add account credit by charging the default card."""
    if not isinstance(amount_minor, int) or amount_minor < 100:
        raise DomainError("Add at least 1.00 of credit.")
    card = default_card(session, user_id=user_id)
    if card is None:
        raise DomainError("Add a card first.")
    payment = Payment(
        stripe_account_id=_card_account(session, card),
        user_id=user_id,
        amount_minor=amount_minor,
        currency=customer_currency(session, existing(session, User, user_id)),
        idempotency_key=_key(tenant, f"top-up:{user_id}"),
        stripe_payment_method_id=card.stripe_payment_method_id,
        created_at=clock.now(),
        updated_at=clock.now(),
    )
    session.add(payment)
    session.commit()
    return _send(session, tenant=tenant, payment=payment, gw=gw or gateway())


def refund(
    session: Session,
    *,
    payment: Payment,
    amount_minor: int,
    reason: str,
    gw: StripeGateway | None = None,
    tenant: TenantInfo | None = None,
    request_key: str | None = None,
) -> bool:
    """Refund (part of) a card payment at Stripe (invoice corrections themselves are credit notes).

    Under a lock on the invoice (or on the payment, for a top-up), read fresh: a refund never
    takes the payment, nor the invoice's refunds and credit notes together, past what was paid.
    The gateway's key names the payment and either the refund form's one-time `request_key` or
    the refunded total before this refund, so a retry after a lost reply is the same refund at
    the gateway. With `request_key`, the form is recorded (`RefundRequest`, unique): the same
    form sent again, even at the same time, changes nothing. Returns whether this call refunded."""
    if not isinstance(amount_minor, int) or amount_minor <= 0:
        raise DomainError("Refund between 0 and what is left of the payment.")
    if payment.invoice_id is not None:
        invoice = locks.lock_held(session, Invoice, payment.invoice_id)
        payment = existing(session, Payment, row_id(payment), populate_existing=True)
        room = invoices.returnable_minor(session, invoice)
    else:
        payment = locks.lock_held(session, Payment, row_id(payment))
        room = amount_minor
    try:
        if request_key is not None and _form_refunded(session, request_key, payment, amount_minor):
            session.commit()
            return False
        intent = payment.stripe_payment_intent_id if payment.gateway == GatewayName.STRIPE else None
        if payment.status is not PaymentStatus.SUCCEEDED or not (intent or payment.gateway_ref):
            raise DomainError("Only succeeded card payments can be refunded.")
        if amount_minor > payment.amount_minor - payment.refunded_minor:
            raise DomainError("Refund between 0 and what is left of the payment.")
        if amount_minor > room:
            raise DomainError("Credit notes and refunds on this invoice would exceed what was paid.")
        before = payment.refunded_minor
        nth = request_key or str(before)
        key = None
        if intent:
            (gw or gateway()).on_account(payment.stripe_account_id).refund(
                payment_intent_id=intent,
                amount_minor=amount_minor,
                idempotency_key=f"refund:{intent}:{nth}:{amount_minor}",
            )
        else:
            key = _gateway_refund(tenant, payment=payment, amount_minor=amount_minor, nth=nth)
    except BaseException:
        session.rollback()
        raise
    if request_key is not None:
        session.add(
            RefundRequest(
                key=request_key, payment_id=row_id(payment), amount_minor=amount_minor, created_at=clock.now()
            )
        )
    record_refund(
        session, payment=payment, refunded_total_minor=before + amount_minor, reason=reason, key=key
    )
    session.commit()
    return True


def _form_refunded(session: Session, request_key: str, payment: Payment, amount_minor: int) -> bool:
    """Whether the refund form with this key was already carried out (for this payment and
    amount; the key of another refund is refused)."""
    done = session.exec(select(RefundRequest).where(RefundRequest.key == request_key)).first()
    if done is None:
        return False
    if (done.payment_id, done.amount_minor) != (payment.id, amount_minor):
        raise DomainError("This refund form was already used: reload the page to refund again.")
    return True


def _gateway_refund(tenant: TenantInfo | None, *, payment: Payment, amount_minor: int, nth: str) -> str:
    """Refund at the payment's own gateway (PayPal, BTCPay); `nth` tells this refund of the
    payment from others (see `refund`). Returns the key that marks this refund done, so the
    gateway's webhook about it changes nothing more."""
    from ezscale.services.payments import accounts

    if tenant is None:
        raise DomainError("A refund at this gateway needs the tenant.")
    if not payment.gateway_ref:
        raise DomainError("Only succeeded card payments can be refunded.")
    refund_id = accounts.adapter(tenant, payment.gateway, require_enabled=False).refund(
        payment_ref=payment.gateway_ref,
        amount=Money(amount_minor, payment.currency),
        idempotency_key=f"refund:{payment.gateway}:{payment.gateway_ref}:{nth}:{amount_minor}",
    )
    return refund_key(payment.gateway, refund_id)


def refund_key(gateway: str, refund_id: str) -> str:
    """The timeline key of one refund at a gateway: it counts once, whoever reports it."""
    return f"refund:{gateway}:{refund_id}"[:160]


def record_refund(
    session: Session, *, payment: Payment, refunded_total_minor: int, reason: str, key: str | None = None
) -> None:
    """Raise the refunded total (never lower it: events may come late or twice); with `key`,
    a refund already recorded under it changes nothing."""
    if refunded_total_minor <= payment.refunded_minor or (key and timeline.has_step(session, key)):
        return
    payment.refunded_minor = refunded_total_minor
    payment.updated_at = clock.now()
    session.add(payment)
    timeline.record(
        session,
        user_id=payment.user_id,
        invoice_id=payment.invoice_id,
        kind="refund",
        message=f"Refunded {Money(refunded_total_minor, payment.currency).format()} of a card payment: "
        f"{reason}",
        key=key,
    )
    session.flush()
