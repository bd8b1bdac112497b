"""BTCPay Server behind the gateway interface: an invoice paid in crypto at the store's checkout
page, read back before anything is recorded (webhooks only say "look again"), refunds as pull
payments, and `BTCPay-Sig` webhooks (HMAC-SHA256 of the raw body with the webhook's secret).

Paid in full → settled; paid over → settled with the surplus as account credit; paid in part
and expired → what came in is recorded and the rest stays due. There is nothing to save for
renewals: crypto cannot be charged off-session.
"""

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from ezscale.errors import DomainError
from ezscale.money import Money, round_minor
from ezscale.services.payments.btcpay_client import BTCPayClient
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

# BTCPay retries a delivery for about an hour; older (or future) deliveries are refused.
TOLERANCE_SECONDS = 2 * 3600
FUTURE_SECONDS = 300

_KINDS = {
    "InvoiceSettled": EventKind.CHECKOUT_SETTLED,
    "InvoiceExpired": EventKind.CHECKOUT_EXPIRED,
    "InvoiceInvalid": EventKind.CHECKOUT_INVALID,
    "InvoiceReceivedPayment": EventKind.PAYMENT_RECEIVED,
    "InvoiceProcessing": EventKind.PAYMENT_RECEIVED,
}


def signature(secret: str, body: bytes) -> str:
    """The `BTCPay-Sig` header value of `body`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _money(value: object, currency: str) -> Money:
    try:
        return Money(round_minor(Decimal(str(value or "0")), currency), currency.upper())
    except InvalidOperation:
        return Money(0, currency.upper())


class BTCPayGateway:
    """The BTCPay adapter of `Gateway`."""

    name = GatewayName.BTCPAY

    def __init__(self, client: BTCPayClient) -> None:
        """Wrap a Greenfield client of one store."""
        self.client = client

    def test_connection(self) -> None:
        """Read the store: the key works and has access to it."""
        self.client.get_store()

    def charge_saved(
        self,
        *,
        customer_ref: str | None,
        method_token: str,
        amount: Money,
        idempotency_key: str,
        metadata: Mapping[str, str],
    ) -> ChargeResult:
        """Crypto is pushed by the payer: nothing can be charged off-session."""
        raise DomainError("Crypto payments cannot be charged automatically.")

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
        """A BTCPay invoice for the amount; its checkout link is the redirect."""
        invoice = self.client.create_invoice(
            {
                "amount": str(amount.amount),
                "currency": amount.currency,
                "metadata": {
                    "orderId": idempotency_key,
                    "itemDesc": description,
                    "invoiceRef": invoice_ref,
                    **{k: str(v) for k, v in metadata.items()},
                },
                "checkout": {"redirectURL": return_url, "redirectAutomatically": True},
            }
        )
        return Checkout(reference=str(invoice["id"]), redirect_url=str(invoice.get("checkoutLink", "")))

    def checkout_state(self, reference: str, *, idempotency_key: str) -> CheckoutState:
        """The invoice as BTCPay has it now (webhooks and redirects are never trusted alone)."""
        invoice = self.client.get_invoice(reference)
        currency = str(invoice.get("currency", ""))
        paid = _money(invoice.get("paidAmount"), currency)
        status = invoice.get("status")
        if status == "Settled":
            return CheckoutState("completed", paid, reference)
        if status == "Expired":
            return CheckoutState("partial", paid, reference) if paid.minor > 0 else CheckoutState("expired")
        if status == "Invalid":
            return CheckoutState("invalid", failure_message="The crypto payment was marked invalid.")
        return CheckoutState("open", paid, reference)

    def refund(self, *, payment_ref: str, amount: Money, idempotency_key: str) -> str:
        """A pull payment of `amount` (in the invoice's currency) for the payer to claim."""
        pull = self.client.refund(
            payment_ref,
            {
                "name": idempotency_key[-50:],
                "refundVariant": "Custom",
                "customAmount": str(amount.amount),
                "customCurrency": amount.currency,
            },
        )
        return str(pull.get("viewLink") or pull.get("id"))

    def remove_method(self, method_token: str) -> None:
        """Nothing to forget: BTCPay keeps no saved methods (each payment is a new invoice)."""

    def parse_webhook(self, payload: bytes, headers: Mapping[str, str]) -> GatewayEvent:
        """Check `BTCPay-Sig` and the delivery's age, then read it."""
        lower = {k.lower(): v for k, v in headers.items()}
        secret = self.client.credentials.webhook_secret
        given = lower.get("btcpay-sig", "")
        if not secret or not given or not hmac.compare_digest(given, signature(secret, payload)):
            raise BadSignature("BTCPay-Sig missing or wrong")
        try:
            event = json.loads(payload)
        except ValueError as error:
            raise BadPayload("the body is not JSON") from error
        if not isinstance(event, dict):
            raise BadPayload("the body is not an object")
        stamp = event.get("timestamp")
        if not isinstance(stamp, int) or not (-TOLERANCE_SECONDS <= stamp - time.time() <= FUTURE_SECONDS):
            raise BadSignature("the delivery's timestamp is outside the tolerance")
        event_id = event.get("originalDeliveryId") or event.get("deliveryId")
        kind, invoice_id = event.get("type"), event.get("invoiceId")
        if not (
            isinstance(event_id, str) and event_id and isinstance(kind, str) and isinstance(invoice_id, str)
        ):
            raise BadPayload("an event needs a delivery id, a type and an invoice id")
        found = event.get("metadata")
        metadata: dict[str, object] = found if isinstance(found, dict) else {}
        return GatewayEvent(
            gateway=GatewayName.BTCPAY,
            event_id=event_id,
            type=kind,
            kind=_KINDS.get(kind, EventKind.OTHER),
            occurred_at=datetime.fromtimestamp(stamp, UTC),
            reference=invoice_id,
            payment_ref=invoice_id,
            metadata={k: str(v) for k, v in metadata.items()},
        )
