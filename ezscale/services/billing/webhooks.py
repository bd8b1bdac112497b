"""Stripe webhooks: verify the signature, find the tenant, process each event exactly once.

The event id is stored (unique) in the same transaction as its effects, so a redelivered event
changes nothing. Handlers are order-independent: a late `payment_failed` never undoes a success,
refund totals only grow, and a card is saved whichever of page and webhook comes first.
"""

import json
import logging
import time
from dataclasses import dataclass
from typing import Any

import stripe
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from ezscale import clock
from ezscale.db import central_session
from ezscale.errors import DomainError, NotFound
from ezscale.models.billing import Payment, StripeCustomer, StripeEvent
from ezscale.services.billing import payments, timeline
from ezscale.services.billing.stripe_gateway import ChargeResult, StripeGateway, gateway
from ezscale.services.tenancy.tenants import TenantInfo, tenant_info, tenant_session
from ezscale.settings import get_settings

log = logging.getLogger(__name__)


TOLERANCE_SECONDS = 300  # Stripe's own default, applied both ways


class BadSignature(Exception):
    """The payload's Stripe signature is missing or does not match the webhook secret."""


class BadPayload(Exception):
    """Signed, but not an event that can be routed: not JSON, fields missing or of the wrong
    type, or a tenant that does not exist."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of a webhook event: processed, duplicate or ignored."""

    status: str  # processed | duplicate | ignored
    event_id: str = ""


def verify(payload: bytes, signature: str | None, *, secret: str | None = None) -> dict[str, Any]:
    """The event, if the Stripe-Signature header is valid for our secret and was signed within
    the tolerance of now, either way; else BadSignature.

    The Stripe library refuses only old signatures; one dated in the future would stay
    replayable until that date, so it is refused here. Both use the wall clock (as Stripe signs)."""
    try:
        stripe.WebhookSignature.verify_header(
            payload.decode("utf-8"),
            signature or "",
            secret or get_settings().stripe_webhook_secret,
            tolerance=TOLERANCE_SECONDS,
        )
    except (stripe.SignatureVerificationError, UnicodeDecodeError, ValueError) as error:
        raise BadSignature(str(error)) from error
    if _signed_at(signature or "") > time.time() + TOLERANCE_SECONDS:
        raise BadSignature("Timestamp outside the tolerance zone (in the future)")
    return json.loads(payload)


def _signed_at(signature: str) -> int:
    """The `t=` of a Stripe-Signature header that verify_header already accepted."""
    stamps = [item[2:] for item in signature.split(",") if item.startswith("t=")]
    return int(stamps[0])


def _customer_of(obj: dict[str, Any]) -> str | None:
    customer = obj.get("customer")
    return customer.get("id") if isinstance(customer, dict) else customer


def claimed_account(payload: bytes) -> str | None:
    """The connected account an event says it comes from (unverified: it only chooses which
    secret must have signed it). None for the platform's own events."""
    try:
        event = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        return None
    account = event.get("account") if isinstance(event, dict) else None
    return account if isinstance(account, str) and account else None


def _parse(payload: bytes, signature: str | None) -> tuple[str, str, dict[str, Any], str | None]:
    """The event's id, type, object and connected account, once its signature holds with the
    secret of its endpoint (the Connect one for a connected account's event); BadPayload if it
    is malformed."""
    account = claimed_account(payload)
    secret = get_settings().stripe_connect_webhook_secret if account else None
    try:
        event = verify(payload, signature, secret=secret)
    except ValueError as error:
        raise BadPayload("the payload is not JSON") from error
    event = event if isinstance(event, dict) else {}
    data = event.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    event_id, kind = event.get("id"), event.get("type")
    if not (isinstance(event_id, str) and event_id and isinstance(kind, str) and isinstance(obj, dict)):
        raise BadPayload("an event needs an id, a type and data.object")
    return event_id, kind, obj, account


def _tenant_for(obj: dict[str, Any], gw: StripeGateway | None) -> tuple[TenantInfo, int | None] | None:
    metadata = obj.get("metadata")
    if not isinstance(metadata, dict):
        metadata = {}
    customer = _customer_of(obj)
    if not customer and obj.get("object") == "dispute" and obj.get("charge"):
        customer = (gw or gateway()).charge_customer(obj["charge"])
    if customer:
        with central_session() as central:
            row = central.exec(
                select(StripeCustomer).where(StripeCustomer.stripe_customer_id == customer)
            ).first()
        if row is not None:
            return tenant_info(row.tenant_id), row.user_id
    tenant_id, user = str(metadata.get("tenant_id", "")), str(metadata.get("user_id", ""))
    if tenant_id.isdigit():
        try:
            return tenant_info(int(tenant_id)), int(user) if user.isdigit() else None
        except NotFound as error:
            raise BadPayload(str(error)) from error
    return None


