"""A loopback PayPal REST API for the demo and the tests: OAuth client credentials, Orders v2
with an approval page, captures, Vault v3 payment tokens (saved with a purchase, charged with
`vault_id`), refunds, and webhooks signed like PayPal's (RSA over
`<transmission id>|<time>|<webhook id>|<CRC32 of the body>`) with the
`verify-webhook-signature` postback to check them.

`PayPal-Request-Id` replays the first result (200 instead of 201). Faults are injected per call
name (`token`, `create_order`, `capture`, `refund`, `verify`): `500`, `timeout` (the call is
carried out, then the reply never comes in time: a lost response), `declined`
(INSTRUMENT_DECLINED on capture, a DECLINED capture on a vault charge). Rate limits and random
429/5xx: `limiter` (`ratelimit.py`, `POST /_config/limits`).

Run alone: `python -m ezscale.simulators.paypal --port 8397`.
"""

import argparse
import base64
import html
import json
import secrets
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from ezscale.simulators import ratelimit
from ezscale.simulators.rest import RunningServer, SimHandler, start, wait_forever

DEMO_CLIENT_ID = "sim-paypal-client"
DEMO_SECRET = "sim-paypal-secret"


def _now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _id(prefix: str) -> str:
    return prefix + secrets.token_hex(8).upper()


def body_bytes(event: dict[str, Any]) -> bytes:
    """How the simulator serialises a webhook body (and re-serialises one sent back to verify)."""
    return json.dumps(event, separators=(",", ":")).encode()


# Currencies PayPal takes without decimals; any other has two. A value with more decimals than
# its currency has is refused (DECIMAL_PRECISION), as PayPal does.
_ZERO_DECIMAL = frozenset({"HUF", "JPY", "TWD"})


def _check_precision(amount: dict[str, Any]) -> None:
    value = str(amount.get("value", ""))
    places = len(value.split(".", 1)[1]) if "." in value else 0
    if places > (0 if str(amount.get("currency_code", "")).upper() in _ZERO_DECIMAL else 2):
        raise Reply(
            422,
            "UNPROCESSABLE_ENTITY",
            "DECIMAL_PRECISION",
            "The currency does not support this many decimals.",
        )


@dataclass(frozen=True, slots=True)
class Delivery:
    """A signed webhook on its way to a registered URL."""

    url: str
    headers: dict[str, str]
    body: bytes


class Reply(Exception):
    """An API error reply in PayPal's shape."""

    def __init__(self, status: int, name: str, issue: str = "", message: str = "") -> None:
        super().__init__(message or issue or name)
        self.status, self.name, self.issue = status, name, issue

    def body(self) -> dict[str, Any]:
        details = [{"issue": self.issue, "description": str(self)}] if self.issue else []
        return {"name": self.name, "message": str(self), "debug_id": secrets.token_hex(6), "details": details}


