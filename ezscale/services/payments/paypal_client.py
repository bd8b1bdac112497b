"""A small httpx client of PayPal's REST API: OAuth token (cached until shortly before it
expires), Orders v2, Vault v3 payment tokens, refunds, webhook registration and verification.

Every call that moves money carries `PayPal-Request-Id`; a retry after a lost response or a 5xx
sends the same id, which PayPal answers with the first result (calls without one are resent
after a 5xx only when they read); a 429 waits its `Retry-After` and is resent. Errors are
branched on `details[].issue`.
"""

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from ezscale.services.payments import http_retry
from ezscale.services.payments.gateway import GatewayDeclined

TOKEN_MARGIN_SECONDS = 60


class PayPalError(GatewayDeclined):
    """PayPal refused a request: `name` (e.g. UNPROCESSABLE_ENTITY) and the first `issue`."""

    def __init__(self, message: str, *, status: int, name: str = "", issue: str = "") -> None:
        """Keep the status, the error name and the first issue for callers to branch on."""
        super().__init__(message)
        self.status, self.name, self.issue = status, name, issue


@dataclass(frozen=True, slots=True)
class Credentials:
    """An app's REST credentials and the id of the webhook registered for this platform."""

    client_id: str
    secret: str
    webhook_id: str = ""


_tokens: dict[tuple[str, str], tuple[str, float]] = {}
_tokens_lock = threading.Lock()


class PayPalClient:
    """PayPal calls used by billing, against `api_base` (the sandbox, live, or the simulator)."""

    def __init__(
        self,
        api_base: str,
        credentials: Credentials,
        *,
        timeout: float = 10.0,
        sleep: Callable[[float], None] = time.sleep,
        retries: int = http_retry.RETRIES,
    ) -> None:
        """`sleep` and `retries` are injectable so tests of the back-off do not wait."""
        self.api_base = api_base.rstrip("/")
        self.credentials = credentials
        self._http = httpx.Client(base_url=self.api_base, timeout=timeout)
        self._sleep, self._retries = sleep, retries

    def token(self, *, renew: bool = False) -> str:
        """An access token, from the cache while it has more than a minute to live."""
        key = (self.api_base, self.credentials.client_id)
        with _tokens_lock:
            cached = _tokens.get(key)
            if cached and not renew and cached[1] - TOKEN_MARGIN_SECONDS > time.monotonic():
                return cached[0]
        response = http_retry.send(
            lambda: self._http.post(
                "/v1/oauth2/token",
                data={"grant_type": "client_credentials"},
                auth=(self.credentials.client_id, self.credentials.secret),
            ),
            what="paypal token",
            sleep=self._sleep,
            retries=self._retries,
        )
        if response.status_code != 200:
            raise PayPalError(
                "PayPal refused the credentials (client id or secret is wrong).",
                status=response.status_code,
                name="AUTHENTICATION_FAILURE",
            )
        body = response.json()
        with _tokens_lock:
            _tokens[key] = (body["access_token"], time.monotonic() + float(body.get("expires_in", 0)))
        return body["access_token"]

    def _call(
        self, method: str, path: str, *, body: dict[str, Any] | None = None, request_id: str | None = None
    ) -> dict[str, Any]:
        def once(token: str) -> httpx.Response:
            headers = {"Authorization": f"Bearer {token}", "Prefer": "return=representation"}
            if request_id:
                headers["PayPal-Request-Id"] = request_id
            return http_retry.send(
                lambda: self._http.request(method, path, json=body, headers=headers),
                what=f"paypal {method} {path}",
                sleep=self._sleep,
                retries=self._retries,
                # a 5xx may come after the call ran: resent only with its key, or if it only reads
                safe=bool(request_id) or method == "GET" or path.endswith("/verify-webhook-signature"),
            )

        response = once(self.token())
        if response.status_code == 401:  # the token expired early or was revoked
            response = once(self.token(renew=True))
        if response.status_code == 204:
            return {}
        data = response.json() if response.content else {}
        if response.status_code >= 400:
            details = data.get("details") or [{}]
            issue = str(details[0].get("issue", ""))
            raise PayPalError(
                _message(issue, data),
                status=response.status_code,
                name=str(data.get("name", "")),
                issue=issue,
            )
        return data

    def create_order(self, body: dict[str, Any], *, request_id: str) -> dict[str, Any]:
        """`POST /v2/checkout/orders`."""
        return self._call("POST", "/v2/checkout/orders", body=body, request_id=request_id)

    def get_order(self, order_id: str) -> dict[str, Any]:
        """`GET /v2/checkout/orders/{id}`."""
        return self._call("GET", f"/v2/checkout/orders/{order_id}")

    def capture_order(self, order_id: str, *, request_id: str) -> dict[str, Any]:
        """`POST /v2/checkout/orders/{id}/capture`."""
        return self._call("POST", f"/v2/checkout/orders/{order_id}/capture", body={}, request_id=request_id)

    def refund_capture(self, capture_id: str, body: dict[str, Any], *, request_id: str) -> dict[str, Any]:
        """`POST /v2/payments/captures/{id}/refund` (empty body: the whole remaining amount)."""
        return self._call(
            "POST", f"/v2/payments/captures/{capture_id}/refund", body=body, request_id=request_id
        )

    def delete_payment_token(self, token_id: str) -> None:
        """`DELETE /v3/vault/payment-tokens/{id}`: the saved wallet can no longer be charged."""
        self._call("DELETE", f"/v3/vault/payment-tokens/{token_id}")

    def create_webhook(self, url: str, event_types: list[str]) -> str:
        """`POST /v1/notifications/webhooks`; returns the webhook id used to verify deliveries."""
        data = self._call(
            "POST",
            "/v1/notifications/webhooks",
            body={"url": url, "event_types": [{"name": name} for name in event_types]},
        )
        return str(data["id"])

    def verify_webhook(self, headers: dict[str, str], event: dict[str, Any]) -> bool:
        """`POST /v1/notifications/verify-webhook-signature` with the delivery's headers."""
        data = self._call(
            "POST",
            "/v1/notifications/verify-webhook-signature",
            body={
                "auth_algo": headers.get("paypal-auth-algo", ""),
                "cert_url": headers.get("paypal-cert-url", ""),
                "transmission_id": headers.get("paypal-transmission-id", ""),
                "transmission_sig": headers.get("paypal-transmission-sig", ""),
                "transmission_time": headers.get("paypal-transmission-time", ""),
                "webhook_id": self.credentials.webhook_id,
                "webhook_event": event,
            },
        )
        return data.get("verification_status") == "SUCCESS"


_MESSAGES = {
    "INSTRUMENT_DECLINED": "PayPal declined the payment method; choose another one at PayPal.",
    "TRANSACTION_REFUSED": "PayPal refused the payment.",
    "PAYER_CANNOT_PAY": "PayPal says this account cannot pay; choose another way to pay.",
    "ORDER_NOT_APPROVED": "The PayPal payment was not approved.",
    "CAPTURE_FULLY_REFUNDED": "This PayPal payment is already fully refunded.",
    "REFUND_AMOUNT_EXCEEDED": "The refund is more than what is left of the PayPal payment.",
    "REFUND_TIME_LIMIT_EXCEEDED": "PayPal no longer allows a refund of this payment.",
}


def _message(issue: str, data: dict[str, Any]) -> str:
    return _MESSAGES.get(issue) or "PayPal refused the request" + (f" ({issue})." if issue else ".")