def handle(payload: bytes, signature: str | None, *, gw: StripeGateway | None = None) -> Outcome:
    """Apply one Stripe webhook event exactly once, in the tenant database of the customer it concerns.

    A connected account's event (signed with the Connect secret) reaches only the reseller that
    account belongs to, and the platform's events only tenants paid on the platform's account:
    an event naming another tenant's customer writes nothing."""
    event_id, kind, obj, account = _parse(payload, signature)
    if kind == "account.updated" and account:
        from ezscale.services.payments import connect

        changed = connect.account_updated(account, obj)
        return Outcome("processed" if changed else "ignored", event_id)
    handler = HANDLERS.get(kind)
    gw = (gw or gateway()).on_account(account) if handler else gw
    found = _tenant_for(obj, gw) if handler else None
    if handler is None or found is None or not _routed(found[0], account):
        log.info("stripe event %s (%s) ignored", event_id, kind)
        return Outcome("ignored", event_id)
    tenant, user_id = found
    with tenant_session(tenant) as session:
        if session.exec(select(StripeEvent.id).where(StripeEvent.event_id == event_id)).first():
            return Outcome("duplicate", event_id)
        session.add(StripeEvent(event_id=event_id, type=kind[:60], received_at=clock.now()))
        try:
            session.flush()
            handler(session, tenant=tenant, user_id=user_id, obj=obj, gw=gw)
            session.commit()
        except IntegrityError:
            session.rollback()  # the same event, processed concurrently
            return Outcome("duplicate", event_id)
        except DomainError as error:
            session.rollback()
            log.warning("stripe event %s (%s) not applied: %s", event_id, kind, error)
            return Outcome("ignored", event_id)
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            session.rollback()
            raise BadPayload(f"event {event_id} ({kind}) has malformed fields") from error
    return Outcome("processed", event_id)


def _routed(tenant: TenantInfo, account: str | None) -> bool:
    """Whether an event from `account` (None: the platform) may touch `tenant`."""
    from ezscale.services.payments import connect

    if account is None:
        return tenant.is_house or not connect.has_connected_account(tenant.id)
    owner = connect.tenant_for_account(account)
    if owner is None or owner.id != tenant.id:
        log.warning("stripe event from %s names tenant %s: not its account", account, tenant.id)
        return False
    return True


def _payment_for(session: Session, obj: dict[str, Any], intent_id: str | None) -> Payment | None:
    if intent_id:
        payment = session.exec(select(Payment).where(Payment.stripe_payment_intent_id == intent_id)).first()
        if payment is not None:
            return payment
    key = (obj.get("metadata") or {}).get("payment_key")
    return session.exec(select(Payment).where(Payment.idempotency_key == key)).first() if key else None


def _intent_succeeded(session: Session, *, obj: dict[str, Any], **_: object) -> None:
    payment = _payment_for(session, obj, obj.get("id"))
    if payment is not None:
        charge = obj.get("latest_charge")
        charge_id = charge.get("id") if isinstance(charge, dict) else charge
        payments.record_outcome(
            session, payment=payment, result=ChargeResult("succeeded", obj["id"], charge_id)
        )


def _intent_failed(session: Session, *, obj: dict[str, Any], **_: object) -> None:
    payment = _payment_for(session, obj, obj.get("id"))
    if payment is not None:
        error = obj.get("last_payment_error") or {}
        result = ChargeResult("failed", obj["id"], None, error.get("message") or "Payment failed.")
        payments.record_outcome(session, payment=payment, result=result)


def _charge_refunded(session: Session, *, obj: dict[str, Any], **_: object) -> None:
    payment = _payment_for(session, obj, obj.get("payment_intent"))
    if payment is None:
        return
    if payment.status.value == "pending":  # the refund proves the charge went through
        payments.record_outcome(
            session,
            payment=payment,
            result=ChargeResult("succeeded", obj.get("payment_intent"), obj.get("id")),
        )
    payments.record_refund(
        session,
        payment=payment,
        refunded_total_minor=int(obj.get("amount_refunded") or 0),
        reason="refunded at Stripe",
    )


def _dispute_created(session: Session, *, obj: dict[str, Any], **_: object) -> None:
    payment = _payment_for(session, obj, obj.get("payment_intent"))
    if payment is None:
        return
    payment.disputed = True
    session.add(payment)
    timeline.record(
        session,
        user_id=payment.user_id,
        invoice_id=payment.invoice_id,
        kind="dispute",
        message=f"Card payment disputed ({obj.get('reason') or 'no reason given'})",
        key=f"dispute:{obj.get('id')}",
    )


def _setup_succeeded(
    session: Session,
    *,
    tenant: TenantInfo,
    user_id: int | None,
    obj: dict[str, Any],
    gw: StripeGateway | None,
) -> None:
    if user_id is not None and obj.get("payment_method"):
        payments.save_card(session, tenant=tenant, user_id=user_id, setup_intent_id=obj["id"], gw=gw)


HANDLERS = {
    "payment_intent.succeeded": _intent_succeeded,
    "payment_intent.payment_failed": _intent_failed,
    "charge.refunded": _charge_refunded,
    "charge.dispute.created": _dispute_created,
    "setup_intent.succeeded": _setup_succeeded,
}
