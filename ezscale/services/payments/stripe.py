"""Stripe behind the gateway interface: a thin adapter over `billing.stripe_gateway`, whose
calls (and their retries and idempotency keys) are unchanged. Saving a card stays Stripe's
SetupIntent flow (`billing.payments.start_card_setup` / `save_card`)."""

from collections.abc import Mapping

from ezscale.money import Money
from ezscale.services.billing.stripe_gateway import StripeGateway
from ezscale.services.payments.gateway import (
    BadPayload,
    BadSignature,
    ChargeResult,
    Checkout,
    CheckoutState,
    EventKind,
    GatewayEvent,
    GatewayName,
)

_KINDS = {
    "payment_intent.succeeded": EventKind.PAYMENT_COMPLETED,
    "payment_intent.payment_failed": EventKind.PAYMENT_DENIED,
    "charge.refunded": EventKind.REFUNDED,
    "setup_intent.succeeded": EventKind.METHOD_SAVED,
}


class StripeAdapter:
    """The Stripe adapter of `Gateway`."""

    name = GatewayName.STRIPE

    def __init__(self, gw: StripeGateway) -> None:
        """Wrap the billing service's Stripe gateway."""
        self.gw = gw

    def test_connection(self) -> None:
        """List one charge: the key works."""
        self.gw._call(lambda: self.gw.client.v1.charges.list({"limit": 1}, self.gw._opts()))

    def charge_saved(
        self,
        *,
        customer_ref: str | None,
        method_token: str,
        amount: Money,
        idempotency_key: str,
        metadata: Mapping[str, str],
    ) -> ChargeResult:
        """An off-session PaymentIntent, exactly as billing has always sent it."""
        return self.gw.charge_off_session(
            customer_id=customer_ref or "",
            payment_method_id=method_token,
            amount_minor=amount.minor,
            currency=amount.currency,
            idempotency_key=idempotency_key,
            metadata=dict(metadata),
        )

    def start_checkout(
        self,
        *,
        customer_ref: str | None,
        amount: Money,
        invoice_ref: str,
        description: str,
        return_url: str,
        cancel_url: str,
        idempotency_key: str,
        save_method: bool,
        metadata: Mapping[str, str],
    ) -> Checkout:
        """The browser collects a one-off card with a SetupIntent (the existing card component);
        the amount rides in its metadata and the card is charged once it is confirmed."""
        intent = self.gw.create_setup_intent(
            customer_id=customer_ref or "",
            metadata={
                **metadata,
                "invoice_ref": invoice_ref,
                "checkout_amount": str(amount.minor),
                "checkout_currency": amount.currency,
            },
        )
        return Checkout(reference=intent.id, client_secret=intent.client_secret)

    def checkout_state(self, reference: str, *, idempotency_key: str) -> CheckoutState:
        """Once the card is confirmed, charge it (on-session, the key makes it one charge)."""
        intent = self.gw.retrieve_setup_intent(reference)
        if intent.status != "succeeded" or not intent.payment_method or not intent.customer:
            return CheckoutState("open")
        amount = Money(int(intent.metadata["checkout_amount"]), intent.metadata["checkout_currency"])
        result = self.gw.charge_on_session(
            customer_id=intent.customer,
            payment_method_id=intent.payment_method,
            amount_minor=amount.minor,
            currency=amount.currency,
            idempotency_key=idempotency_key,
            metadata={k: v for k, v in intent.metadata.items() if not k.startswith("checkout_")},
        )
        if result.status == "succeeded":
            return CheckoutState("completed", amount, result.payment_intent_id)
        if result.status == "failed":
            return CheckoutState("failed", failure_message=result.failure_message)
        return CheckoutState("open")

    def refund(self, *, payment_ref: str, amount: Money, idempotency_key: str) -> str:
        """Refund part or all of a PaymentIntent."""
        return self.gw.refund(
            payment_intent_id=payment_ref, amount_minor=amount.minor, idempotency_key=idempotency_key
        )

    def remove_method(self, method_token: str) -> None:
        """Detach the card from its Stripe customer."""
        self.gw.detach(method_token)

    def parse_webhook(self, payload: bytes, headers: Mapping[str, str]) -> GatewayEvent:
        """Verify a Stripe-Signature and read the event (billing.webhooks applies Stripe's)."""
        from ezscale.services.billing import webhooks

        lower = {k.lower(): v for k, v in headers.items()}
        try:
            event = webhooks.verify(payload, lower.get("stripe-signature"))
        except webhooks.BadSignature as error:
            raise BadSignature(str(error)) from error
        except ValueError as error:
            raise BadPayload("the payload is not JSON") from error
        obj = (event.get("data") or {}).get("object") or {}
        kind = str(event.get("type", ""))
        return GatewayEvent(
            gateway=GatewayName.STRIPE,
            event_id=str(event.get("id", "")),
            type=kind,
            kind=_KINDS.get(kind, EventKind.OTHER),
            reference=obj.get("payment_intent") or obj.get("id"),
            payment_ref=obj.get("payment_intent") or obj.get("id"),
            metadata={k: str(v) for k, v in (obj.get("metadata") or {}).items()},
        )
