"""The one interface every payment gateway implements, and the types it speaks.

Billing talks to a gateway only through `Gateway`: save a payment method (the adapters' own
flows), charge a saved method off-session with an idempotency key derived from the invoice and
its attempt number (`billing.payments.attempt_key`), start a one-off checkout of an invoice
(a redirect URL or a client secret), refund all or part of a payment, and turn a signed webhook
into our own `GatewayEvent`. Nothing here knows a gateway's wire format.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from ezscale.errors import DomainError
from ezscale.money import Money


class GatewayName(StrEnum):
    """The payment gateways EZSCALE speaks to."""

    STRIPE = "stripe"
    PAYPAL = "paypal"
    BTCPAY = "btcpay"


LABELS: dict[str, str] = {
    GatewayName.STRIPE: "Card",
    GatewayName.PAYPAL: "PayPal",
    GatewayName.BTCPAY: "Bitcoin (BTCPay)",
}


class GatewayUnavailable(DomainError):
    """The gateway could not be reached after the retries; the attempt can be repeated later."""


class GatewayDeclined(DomainError):
    """The gateway refused the request (a declined payment, a refund over what is left…)."""


class BadSignature(Exception):
    """A webhook whose signature is missing, wrong or too old: nothing is written."""


class BadPayload(Exception):
    """A signed webhook that is not an event we can read (not JSON, fields missing)."""


@dataclass(frozen=True, slots=True)
class ChargeResult:
    """The outcome of one charge attempt, in the terms the payment records use.

    `payment_intent_id`/`charge_id` are Stripe's; `gateway_ref` is another gateway's id of the
    money movement (a PayPal capture), kept on the payment for refunds."""

    status: str  # succeeded | failed | processing | requires_action
    payment_intent_id: str | None
    charge_id: str | None = None
    failure_message: str = ""
    gateway_ref: str | None = None


@dataclass(frozen=True, slots=True)
class Checkout:
    """A one-off payment started at the gateway: send the customer to `redirect_url`, or
    confirm `client_secret` in the browser (Stripe.js); `reference` finds it again."""

    reference: str
    redirect_url: str = ""
    client_secret: str = ""


@dataclass(frozen=True, slots=True)
class CheckoutState:
    """Where a checkout stands at the gateway, read back (never trusted from a redirect)."""

    status: str  # open | approved | completed | partial | expired | invalid | failed
    paid: Money | None = None
    payment_ref: str | None = None
    saved_method: str | None = None  # a vault token saved with the payment
    failure_message: str = ""


class EventKind(StrEnum):
    """What a gateway's webhook means to billing, whichever gateway sent it."""

    PAYMENT_COMPLETED = "payment_completed"
    PAYMENT_DENIED = "payment_denied"
    PAYMENT_RECEIVED = "payment_received"  # part or all of a crypto invoice seen, not final
    CHECKOUT_APPROVED = "checkout_approved"
    CHECKOUT_SETTLED = "checkout_settled"
    CHECKOUT_EXPIRED = "checkout_expired"
    CHECKOUT_INVALID = "checkout_invalid"
    REFUNDED = "refunded"
    METHOD_SAVED = "method_saved"
    METHOD_REMOVED = "method_removed"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class GatewayEvent:
    """A verified webhook in our terms. `reference` is the checkout's id at the gateway (order,
    crypto invoice), `payment_ref` the money movement's (capture), when the event names them."""

    gateway: GatewayName
    event_id: str
    type: str
    kind: EventKind
    occurred_at: datetime | None = None
    reference: str | None = None
    payment_ref: str | None = None
    amount: Money | None = None
    metadata: dict[str, str] = field(default_factory=dict)


class Gateway(Protocol):
    """What billing needs of a payment gateway."""

    name: GatewayName

    def test_connection(self) -> None:
        """Authenticate and read something harmless; raise DomainError saying what is wrong."""

    def charge_saved(
        self,
        *,
        customer_ref: str | None,
        method_token: str,
        amount: Money,
        idempotency_key: str,
        metadata: Mapping[str, str],
    ) -> ChargeResult:
        """Charge a saved method with the customer absent; a decline is a result, not an error."""

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
        """Start a one-off payment of an invoice, to be completed by the customer."""

    def checkout_state(self, reference: str, *, idempotency_key: str) -> CheckoutState:
        """Read a checkout back and finish it where the gateway needs us to (PayPal's capture)."""

    def refund(self, *, payment_ref: str, amount: Money, idempotency_key: str) -> str:
        """Refund part or all of a payment; returns the gateway's refund id (or claim link)."""

    def remove_method(self, method_token: str) -> None:
        """Forget a saved payment method at the gateway, so it can no longer be charged."""

    def parse_webhook(self, payload: bytes, headers: Mapping[str, str]) -> GatewayEvent:
        """Verify a webhook's signature and freshness, then read it; BadSignature or BadPayload."""
