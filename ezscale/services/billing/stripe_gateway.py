"""Stripe behind a small typed interface, through the official `StripeClient`.

`STRIPE_API_BASE` points the client at localstripe (tests, demo); unset, it talks to Stripe.
Calls that create money movements carry an idempotency key and are retried with the same key
on 429 (rate limit), 5xx and lost connections, so a retried charge is never a second charge.
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, partial
from typing import Any, TypeVar

import stripe
from stripe._base_address import BaseAddresses
from stripe._request_options import RequestOptions
from stripe.params import PaymentIntentCreateParams, SetupIntentCreateParams

from ezscale.errors import DomainError
from ezscale.services.payments import http_retry
from ezscale.services.payments.gateway import ChargeResult
from ezscale.settings import get_settings

log = logging.getLogger(__name__)
T = TypeVar("T")


class PaymentProviderUnavailable(DomainError):
    """Stripe could not be reached after the retries; the attempt can be repeated later."""


@dataclass(frozen=True, slots=True)
class CardInfo:
    """A saved card as Stripe reports it."""

    id: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int
    customer: str | None


@dataclass(frozen=True, slots=True)
class SetupIntentInfo:
    """A Stripe SetupIntent: how a customer saves a card without paying."""

    id: str
    client_secret: str
    status: str
    payment_method: str | None
    customer: str | None
    metadata: dict


def _retryable(error: stripe.StripeError) -> bool:
    if isinstance(error, stripe.RateLimitError | stripe.APIConnectionError):
        return True
    if error.http_status == 409:  # the same key is still being processed: ask again for its result
        return True
    return isinstance(error, stripe.APIError) and (error.http_status or 500) >= 500


class StripeGateway:
    """Stripe calls used by billing, each retried with back-off while Stripe is unreachable."""

    def __init__(
        self,
        client: stripe.StripeClient,
        *,
        sleep: Callable[[float], None] = time.sleep,
        account: str | None = None,
    ) -> None:
        """`sleep` is injectable so tests of the retry back-off do not wait. With `account`
        (a reseller's connected account) every call carries `Stripe-Account`: a direct charge."""
        self.client = client
        self._sleep = sleep
        self.account = account

    def on_account(self, account: str | None) -> "StripeGateway":
        """The same gateway acting on `account` (a connected account), or on the platform (None)."""
        if account == self.account:
            return self
        return StripeGateway(self.client, sleep=self._sleep, account=account)

    def _opts(self, idempotency_key: str | None = None) -> RequestOptions:
        options: RequestOptions = {}
        if self.account:
            options["stripe_account"] = self.account
        if idempotency_key:
            options["idempotency_key"] = idempotency_key
        return options

    def _call(self, fn: Callable[[], T], *, resend: bool = True) -> T:
        """Run one Stripe call: a 429 is waited and resent (it never ran); a 5xx or a lost reply
        is resent only when `resend` (the call carries an idempotency key, or repeating it is
        harmless), since Stripe may have carried out the first request."""
        settings = get_settings()
        attempt = limited = 0
        waited = 0.0
        while True:
            try:
                return fn()
            except stripe.RateLimitError as error:
                # Refused before it ran: wait what Retry-After asks, resend (same key), uncounted.
                if waited < http_retry.RATE_LIMIT_WAIT_SECONDS:
                    limited += 1
                    default = settings.stripe_retry_base_seconds * 2 ** min(limited - 1, 5)
                    delay = http_retry.rate_limit_wait(http_retry.retry_after_header(error.headers, default))
                    self._sleep(delay)
                    waited += max(delay, 0.001)
                    continue
                raise PaymentProviderUnavailable(
                    "The payment provider is unavailable; try again later."
                ) from error
            except stripe.StripeError as error:
                if not _retryable(error) or not resend or attempt >= settings.stripe_max_retries:
                    if _retryable(error):
                        raise PaymentProviderUnavailable(
                            "The payment provider is unavailable; try again later."
                        ) from error
                    raise
                delay = settings.stripe_retry_base_seconds * 2**attempt
                log.warning(
                    "stripe call failed (%s); retry %d in %.2fs", type(error).__name__, attempt + 1, delay
                )
                self._sleep(delay)
                attempt += 1

    def create_customer(self, *, email: str, name: str, metadata: dict[str, str]) -> str:
        """Create a Stripe customer; returns its id."""
        customer = self._call(
            lambda: self.client.v1.customers.create(
                {"email": email, "name": name, "metadata": metadata}, self._opts()
            ),
            resend=False,  # no key: a resend after a lost reply would make a second customer
        )
        return customer.id

    def create_setup_intent(self, *, customer_id: str, metadata: dict[str, str]) -> SetupIntentInfo:
        """Start saving a card for off-session charges; the browser confirms it with the client secret."""
        params: SetupIntentCreateParams = {
            "customer": customer_id,
            "usage": "off_session",
            # The API version localstripe speaks takes this key (newer ones say allowed_payment_method_types).
            "payment_method_types": ["card"],  # type: ignore[typeddict-unknown-key]
            "metadata": metadata,
        }
        intent = self._call(lambda: self.client.v1.setup_intents.create(params, self._opts()), resend=False)
        return _setup_info(intent)

    def retrieve_setup_intent(self, setup_intent_id: str) -> SetupIntentInfo:
        """Read a SetupIntent back, to learn whether the card was saved."""
        return _setup_info(
            self._call(lambda: self.client.v1.setup_intents.retrieve(setup_intent_id, None, self._opts()))
        )

    def card(self, payment_method_id: str) -> CardInfo:
        """Read a saved card's brand, last digits and expiry."""
        return _card(
            self._call(lambda: self.client.v1.payment_methods.retrieve(payment_method_id, None, self._opts()))
        )

    def attach(self, *, payment_method_id: str, customer_id: str) -> CardInfo:
        """Attach a card to the customer; a card already attached to it is left as it is."""
        current = self.card(payment_method_id)
        if current.customer == customer_id:
            return current
        try:
            method = self._call(
                lambda: self.client.v1.payment_methods.attach(
                    payment_method_id, {"customer": customer_id}, self._opts()
                )
            )
        except stripe.CardError as error:
            raise DomainError(error.user_message or "The card was declined.") from error
        return _card(method)

    def detach(self, payment_method_id: str) -> None:
        """Detach a card from its customer, so it can no longer be charged."""
        self._call(lambda: self.client.v1.payment_methods.detach(payment_method_id, None, self._opts()))

    def set_default(self, *, customer_id: str, payment_method_id: str) -> None:
        """Make the card the customer's default payment method at Stripe."""
        self._call(
            lambda: self.client.v1.customers.update(
                customer_id, {"invoice_settings": {"default_payment_method": payment_method_id}}, self._opts()
            )
        )

    def charge_off_session(
        self,
        *,
        customer_id: str,
        payment_method_id: str,
        amount_minor: int,
        currency: str,
        idempotency_key: str,
        metadata: dict[str, str],
    ) -> ChargeResult:
        """Create and confirm an off-session PaymentIntent; a decline is a result, not an error."""
        params: PaymentIntentCreateParams = {
            "amount": amount_minor,
            "currency": currency.lower(),
            "customer": customer_id,
            "payment_method": payment_method_id,
            "off_session": True,
            "confirm": True,
            "metadata": metadata,
        }
        try:
            intent = self._call(
                lambda: self.client.v1.payment_intents.create(params, self._opts(idempotency_key))
            )
        except stripe.CardError as error:
            body: dict[str, Any] = error.json_body if isinstance(error.json_body, dict) else {}
            intent_id = (body.get("error") or {}).get("payment_intent", {}).get("id")
            return ChargeResult("failed", intent_id, None, error.user_message or "The card was declined.")
        return _charge_result(intent)

    def charge_on_session(
        self,
        *,
        customer_id: str,
        payment_method_id: str,
        amount_minor: int,
        currency: str,
        idempotency_key: str,
        metadata: dict[str, str],
    ) -> ChargeResult:
        """Charge a card the customer just entered (a one-off payment, confirmed on the server);
        a decline is a result, not an error."""
        params: PaymentIntentCreateParams = {
            "amount": amount_minor,
            "currency": currency.lower(),
            "customer": customer_id,
            "payment_method": payment_method_id,
            "confirm": True,
            "metadata": metadata,
        }
        try:
            intent = self._call(
                lambda: self.client.v1.payment_intents.create(params, self._opts(idempotency_key))
            )
        except stripe.CardError as error:
            body: dict[str, Any] = error.json_body if isinstance(error.json_body, dict) else {}
            intent_id = (body.get("error") or {}).get("payment_intent", {}).get("id")
            return ChargeResult("failed", intent_id, None, error.user_message or "The card was declined.")
        return _charge_result(intent)

    def find_payment(self, *, customer_id: str, payment_key: str) -> ChargeResult | None:
        """A PaymentIntent this platform already confirmed for `payment_key` (crash recovery):
        through the customer's recent charges, since every confirmed attempt leaves one."""
        charges = self._call(
            lambda: self.client.v1.charges.list({"customer": customer_id, "limit": 100}, self._opts())
        )
        seen: set[str] = set()
        for charge in charges.data:
            intent = charge.payment_intent
            intent_id = intent if isinstance(intent, str) or intent is None else intent.id
            if not intent_id or intent_id in seen:
                continue
            seen.add(intent_id)
            found = self._call(
                partial(self.client.v1.payment_intents.retrieve, intent_id, None, self._opts())
            )
            if _metadata(found).get("payment_key") == payment_key:
                return _charge_result(found)
        return None

    def charge_customer(self, charge_id: str) -> str | None:
        """The Stripe customer id a charge belongs to (webhooks use it to find the tenant)."""
        charge = self._call(lambda: self.client.v1.charges.retrieve(charge_id, None, self._opts()))
        return (
            charge.customer
            if isinstance(charge.customer, str) or charge.customer is None
            else charge.customer.id
        )

    def refund(self, *, payment_intent_id: str, amount_minor: int, idempotency_key: str) -> str:
        """Refund part or all of a payment; the idempotency key makes a retried refund count once."""
        refund = self._call(
            lambda: self.client.v1.refunds.create(
                {"payment_intent": payment_intent_id, "amount": amount_minor},
                self._opts(idempotency_key),
            )
        )
        return refund.id


def _metadata(obj: stripe.StripeObject) -> dict:
    metadata = getattr(obj, "metadata", None)
    return metadata.to_dict() if metadata is not None else {}


def _setup_info(intent: stripe.SetupIntent) -> SetupIntentInfo:
    method = intent.payment_method
    return SetupIntentInfo(
        id=intent.id,
        client_secret=intent.client_secret or "",
        status=intent.status,
        payment_method=method if isinstance(method, str) or method is None else method.id,
        customer=intent.customer
        if isinstance(intent.customer, str) or intent.customer is None
        else intent.customer.id,
        metadata=_metadata(intent),
    )


def _card(method: stripe.PaymentMethod) -> CardInfo:
    card = method.card
    return CardInfo(
        id=method.id,
        brand=card.brand if card else method.type,
        last4=card.last4 if card else "",
        exp_month=card.exp_month if card else 0,
        exp_year=card.exp_year if card else 0,
        customer=method.customer
        if isinstance(method.customer, str) or method.customer is None
        else method.customer.id,
    )


def _charge_result(intent: stripe.PaymentIntent) -> ChargeResult:
    status = {"succeeded": "succeeded", "requires_payment_method": "failed", "canceled": "failed"}.get(
        intent.status, "requires_action" if intent.status == "requires_action" else "processing"
    )
    charge = intent.latest_charge
    charge_id = charge if isinstance(charge, str) or charge is None else charge.id
    error = intent.last_payment_error
    message = (error.message if error else "") if status == "failed" else ""
    return ChargeResult(
        status, intent.id, charge_id, message or ("" if status != "failed" else "Payment failed.")
    )


@cache
def _default_client(api_key: str, api_base: str | None) -> stripe.StripeClient:
    addresses: BaseAddresses | None = {"api": api_base} if api_base else None
    return stripe.StripeClient(
        api_key,
        base_addresses=addresses,
        http_client=stripe.HTTPXClient(allow_sync_methods=True),
        max_network_retries=0,
    )


def gateway(account: str | None = None) -> StripeGateway:
    """The gateway configured by STRIPE_SECRET_KEY and STRIPE_API_BASE, on the platform's
    account or (with `account`) on a reseller's connected account."""
    settings = get_settings()
    return StripeGateway(
        _default_client(settings.stripe_secret_key, settings.stripe_api_base), account=account
    )
