"""A loopback BTCPay Server (Greenfield API, store-scoped) for the demo and the tests: invoices
with a checkout page whose buttons stand in for the payer's wallet ("pay full", "pay partial",
"overpay", "let expire"), refunds as pull payments, and webhooks signed with `BTCPay-Sig`.

Faults are injected per call name (`create_invoice`, `get_invoice`): `500`, `timeout` (carried
out, then the reply comes too late: a lost response).

Run alone: `python -m ezscale.simulators.btcpay --port 8398`.
"""

import argparse
import hashlib
import hmac
import html
import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from ezscale.simulators import ratelimit
from ezscale.simulators.rest import RunningServer, SimHandler, start, wait_forever

DEMO_STORE = "SimStore1"
DEMO_API_KEY = "sim-btcpay-key"


@dataclass(frozen=True, slots=True)
class Delivery:
    """A signed webhook on its way to a registered URL."""

    url: str
    headers: dict[str, str]
    body: bytes


def sign(secret: str, body: bytes) -> str:
    """`BTCPay-Sig`: sha256=<hex HMAC-SHA256 of the raw body, keyed with the webhook's secret>."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass
class BTCPaySimulator:
    """The simulator's state and behaviour; `serve()` puts it on a loopback port."""

    stores: dict[str, str] = field(default_factory=lambda: {DEMO_STORE: DEMO_API_KEY})
    hang_seconds: float = 3.0
    auto_deliver: bool = False
    base_url: str = ""
    invoices: dict[str, dict[str, Any]] = field(default_factory=dict)
    webhooks: dict[str, dict[str, Any]] = field(default_factory=dict)
    pull_payments: dict[str, dict[str, Any]] = field(default_factory=dict)
    outbox: list[Delivery] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    limiter: ratelimit.RateLimiter = field(default_factory=ratelimit.RateLimiter)
    clock: Callable[[], float] = time.time
    _faults: dict[str, list[str]] = field(default_factory=dict)
    _lock: threading.RLock = field(default_factory=threading.RLock)
    _hanging: threading.local = field(default_factory=threading.local)

    def inject(self, call: str, *faults: str) -> None:
        """Queue faults for the next calls named `call`."""
        with self._lock:
            self._faults.setdefault(call, []).extend(faults)

    def _fault(self, call: str) -> str | None:
        with self._lock:
            self.calls.append(call)
            queue = self._faults.get(call)
            fault = queue.pop(0) if queue else None
        if fault == "timeout":  # the call is carried out; its reply comes too late (`_hang`)
            self._hanging.value = True
        return fault

    def _hang(self) -> None:
        """After a `timeout` fault: hold the reply (outside every lock, once the result is kept)."""
        if getattr(self._hanging, "value", False):
            self._hanging.value = False
            time.sleep(self.hang_seconds)

    # -- webhooks --------------------------------------------------------------------------

    def signed(self, event: dict[str, Any], *, secret: str, url: str = "") -> Delivery:
        """The delivery of `event`, signed as BTCPay signs it."""
        body = json.dumps(event, separators=(",", ":")).encode()
        return Delivery(url, {"Content-Type": "application/json", "BTCPay-Sig": sign(secret, body)}, body)

    def _emit(self, invoice: dict[str, Any], kind: str, **extra: Any) -> None:
        for webhook_id, hook in self.webhooks.items():
            if hook["store"] != invoice["storeId"]:
                continue
            delivery_id = secrets.token_hex(8)
            event = {
                "deliveryId": delivery_id,
                "webhookId": webhook_id,
                "originalDeliveryId": delivery_id,
                "isRedelivery": False,
                "type": kind,
                "timestamp": int(self.clock()),
                "storeId": invoice["storeId"],
                "invoiceId": invoice["id"],
                "metadata": invoice["metadata"],
                **extra,
            }
            self.outbox.append(self.signed(event, secret=hook["secret"], url=hook["url"]))
        if self.auto_deliver:
            threading.Thread(target=self.deliver_all, daemon=True).start()

    def deliver_all(self) -> list[int]:
        """Post every queued delivery to its URL; returns the status codes (0: unreachable)."""
        with self._lock:
            queued, self.outbox = self.outbox, []
        statuses = []
        for delivery in queued:
            try:
                statuses.append(
                    httpx.post(
                        delivery.url, content=delivery.body, headers=delivery.headers, timeout=10
                    ).status_code
                )
            except httpx.HTTPError:
                statuses.append(0)
        return statuses

    # -- the payer's wallet ----------------------------------------------------------------

    def pay(self, invoice_id: str, action: str) -> str:
        """A payer's action on the checkout page: full | partial | over | expire. Returns where
        the page goes next (the merchant's redirect once the invoice is final, else itself)."""
        with self._lock:
            invoice = self.invoices[invoice_id]
            if invoice["status"] not in ("New", "Processing"):
                return invoice["checkout"].get("redirectURL") or f"/i/{invoice_id}"
            amount, paid = Decimal(invoice["amount"]), Decimal(invoice["paidAmount"])
            rest = amount - paid
            if action == "expire":
                invoice["status"] = "Expired"
                if paid > 0:
                    invoice["additionalStatus"] = "PaidPartial"
                self._emit(invoice, "InvoiceExpired", partiallyPaid=paid > 0)
                return invoice["checkout"].get("redirectURL") or f"/i/{invoice_id}"
            step = {
                "full": rest,
                "partial": (rest / 2).quantize(Decimal("0.01")),
                "over": rest + amount / 10,
            }[action]
            invoice["paidAmount"] = str(paid + step)
            self._emit(
                invoice,
                "InvoiceReceivedPayment",
                afterExpiration=False,
                paymentMethodId="BTC-CHAIN",
                payment={"id": secrets.token_hex(16), "value": str(step), "status": "Settled"},
            )
            if action == "partial":
                invoice["additionalStatus"] = "PaidPartial"
                return f"/i/{invoice_id}"
            over = paid + step > amount
            invoice["status"], invoice["additionalStatus"] = "Settled", "PaidOver" if over else "None"
            self._emit(invoice, "InvoiceSettled", manuallyMarked=False, overPaid=over)
            return invoice["checkout"].get("redirectURL") or f"/i/{invoice_id}"

    def checkout_page(self, invoice_id: str) -> str:
        """The checkout page: what is due and the payer's buttons."""
        invoice = self.invoices.get(invoice_id)
        if invoice is None:
            return "<p>No such invoice.</p>"
        due = Decimal(invoice["amount"]) - Decimal(invoice["paidAmount"])
        state = html.escape(f"{invoice['status']} ({invoice['additionalStatus']})")
        buttons = "".join(
            f'<form method="post" action="/i/{html.escape(invoice_id)}/{action}" style="display:inline">'
            f'<button type="submit" id="{action}">{label}</button></form> '
            for action, label in (
                ("full", "Pay full"),
                ("partial", "Pay partial"),
                ("over", "Overpay"),
                ("expire", "Let expire"),
            )
        )
        return (
            "<!doctype html><html><head><title>BTCPay (simulator)</title>"
            '<meta name="viewport" content="width=device-width"></head>'
            '<body style="font-family:sans-serif;max-width:30rem;margin:3rem auto">'
            f"<h1>Pay with Bitcoin</h1><p>{html.escape(str(invoice['metadata'].get('itemDesc', '')))}</p>"
            f"<p>Due: {due} {html.escape(invoice['currency'])}"
            f" — paid {html.escape(invoice['paidAmount'])}</p>"
            f"<p>Status: {state}</p>{buttons if invoice['status'] == 'New' else ''}</body></html>"
        )

    # -- API -------------------------------------------------------------------------------

    def handle(
        self, method: str, path: str, query: dict[str, list[str]], auth: str, raw: bytes
    ) -> tuple[int, Any]:
        """Answer one Greenfield call: (status, JSON body)."""
        reply = self._answer(method, path, query, auth, raw)
        self._hang()
        return reply

    def _answer(
        self, method: str, path: str, query: dict[str, list[str]], auth: str, raw: bytes
    ) -> tuple[int, Any]:
        parts = [p for p in path.split("/") if p]
        if parts[:3] != ["api", "v1", "stores"] or len(parts) < 4:
            return 404, {"code": "not-found", "message": "Not found"}
        store = parts[3]
        if store not in self.stores:
            return 404, {"code": "store-not-found", "message": "Store not found"}
        if auth != f"token {self.stores[store]}":
            return 401, {"code": "unauthenticated", "message": "Authentication is required"}
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            return 400, [{"path": "", "message": "Invalid JSON"}]
        rest = parts[4:]
        with self._lock:
            if not rest and method == "GET":
                return 200, {"id": store, "name": "Simulated store", "defaultCurrency": "USD"}
            if rest[:1] == ["invoices"]:
                return self._invoices(method, store, rest[1:], query, body)
            if rest == ["webhooks"] and method == "POST":
                webhook_id = secrets.token_hex(8)
                secret = str(body.get("secret") or secrets.token_urlsafe(16))
                self.webhooks[webhook_id] = {
                    "store": store,
                    "url": str(body.get("url", "")),
                    "secret": secret,
                }
                return 200, {"id": webhook_id, "url": body.get("url"), "secret": secret, "enabled": True}
        return 404, {"code": "not-found", "message": f"No route {method} {path}"}

    def _invoices(
        self, method: str, store: str, rest: list[str], query: dict[str, list[str]], body: dict[str, Any]
    ) -> tuple[int, Any]:
        if not rest and method == "POST":
            return self._create_invoice(store, body)
        if not rest and method == "GET":
            order = query["orderId"][0] if query.get("orderId") else None
            found = [i for i in self.invoices.values() if i["storeId"] == store]
            return 200, [i for i in found if order is None or i["metadata"].get("orderId") == order]
        invoice = self.invoices.get(rest[0]) if rest else None
        if invoice is None or invoice["storeId"] != store:
            return 404, {"code": "invoice-not-found", "message": "Invoice not found"}
        if len(rest) == 1 and method == "GET":
            if self._fault("get_invoice") == "500":
                return 500, {"code": "error", "message": "Internal error"}
            return 200, invoice
        if rest[1:] == ["refund"] and method == "POST":
            return self._refund(invoice, body)
        return 404, {"code": "not-found", "message": "No such invoice route"}

    def _create_invoice(self, store: str, body: dict[str, Any]) -> tuple[int, Any]:
        fault = self._fault("create_invoice")
        if fault == "500":
            return 500, {"code": "error", "message": "Internal error"}
        try:
            amount = Decimal(str(body["amount"]))
            assert amount > 0
        except Exception:
            return 400, [{"path": "amount", "message": "Amount should be a positive number"}]
        invoice_id = secrets.token_urlsafe(12)
        now = int(self.clock())
        invoice = {
            "id": invoice_id,
            "storeId": store,
            "amount": str(amount),
            "paidAmount": "0",
            "currency": str(body.get("currency", "USD")).upper(),
            "type": "Standard",
            "checkoutLink": f"{self.base_url}/i/{invoice_id}",
            "createdTime": now,
            "expirationTime": now + 15 * 60,
            "monitoringExpiration": now + 24 * 3600,
            "status": "New",
            "additionalStatus": "None",
            "metadata": dict(body.get("metadata") or {}),
            "checkout": dict(body.get("checkout") or {}),
            "archived": False,
        }
        self.invoices[invoice_id] = invoice
        self._emit(invoice, "InvoiceCreated")
        return 200, invoice

    def _refund(self, invoice: dict[str, Any], body: dict[str, Any]) -> tuple[int, Any]:
        if invoice["status"] != "Settled" and Decimal(invoice["paidAmount"]) <= 0:
            return 400, [{"path": "", "message": "This invoice has no payment to refund"}]
        pull_id = secrets.token_urlsafe(10)
        pull = {
            "id": pull_id,
            "name": body.get("name"),
            "amount": str(body.get("customAmount") or invoice["paidAmount"]),
            "currency": str(body.get("customCurrency") or invoice["currency"]),
            "viewLink": f"{self.base_url}/pull-payments/{pull_id}",
        }
        self.pull_payments[pull_id] = pull
        return 200, pull


