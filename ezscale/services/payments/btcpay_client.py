"""A small httpx client of BTCPay Server's Greenfield API (store-scoped paths): the store, invoices
(create, read, find by our order id), refunds (a pull payment the customer claims) and webhooks.

Greenfield has no idempotency header, so an invoice is created "find or create" by our own
`orderId`: a retry after a lost response finds the invoice the first request made. A 429 is
resent after its `Retry-After` (it never ran); a write is not resent after a 5xx.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from ezscale.services.payments import http_retry
from ezscale.services.payments.gateway import GatewayDeclined, GatewayUnavailable

Json = dict[str, Any] | list[Any] | None


def _object(data: Json) -> dict[str, Any]:
    """A reply that must be a JSON object (GatewayUnavailable when BTCPay sent anything else)."""
    if not isinstance(data, dict):
        raise GatewayUnavailable("BTCPay sent a reply we could not read.")
    return data


class BTCPayError(GatewayDeclined):
    """BTCPay refused a request (bad key, unknown store, invalid field)."""

    def __init__(self, message: str, *, status: int) -> None:
        """Keep the HTTP status for callers to branch on."""
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class Credentials:
    """A store's Greenfield API key, its id and the secret of the webhook registered for us."""

    api_key: str
    store_id: str
    webhook_secret: str = ""


class BTCPayClient:
    """Greenfield calls used by billing, against `api_base` (a BTCPay server or the simulator)."""

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
        self._http = httpx.Client(
            base_url=self.api_base, timeout=timeout, headers={"Authorization": f"token {credentials.api_key}"}
        )
        self._sleep, self._retries = sleep, retries

    @property
    def _store(self) -> str:
        return f"/api/v1/stores/{self.credentials.store_id}"

    def _call(
        self,
        method: str,
        path: str,
        *,
        body: dict[str, Any] | None = None,
        params: dict | None = None,
        retries: int | None = None,
    ) -> Json:
        response = http_retry.send(
            lambda: self._http.request(method, path, json=body, params=params),
            what=f"btcpay {method} {path}",
            sleep=self._sleep,
            retries=self._retries if retries is None else retries,
            safe=method == "GET",  # no idempotency key: a write is never resent after a 5xx
        )
        data = response.json() if response.content else None
        if response.status_code >= 400:
            if response.status_code in (401, 403):
                message = "BTCPay refused the API key (or it lacks the store permissions)."
            elif response.status_code == 404:
                message = "BTCPay does not know this store or invoice."
            elif isinstance(data, list) and data:
                message = f"BTCPay refused the request: {data[0].get('message', '')}"
            else:
                message = f"BTCPay refused the request: {(data or {}).get('message', response.status_code)}"
            raise BTCPayError(message, status=response.status_code)
        return data

    def get_store(self) -> dict[str, Any]:
        """`GET /api/v1/stores/{storeId}`."""
        return _object(self._call("GET", self._store))

    def find_invoice(self, order_id: str) -> dict[str, Any] | None:
        """The invoice made for our `orderId`, if any."""
        found = self._call("GET", f"{self._store}/invoices", params={"orderId": order_id})
        return _object(found[0]) if isinstance(found, list) and found else None

    def create_invoice(self, body: dict[str, Any]) -> dict[str, Any]:
        """Find or create the invoice of `body.metadata.orderId` (safe to retry): each POST is
        sent once, and after a lost reply the invoice is looked for before another POST."""
        order_id, attempt = body["metadata"]["orderId"], 0
        while True:
            existing = self.find_invoice(order_id)
            if existing is not None:
                return existing
            try:
                return _object(self._call("POST", f"{self._store}/invoices", body=body, retries=0))
            except GatewayUnavailable:
                attempt += 1
                if attempt > self._retries:
                    raise

    def get_invoice(self, invoice_id: str) -> dict[str, Any]:
        """`GET …/invoices/{id}`."""
        return _object(self._call("GET", f"{self._store}/invoices/{invoice_id}"))

    def refund(self, invoice_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """`POST …/invoices/{id}/refund`: a pull payment whose link the customer claims. Sent
        once (Greenfield has no idempotency key: a resent refund would be a second claim)."""
        return _object(
            self._call("POST", f"{self._store}/invoices/{invoice_id}/refund", body=body, retries=0)
        )

    def create_webhook(self, url: str, secret: str) -> str:
        """Register our endpoint for every event, signed with `secret`; returns the webhook id."""
        data = _object(
            self._call(
                "POST",
                f"{self._store}/webhooks",
                body={
                    "url": url,
                    "enabled": True,
                    "automaticRedelivery": True,
                    "authorizedEvents": {"everything": True},
                    "secret": secret,
                },
            )
        )
        return str(data["id"])