@dataclass
class PayPalSimulator:
    """The simulator's state and behaviour; `serve()` puts it on a loopback port."""

    clients: dict[str, str] = field(default_factory=lambda: {DEMO_CLIENT_ID: DEMO_SECRET})
    token_seconds: int = 32400
    hang_seconds: float = 3.0
    auto_deliver: bool = False
    base_url: str = ""
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    captures: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    vault: dict[str, dict[str, Any]] = field(default_factory=dict)
    webhooks: dict[str, dict[str, Any]] = field(default_factory=dict)
    outbox: list[Delivery] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    limiter: ratelimit.RateLimiter = field(default_factory=ratelimit.RateLimiter)
    _tokens: dict[str, tuple[str, float]] = field(default_factory=dict)
    _replays: dict[tuple[str, str], tuple[int, Any]] = field(default_factory=dict)
    _faults: dict[str, list[str]] = field(default_factory=dict)
    _key: rsa.RSAPrivateKey = field(default_factory=lambda: rsa.generate_private_key(65537, 2048))
    _lock: threading.RLock = field(default_factory=threading.RLock)
    _hanging: threading.local = field(default_factory=threading.local)

    def inject(self, call: str, *faults: str) -> None:
        """Queue faults for the next calls named `call`."""
        with self._lock:
            self._faults.setdefault(call, []).extend(faults)

    def save_wallet(self, *, client: str = DEMO_CLIENT_ID, email: str = "buyer@example.com") -> str:
        """A vaulted wallet of `client` made directly (benchmarks, tests); returns its token id."""
        token_id = _id("VT")[:12]
        payer_id = _id("P")[:13]
        view = {
            "id": token_id,
            "customer": {"id": "SIMCUST1"},
            "payment_source": {"paypal": {"email_address": email, "payer_id": payer_id}},
        }
        with self._lock:
            self.vault[token_id] = {"client": client, "email": email, "payer_id": payer_id, "view": view}
        return token_id

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

    def signed(
        self, event: dict[str, Any], *, webhook_id: str, url: str = "", at: str | None = None
    ) -> Delivery:
        """The delivery of `event` to one webhook, signed as PayPal signs it."""
        body = body_bytes(event)
        transmission_id, transmission_time = str(secrets.token_hex(16)), at or _now_iso()
        message = f"{transmission_id}|{transmission_time}|{webhook_id}|{zlib.crc32(body)}".encode()
        signature = self._key.sign(message, padding.PKCS1v15(), hashes.SHA256())
        headers = {
            "Content-Type": "application/json",
            "PAYPAL-TRANSMISSION-ID": transmission_id,
            "PAYPAL-TRANSMISSION-TIME": transmission_time,
            "PAYPAL-TRANSMISSION-SIG": base64.b64encode(signature).decode(),
            "PAYPAL-CERT-URL": f"{self.base_url}/v1/notifications/certs/CERT-SIM",
            "PAYPAL-AUTH-ALGO": "SHA256withRSA",
        }
        return Delivery(url, headers, body)

    def _emit(self, client: str, event_type: str, resource_type: str, resource: dict[str, Any]) -> None:
        event = {
            "id": _id("WH-"),
            "create_time": _now_iso(),
            "resource_type": resource_type,
            "event_type": event_type,
            "event_version": "1.0",
            "resource_version": "2.0",
            "summary": event_type,
            "resource": resource,
        }
        for webhook_id, hook in self.webhooks.items():
            if hook["client"] == client and {"*", event_type} & set(hook["event_types"]):
                self.outbox.append(self.signed(event, webhook_id=webhook_id, url=hook["url"]))
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

    def _verify(self, body: dict[str, Any]) -> dict[str, Any]:
        hook = self.webhooks.get(str(body.get("webhook_id", "")))
        event = body.get("webhook_event")
        if not isinstance(event, dict):
            return {"verification_status": "FAILURE"}
        message = (
            f"{body.get('transmission_id')}|{body.get('transmission_time')}|{body.get('webhook_id')}|"
            f"{zlib.crc32(body_bytes(event))}"
        ).encode()
        try:
            signature = base64.b64decode(str(body.get("transmission_sig", "")), validate=True)
            self._key.public_key().verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
            ok = hook is not None
        except Exception:
            ok = False
        return {"verification_status": "SUCCESS" if ok else "FAILURE"}

    # -- API -------------------------------------------------------------------------------

    def handle(self, method: str, path: str, headers: dict[str, str], raw: bytes) -> tuple[int, Any]:
        """Answer one API call: (status, JSON body)."""
        if path == "/v1/oauth2/token" and method == "POST":
            return self._token(headers)
        client = self._client(headers)
        if client is None:
            return 401, {"name": "AUTHENTICATION_FAILURE", "message": "Authentication failed.", "details": []}
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            return 400, Reply(400, "INVALID_REQUEST", "MALFORMED_REQUEST_JSON").body()
        request_id = headers.get("paypal-request-id", "")
        with self._lock:  # one request per id at a time: a retry waits for the first result
            if request_id and (client, request_id) in self._replays:
                return 200, self._replays[(client, request_id)][1]
            try:
                status, reply = self._route(method, path, client, body)
            except Reply as error:
                status, reply = error.status, error.body()
            if request_id and status < 400:
                self._replays[(client, request_id)] = (status, reply)
        self._hang()
        return status, reply

    def _token(self, headers: dict[str, str]) -> tuple[int, Any]:
        if self._fault("token") == "500":
            return 500, Reply(500, "INTERNAL_SERVER_ERROR").body()
        auth = headers.get("authorization", "")
        try:
            client, _, secret = base64.b64decode(auth.removeprefix("Basic ")).decode().partition(":")
        except ValueError:
            client, secret = "", ""
        if not auth.startswith("Basic ") or self.clients.get(client) != secret:
            return 401, {"error": "invalid_client", "error_description": "Client Authentication failed"}
        token = "A21" + secrets.token_urlsafe(24)
        with self._lock:
            self._tokens[token] = (client, time.monotonic() + self.token_seconds)
        return 200, {
            "scope": "https://uri.paypal.com/services/payments/payment",
            "access_token": token,
            "token_type": "Bearer",
            "app_id": "APP-SIM",
            "expires_in": self.token_seconds,
            "nonce": secrets.token_hex(8),
        }

    def _client(self, headers: dict[str, str]) -> str | None:
        token = headers.get("authorization", "").removeprefix("Bearer ")
        with self._lock:
            found = self._tokens.get(token)
        return found[0] if found and found[1] > time.monotonic() else None

    def _route(self, method: str, path: str, client: str, body: dict[str, Any]) -> tuple[int, Any]:
        parts = [p for p in path.split("/") if p]
        with self._lock:
            if method == "POST" and path == "/v2/checkout/orders":
                return self._create_order(client, body)
            if parts[:3] == ["v2", "checkout", "orders"] and len(parts) >= 4:
                order = self._order(client, parts[3])
                if method == "GET" and len(parts) == 4:
                    return 200, order
                if method == "POST" and parts[4:] == ["capture"]:
                    return self._capture(client, order)
            if method == "POST" and parts[:3] == ["v2", "payments", "captures"] and parts[4:] == ["refund"]:
                return self._refund(client, parts[3], body)
            if method == "GET" and parts[:3] == ["v2", "payments", "captures"] and len(parts) == 4:
                capture = self.captures.get(parts[3])
                if capture is None:
                    raise Reply(404, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID")
                return 200, capture
            if parts[:3] == ["v3", "vault", "payment-tokens"] and len(parts) == 4:
                return self._vault_token(method, client, parts[3])
            if method == "POST" and parts[:2] == ["v1", "notifications"]:
                return self._notifications(path, client, body)
        raise Reply(404, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID", f"No route {method} {path}")

    def _vault_token(self, method: str, client: str, token_id: str) -> tuple[int, Any]:
        token = self.vault.get(token_id)
        if token is None or token["client"] != client:
            raise Reply(404, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID")
        if method == "DELETE":
            del self.vault[token_id]
            self._emit(client, "VAULT.PAYMENT-TOKEN.DELETED", "payment_token", {"id": token_id})
            return 204, None
        return 200, token["view"]

    def _notifications(self, path: str, client: str, body: dict[str, Any]) -> tuple[int, Any]:
        if path == "/v1/notifications/webhooks":
            webhook_id = _id("WH")
            names = [str(e.get("name")) for e in body.get("event_types") or []]
            self.webhooks[webhook_id] = {
                "url": str(body.get("url", "")),
                "client": client,
                "event_types": names,
            }
            return 201, {"id": webhook_id, "url": body.get("url"), "event_types": body.get("event_types")}
        if path == "/v1/notifications/verify-webhook-signature":
            if self._fault("verify") == "500":
                raise Reply(500, "INTERNAL_SERVER_ERROR")
            return 200, self._verify(body)
        raise Reply(404, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID", f"No route POST {path}")

    def _order(self, client: str, order_id: str) -> dict[str, Any]:
        order = self.orders.get(order_id)
        if order is None or order["_client"] != client:
            raise Reply(404, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID", "The order does not exist.")
        return order

    def _create_order(self, client: str, body: dict[str, Any]) -> tuple[int, Any]:
        fault = self._fault("create_order")
        if fault == "500":
            raise Reply(500, "INTERNAL_SERVER_ERROR")
        units = body.get("purchase_units") or []
        if body.get("intent") != "CAPTURE" or len(units) != 1 or "amount" not in units[0]:
            raise Reply(400, "INVALID_REQUEST", "MISSING_REQUIRED_PARAMETER")
        unit = units[0]
        _check_precision(unit["amount"])
        invoice_id = unit.get("invoice_id")
        if invoice_id and any(
            o["purchase_units"][0].get("invoice_id") == invoice_id and o["_client"] == client
            for o in self.orders.values()
        ):
            raise Reply(422, "UNPROCESSABLE_ENTITY", "DUPLICATE_INVOICE_ID")
        paypal = (body.get("payment_source") or {}).get("paypal") or {}
        order_id = _id("")[:17]
        order: dict[str, Any] = {
            "id": order_id,
            "intent": "CAPTURE",
            "status": "PAYER_ACTION_REQUIRED",
            "purchase_units": [dict(unit)],
            "payment_source": {"paypal": {}},
            "create_time": _now_iso(),
            "links": [
                {"href": f"{self.base_url}/v2/checkout/orders/{order_id}", "rel": "self", "method": "GET"},
                {
                    "href": f"{self.base_url}/checkoutnow?token={order_id}",
                    "rel": "payer-action",
                    "method": "GET",
                },
            ],
            "_client": client,
            "_experience": paypal.get("experience_context") or {},
            "_vault": ((paypal.get("attributes") or {}).get("vault") or {}).get("store_in_vault")
            == "ON_SUCCESS",
        }
        self.orders[order_id] = order
        if paypal.get("vault_id"):
            token = self.vault.get(str(paypal["vault_id"]))
            if token is None or token["client"] != client:
                raise Reply(422, "UNPROCESSABLE_ENTITY", "INVALID_RESOURCE_ID", "Unknown vault id.")
            order["status"], order["links"] = "APPROVED", order["links"][:1]
            order["payment_source"]["paypal"] = {
                "email_address": token["email"],
                "account_id": token["payer_id"],
            }
            self._settle(client, order, declined=fault == "declined")
        status, reply = 201, _public(order)
        return status, reply

    def approve(self, order_id: str, *, approve: bool = True) -> str:
        """The payer's click on the approval page; returns where PayPal sends them back."""
        with self._lock:
            order = self.orders.get(order_id)
            if order is None:
                raise KeyError(order_id)
            context = order["_experience"]
            if not approve:
                return _with_query(context.get("cancel_url", ""), {"token": order_id})
            if order["status"] == "PAYER_ACTION_REQUIRED":
                order["status"] = "APPROVED"
                order["payer"] = {"payer_id": "SIMPAYER1", "email_address": "buyer@example.com"}
                order["payment_source"]["paypal"] = {
                    "email_address": "buyer@example.com",
                    "account_id": "SIMPAYER1",
                }
                self._emit(order["_client"], "CHECKOUT.ORDER.APPROVED", "checkout-order", _public(order))
            return _with_query(context.get("return_url", ""), {"token": order_id, "PayerID": "SIMPAYER1"})

    def _capture(self, client: str, order: dict[str, Any]) -> tuple[int, Any]:
        fault = self._fault("capture")
        if fault == "500":
            raise Reply(500, "INTERNAL_SERVER_ERROR")
        if order["status"] == "COMPLETED":
            raise Reply(422, "UNPROCESSABLE_ENTITY", "ORDER_ALREADY_CAPTURED")
        if order["status"] != "APPROVED":
            raise Reply(422, "UNPROCESSABLE_ENTITY", "ORDER_NOT_APPROVED")
        if fault == "declined":
            raise Reply(422, "UNPROCESSABLE_ENTITY", "INSTRUMENT_DECLINED")
        self._settle(client, order, declined=False)
        reply = _public(order)
        return 201, reply

    def _settle(self, client: str, order: dict[str, Any], *, declined: bool) -> None:
        unit = order["purchase_units"][0]
        capture_id = _id("CAP")[:17]
        capture = {
            "id": capture_id,
            "status": "DECLINED" if declined else "COMPLETED",
            "amount": dict(unit["amount"]),
            "invoice_id": unit.get("invoice_id"),
            "custom_id": unit.get("custom_id"),
            "final_capture": True,
            "supplementary_data": {"related_ids": {"order_id": order["id"]}},
            "create_time": _now_iso(),
            "links": [{"href": f"{self.base_url}/v2/payments/captures/{capture_id}", "rel": "self"}],
            "_refunded": "0",
        }
        self.captures[capture_id] = capture
        order["status"] = "COMPLETED"
        unit["payments"] = {"captures": [_public(capture)]}
        if declined:
            self._emit(client, "PAYMENT.CAPTURE.DENIED", "capture", _public(capture))
            return
        if order["_vault"]:
            token_id = _id("VT")[:12]
            payer = order.get("payer") or {"payer_id": "SIMPAYER1", "email_address": "buyer@example.com"}
            view = {
                "id": token_id,
                "customer": {"id": "SIMCUST1"},
                "payment_source": {
                    "paypal": {"email_address": payer["email_address"], "payer_id": payer["payer_id"]}
                },
            }
            self.vault[token_id] = {
                "client": client,
                "email": payer["email_address"],
                "payer_id": payer["payer_id"],
                "view": view,
            }
            order["payment_source"]["paypal"]["attributes"] = {
                "vault": {"id": token_id, "status": "VAULTED", "customer": {"id": "SIMCUST1"}}
            }
            self._emit(client, "VAULT.PAYMENT-TOKEN.CREATED", "payment_token", view)
        self._emit(client, "PAYMENT.CAPTURE.COMPLETED", "capture", _public(capture))

    def _refund(self, client: str, capture_id: str, body: dict[str, Any]) -> tuple[int, Any]:
        fault = self._fault("refund")
        if fault == "500":
            raise Reply(500, "INTERNAL_SERVER_ERROR")
        capture = self.captures.get(capture_id)
        if capture is None:
            raise Reply(404, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID")
        total, done = Decimal(capture["amount"]["value"]), Decimal(capture["_refunded"])
        if capture["status"] == "DECLINED":
            raise Reply(422, "UNPROCESSABLE_ENTITY", "REFUND_NOT_ALLOWED")
        if done >= total:
            raise Reply(422, "UNPROCESSABLE_ENTITY", "CAPTURE_FULLY_REFUNDED")
        if body.get("amount"):
            _check_precision(body["amount"])
        amount = Decimal(str((body.get("amount") or {}).get("value") or (total - done)))
        if amount <= 0 or done + amount > total:
            raise Reply(422, "UNPROCESSABLE_ENTITY", "REFUND_AMOUNT_EXCEEDED")
        capture["_refunded"] = str(done + amount)
        capture["status"] = "REFUNDED" if done + amount == total else "PARTIALLY_REFUNDED"
        refund_id = _id("RF")[:17]
        refund = {
            "id": refund_id,
            "status": "COMPLETED",
            "amount": {"currency_code": capture["amount"]["currency_code"], "value": str(amount)},
            "invoice_id": capture.get("invoice_id"),
            "custom_id": capture.get("custom_id"),
            "create_time": _now_iso(),
            "links": [
                {"href": f"{self.base_url}/v2/payments/refunds/{refund_id}", "rel": "self"},
                {"href": f"{self.base_url}/v2/payments/captures/{capture_id}", "rel": "up"},
            ],
        }
        self.refunds[refund_id] = refund
        self._emit(client, "PAYMENT.CAPTURE.REFUNDED", "refund", refund)
        return 201, refund

    def approval_page(self, order_id: str) -> str:
        """The payer's page: the amount and Approve / Cancel."""
        order = self.orders.get(order_id)
        if order is None:
            return "<p>This checkout has expired.</p>"
        amount = order["purchase_units"][0]["amount"]
        hidden = f'<input type="hidden" name="token" value="{html.escape(order_id)}">'
        what = html.escape(f"{amount['value']} {amount['currency_code']}")
        return (
            "<!doctype html><html><head><title>PayPal (simulator)</title>"
            '<meta name="viewport" content="width=device-width"></head>'
            '<body style="font-family:sans-serif;max-width:28rem;margin:3rem auto">'
            f"<h1>Pay with PayPal</h1><p>{what}"
            f" — {html.escape(str(order['purchase_units'][0].get('description', '')))}</p>"
            f'<form method="post" action="/checkoutnow/approve">{hidden}'
            '<button type="submit" id="approve">Approve</button></form>'
            f'<form method="post" action="/checkoutnow/cancel">{hidden}'
            '<button type="submit" id="cancel">Cancel</button></form></body></html>'
        )


def _with_query(url: str, params: dict[str, str]) -> str:
    return f"{url}{'&' if '?' in url else '?'}{urlencode(params)}"


def _public(resource: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps({k: v for k, v in resource.items() if not k.startswith("_")}))


def _page(
    sim: PayPalSimulator, method: str, path: str, query: str, raw: bytes
) -> tuple[int, bytes, str, str]:
    """The payer's approval page and its buttons: (status, body, content type, location)."""
    if method == "GET":
        token = (parse_qs(query).get("token") or [""])[0]
        return 200, sim.approval_page(token).encode(), "text/html; charset=utf-8", ""
    token = (parse_qs(raw.decode()).get("token") or [""])[0]
    try:
        target = sim.approve(token, approve=path.endswith("/approve"))
    except KeyError:
        return 404, b"No such checkout", "text/plain", ""
    return 303, b"", "text/plain", target


def _handler_for(sim: PayPalSimulator) -> type[BaseHTTPRequestHandler]:
    class Handler(SimHandler):
        def _send(
            self, status: int, data: bytes, content_type: str, location: str = "", extra: dict | None = None
        ) -> None:
            headers = {"Paypal-Debug-Id": secrets.token_hex(6), **(extra or {})}
            if location:
                headers["Location"] = location
            self.send(status, data, content_type, headers)

        def _api(self) -> None:
            raw = self.body()
            url = urlsplit(self.path)
            if url.path.startswith("/checkoutnow"):
                return self._send(*_page(sim, self.command, url.path, url.query, raw))
            headers = {k.lower(): v for k, v in self.headers.items()}
            verdict, early = ratelimit.gate(sim.limiter, self.command, url.path, raw, headers)
            status, body = early or ratelimit.finish(
                verdict, sim.handle(self.command, url.path, headers, raw)
            )
            data = b"" if body is None else json.dumps(body).encode()
            self._send(status, data, "application/json", extra=verdict.headers())

        do_GET = do_POST = do_DELETE = _api

    return Handler


def serve(sim: PayPalSimulator, *, host: str = "127.0.0.1", port: int = 0) -> RunningServer:
    """Serve the simulator on a loopback port in a daemon thread."""
    running = start(_handler_for(sim), host=host, port=port)
    sim.base_url = running.url
    return running


def main(argv: list[str] | None = None, *, wait: Callable[[], object] | None = None) -> None:
    parser = argparse.ArgumentParser(description="PayPal REST API simulator")
    parser.add_argument("--port", type=int, default=8397)
    args = parser.parse_args(argv)
    running = serve(PayPalSimulator(auto_deliver=True), port=args.port)
    wait_forever(f"PayPal simulator on {running.url} (client {DEMO_CLIENT_ID} / {DEMO_SECRET})", wait=wait)


if __name__ == "__main__":
    main()
