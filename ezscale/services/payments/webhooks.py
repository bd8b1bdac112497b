"""PayPal and BTCPay webhooks: verified with the addressed tenant's own credentials, each event
applied once (its id is stored, unique, with its effects), whatever the order they come in.

Nothing is written for a forged or stale delivery. An event is only a prompt: the checkout it
names is read back from the gateway before anything is recorded. A refund reported before the
payment it refunds is refused with `NotYet` (nothing written), so the gateway delivers it again.
"""

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from ezscale import clock
from ezscale.errors import DomainError, NotFound
from ezscale.models.billing import Payment, PaymentMethod
from ezscale.models.payments import GatewayEvent as GatewayEventRow
from ezscale.services.billing import payments, timeline
from ezscale.services.payments import accounts, checkout
from ezscale.services.payments.gateway import (
    BadPayload,
    BadSignature,
    ChargeResult,
    EventKind,
    Gateway,
    GatewayEvent,
    GatewayName,
    GatewayUnavailable,
)
from ezscale.services.tenancy.tenants import TenantInfo, tenant_info, tenant_session

log = logging.getLogger(__name__)


class NotYet(Exception):
    """The event refers to something not recorded yet; the gateway should deliver it later."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of a webhook event: processed, duplicate or ignored."""

    status: str
    event_id: str = ""


def handle(
    tenant_id: int, gateway: str, payload: bytes, headers: Mapping[str, str], *, gw: Gateway | None = None
) -> Outcome:
    """Verify a delivery addressed to a tenant with its credentials and apply it exactly once.

    BadSignature (forged, stale, or the gateway is not set up there) and BadPayload write
    nothing; NotYet neither."""
    if gateway not in (GatewayName.PAYPAL, GatewayName.BTCPAY):
        raise BadSignature("not a webhook gateway")
    try:
        tenant = tenant_info(tenant_id)
        gw = gw or accounts.adapter(tenant, gateway, require_enabled=False)
    except (NotFound, DomainError) as error:
        raise BadSignature(str(error)) from error
    event = gw.parse_webhook(payload, headers)
    with tenant_session(tenant) as session:
        if session.exec(
            select(GatewayEventRow.id).where(
                GatewayEventRow.gateway == event.gateway.value, GatewayEventRow.event_id == event.event_id
            )
        ).first():
            return Outcome("duplicate", event.event_id)
        session.add(
            GatewayEventRow(
                gateway=event.gateway.value,
                event_id=event.event_id[:120],
                type=event.type[:60],
                received_at=clock.now(),
            )
        )
        try:
            session.flush()
            applied = _apply(session, tenant=tenant, gw=gw, event=event)
            session.commit()
        except IntegrityError:
            session.rollback()
            return Outcome("duplicate", event.event_id)
        except (NotYet, GatewayUnavailable):
            session.rollback()  # nothing kept: the gateway delivers the event again
            raise
        except DomainError as error:
            session.rollback()
            log.warning("%s event %s (%s) not applied: %s", gateway, event.event_id, event.type, error)
            return Outcome("ignored", event.event_id)
    return Outcome("processed" if applied else "ignored", event.event_id)


def _apply(session: Session, *, tenant: TenantInfo, gw: Gateway, event: GatewayEvent) -> bool:
    if event.kind is EventKind.REFUNDED:
        return _refunded(session, event)
    if event.kind is EventKind.METHOD_REMOVED:
        return _method_removed(session, event)
    if event.kind in (EventKind.OTHER, EventKind.METHOD_SAVED) or not event.reference:
        return False
    found = checkout.find(session, gateway=event.gateway, reference=event.reference)
    if found is not None:
        checkout.refresh(session, tenant=tenant, checkout=found, gw=gw)
        if event.kind is EventKind.PAYMENT_RECEIVED:
            timeline.record(
                session,
                user_id=found.user_id,
                invoice_id=found.invoice_id,
                kind="payment_seen",
                message="Crypto payment seen; waiting for confirmations",
                key=f"seen:{event.gateway.value}:{event.event_id}"[:160],
            )
        return True
    if event.kind in (EventKind.PAYMENT_COMPLETED, EventKind.PAYMENT_DENIED):
        return _off_session(session, tenant, event)
    return False


def _off_session(session: Session, tenant: TenantInfo, event: GatewayEvent) -> bool:
    """A saved-wallet charge (no checkout): find its attempt by capture id, else by the key
    carried as the capture's invoice id, and record the outcome (monotonic)."""
    payment = session.exec(
        select(Payment).where(
            Payment.gateway == event.gateway.value, Payment.gateway_ref == event.payment_ref
        )
    ).first()
    key = event.metadata.get("invoice_id", "")
    if payment is None and key:
        payment = session.exec(select(Payment).where(Payment.idempotency_key == key)).first()
    if payment is None:
        return False
    status = "succeeded" if event.kind is EventKind.PAYMENT_COMPLETED else "failed"
    message = "" if status == "succeeded" else "The payment was declined."
    payments.record_outcome(
        session,
        payment=payment,
        result=ChargeResult(status, None, None, message, gateway_ref=event.payment_ref),
        tenant=tenant,
    )
    return True


def _refunded(session: Session, event: GatewayEvent) -> bool:
    payment = session.exec(
        select(Payment).where(
            Payment.gateway == event.gateway.value, Payment.gateway_ref == event.payment_ref
        )
    ).first()
    if payment is None or event.amount is None:
        raise NotYet(f"no payment {event.payment_ref} yet")
    refund_id = event.metadata.get("resource_id") or event.event_id
    payments.record_refund(
        session,
        payment=payment,
        refunded_total_minor=min(payment.refunded_minor + event.amount.minor, payment.amount_minor),
        reason=f"refunded at {event.gateway.value}",
        key=payments.refund_key(event.gateway.value, refund_id),
    )
    return True


def _method_removed(session: Session, event: GatewayEvent) -> bool:
    method = session.exec(
        select(PaymentMethod).where(
            PaymentMethod.gateway == event.gateway.value,
            PaymentMethod.stripe_payment_method_id == event.payment_ref,
            col(PaymentMethod.removed_at).is_(None),
        )
    ).first()
    if method is None:
        return False
    method.removed_at, method.is_default = clock.now(), False
    session.add(method)
    return True


__all__ = ["BadPayload", "BadSignature", "NotYet", "Outcome", "handle"]
