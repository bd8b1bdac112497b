"""PayPal behind the gateway interface: checkout by order (create → payer approves → capture),
saved wallets (vault payment tokens, saved with a purchase) charged off-session with `vault_id`,
refunds of captures, and webhooks checked with PayPal's verify-webhook-signature postback."""

import json
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from ezscale.money import Money, round_minor
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
from ezscale.services.payments.paypal_client import PayPalClient, PayPalError

# A delivery signed longer ago than this (either way) is refused before anything is asked.
TOLERANCE_SECONDS = 300

EVENT_TYPES = [
    "CHECKOUT.ORDER.APPROVED",
    "PAYMENT.CAPTURE.COMPLETED",
    "PAYMENT.CAPTURE.DENIED",
    "PAYMENT.CAPTURE.DECLINED",
    "PAYMENT.CAPTURE.REFUNDED",
    "VAULT.PAYMENT-TOKEN.CREATED",
    "VAULT.PAYMENT-TOKEN.DELETED",
]

_KINDS = {
    "CHECKOUT.ORDER.APPROVED": EventKind.CHECKOUT_APPROVED,
    "PAYMENT.CAPTURE.COMPLETED": EventKind.PAYMENT_COMPLETED,
    "PAYMENT.CAPTURE.DENIED": EventKind.PAYMENT_DENIED,
    "PAYMENT.CAPTURE.DECLINED": EventKind.PAYMENT_DENIED,
    "PAYMENT.CAPTURE.REFUNDED": EventKind.REFUNDED,
    "VAULT.PAYMENT-TOKEN.CREATED": EventKind.METHOD_SAVED,
    "VAULT.PAYMENT-TOKEN.DELETED": EventKind.METHOD_REMOVED,
}


def wire_amount(amount: Money) -> dict[str, str]:
    """PayPal's money object: the value as a string with the currency's own decimals."""
    return {"currency_code": amount.currency, "value": str(amount.amount)}


def read_amount(data: object) -> Money | None:
    """Our Money from PayPal's money object (None when absent or not a number)."""
    if not isinstance(data, dict):
        return None
    try:
        currency = str(data["currency_code"]).upper()
        return Money(round_minor(Decimal(str(data["value"])), currency), currency)
    except (KeyError, InvalidOperation, TypeError):
        return None


class PayPalGateway:
    """The PayPal adapter of `Gateway`."""

    name = GatewayName.PAYPAL

    def __init__(self, client: PayPalClient, *, brand_name: str = "") -> None:
        """`brand_name` is what the payer sees at PayPal (the tenant's company name)."""
        self.client = client
        self.brand_name = brand_name

    def test_connection(self) -> None:
        """Fetch a fresh token: the credentials work and PayPal answers."""
        self.client.token(renew=True)

    def charge_saved(
        self,
        *,
        customer_ref: str | None,
        method_token: str,
        amount: Money,
        idempotency_key: str,
        metadata: Mapping[str, str],
    ) -> ChargeResult:
        """An order paid by a vaulted wallet, captured at once (no payer step)."""
        body = {
            "intent": "CAPTURE",
            "purchase_units": [
                {
                    "reference_id": str(metadata.get("invoice_id", "")) or "top-up",
                    "custom_id": str(metadata.get("custom_id", ""))[:127],
                    "invoice_id": idempotency_key[-127:],
                    "amount": wire_amount(amount),
                }
            ],
            "payment_source": {"paypal": {"vault_id": method_token}},
        }
        try:
            order = self.client.create_order(body, request_id=idempotency_key)
            if order.get("status") in ("CREATED", "APPROVED"):
                order = self.client.capture_order(order["id"], request_id=f"{idempotency_key}:capture")
        except PayPalError as error:
            if error.status >= 500 or error.status == 401:
                raise
            return ChargeResult("failed", None, None, str(error))
        state = _order_state(order)
        status = {"completed": "succeeded", "failed": "failed", "pending": "processing"}.get(
            state.status, "processing"
        )
        return ChargeResult(status, None, None, state.failure_message, gateway_ref=state.payment_ref)

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
        """Create an order the payer approves at PayPal; its payer-action link is the redirect."""
        paypal: dict[str, Any] = {
            "experience_context": {
                "return_url": return_url,
                "cancel_url": cancel_url,
                "brand_name": self.brand_name[:127],
                "shipping_preference": "NO_SHIPPING",
                "user_action": "PAY_NOW",
            }
        }
        if save_method:
            paypal["attributes"] = {
                "vault": {
                    "store_in_vault": "ON_SUCCESS",
                    "usage_type": "MERCHANT",
                    "customer_type": "CONSUMER",
                }
            }
        order = self.client.create_order(
            {
                "intent": "CAPTURE",
                "purchase_units": [
                    {
                        "reference_id": invoice_ref,
                        "invoice_id": invoice_ref,
                        "custom_id": str(metadata.get("custom_id", ""))[:127],
                        "description": description[:127],
                        "amount": wire_amount(amount),
                    }
                ],
                "payment_source": {"paypal": paypal},
            },
            request_id=idempotency_key,
        )
        link = next(
            (x["href"] for x in order.get("links", []) if x.get("rel") in ("payer-action", "approve")), ""
        )
        return Checkout(reference=str(order["id"]), redirect_url=link)

    def checkout_state(self, reference: str, *, idempotency_key: str) -> CheckoutState:
        """Read the order; capture it once approved (the same request id on every retry)."""
        order = self.client.get_order(reference)
        if order.get("status") == "APPROVED":
            try:
                order = self.client.capture_order(reference, request_id=idempotency_key)
            except PayPalError as error:
                if error.issue == "ORDER_ALREADY_CAPTURED":
                    order = self.client.get_order(reference)
                elif error.status < 500:
                    return CheckoutState("failed", failure_message=str(error))
                else:
                    raise
        return _order_state(order)

    def refund(self, *, payment_ref: str, amount: Money, idempotency_key: str) -> str:
        """Refund (part of) a capture; the request id makes a retried refund count once."""
        refund = self.client.refund_capture(
            payment_ref, {"amount": wire_amount(amount)}, request_id=idempotency_key[-108:]
        )
        return str(refund["id"])

    def remove_method(self, method_token: str) -> None:
        """Delete a vaulted wallet at PayPal."""
        self.client.delete_payment_token(method_token)

    def parse_webhook(self, payload: bytes, headers: Mapping[str, str]) -> GatewayEvent:
        """Refuse stale or unsigned deliveries, verify the rest with PayPal, then read them."""
        lower = {k.lower(): v for k, v in headers.items()}
        sent = _parse_time(lower.get("paypal-transmission-time", ""))
        if sent is None or abs(time.time() - sent.timestamp()) > TOLERANCE_SECONDS:
            raise BadSignature("transmission time missing or outside the tolerance")
        if not lower.get("paypal-transmission-sig") or not self.client.credentials.webhook_id:
            raise BadSignature("no signature, or no webhook registered")
        try:
            event = json.loads(payload)
        except ValueError as error:
            raise BadSignature("the body is not JSON") from error
        if not isinstance(event, dict) or not self.client.verify_webhook(lower, event):
            raise BadSignature("PayPal did not confirm the signature")
        return _event(event)