def _handler_for(sim: BTCPaySimulator) -> type[BaseHTTPRequestHandler]:
    class Handler(SimHandler):
        def _any(self) -> None:
            method, raw = self.command, self.body()
            url = urlsplit(self.path)
            parts = [p for p in url.path.split("/") if p]
            if parts[:1] == ["i"] and len(parts) >= 2:
                if method == "GET":
                    return self.send(200, sim.checkout_page(parts[1]).encode(), "text/html; charset=utf-8")
                if (
                    parts[1] not in sim.invoices
                    or len(parts) != 3
                    or parts[2] not in ("full", "partial", "over", "expire")
                ):
                    return self.send(404, b"Not found", "text/plain")
                return self.send(303, b"", "text/plain", {"Location": sim.pay(parts[1], parts[2])})
            headers = {k.lower(): v for k, v in self.headers.items()}
            verdict, early = ratelimit.gate(sim.limiter, method, url.path, raw, headers)
            status, body = early or ratelimit.finish(
                verdict,
                sim.handle(method, url.path, parse_qs(url.query), self.headers.get("Authorization", ""), raw),
            )
            self.send(status, json.dumps(body).encode(), headers=verdict.headers())

        do_GET = do_POST = _any

    return Handler


def serve(sim: BTCPaySimulator, *, host: str = "127.0.0.1", port: int = 0) -> RunningServer:
    """Serve the simulator on a loopback port in a daemon thread."""
    running = start(_handler_for(sim), host=host, port=port)
    sim.base_url = running.url
    return running


def main(argv: list[str] | None = None, *, wait: Callable[[], object] | None = None) -> None:
    parser = argparse.ArgumentParser(description="BTCPay Server Greenfield API simulator")
    parser.add_argument("--port", type=int, default=8398)
    args = parser.parse_args(argv)
    running = serve(BTCPaySimulator(auto_deliver=True), port=args.port)
    wait_forever(f"BTCPay simulator on {running.url} (store {DEMO_STORE}, key {DEMO_API_KEY})", wait=wait)


if __name__ == "__main__":
    main()