def _parse_time(text: str) -> datetime | None:
    try:
        at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _order_state(order: dict[str, Any]) -> CheckoutState:
    status = order.get("status")
    if status == "COMPLETED":
        unit = (order.get("purchase_units") or [{}])[0]
        captures = (unit.get("payments") or {}).get("captures") or []
        capture = captures[0] if captures else {}
        vault = ((order.get("payment_source") or {}).get("paypal") or {}).get("attributes", {}).get(
            "vault"
        ) or {}
        saved = vault.get("id") if vault.get("status") == "VAULTED" else None
        capture_status = capture.get("status")
        if capture_status in ("COMPLETED", "PARTIALLY_REFUNDED", "REFUNDED"):
            return CheckoutState("completed", read_amount(capture.get("amount")), capture.get("id"), saved)
        if capture_status == "PENDING":
            return CheckoutState("pending", read_amount(capture.get("amount")), capture.get("id"), saved)
        return CheckoutState("failed", None, capture.get("id"), None, "PayPal declined the payment.")
    if status == "APPROVED":
        return CheckoutState("approved")
    if status == "VOIDED":
        return CheckoutState("failed", failure_message="The PayPal order was voided.")
    return CheckoutState("open")


def _event(event: dict[str, Any]) -> GatewayEvent:
    event_id, kind, resource = event.get("id"), event.get("event_type"), event.get("resource")
    if not (isinstance(event_id, str) and event_id and isinstance(kind, str) and isinstance(resource, dict)):
        raise BadPayload("an event needs an id, an event_type and a resource")
    related = (resource.get("supplementary_data") or {}).get("related_ids") or {}
    reference, payment_ref = related.get("order_id"), resource.get("id")
    if kind == "CHECKOUT.ORDER.APPROVED":
        reference, payment_ref = resource.get("id"), None
    if kind == "PAYMENT.CAPTURE.REFUNDED":
        up = [x.get("href", "") for x in resource.get("links") or [] if x.get("rel") == "up"]
        payment_ref = up[0].rsplit("/", 1)[-1] if up else None
    return GatewayEvent(
        gateway=GatewayName.PAYPAL,
        event_id=event_id,
        type=kind,
        kind=_KINDS.get(kind, EventKind.OTHER),
        occurred_at=_parse_time(str(event.get("create_time", ""))),
        reference=str(reference) if reference else None,
        payment_ref=str(payment_ref) if payment_ref else None,
        amount=read_amount(resource.get("amount")),
        metadata={
            "custom_id": str(resource.get("custom_id") or ""),
            "invoice_id": str(resource.get("invoice_id") or ""),
            "resource_id": str(resource.get("id") or ""),
        },
    )
