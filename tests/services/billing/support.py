"""Fixtures shared by the billing tests: localstripe (customers, plans, cards: tests/factories.py),
and a loopback proxy in front of it for tests that change what Stripe's replies do."""

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from ezscale.settings import get_settings
from ezscale.simulators import stripe as stripe_simulator


@pytest.fixture(scope="session")
def stripe_sim() -> Iterator[str]:
    """A localstripe process on a free loopback port for the whole test session."""
    port = stripe_simulator.free_port()
    process = stripe_simulator.start(port)
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def stripe_env(stripe_sim, monkeypatch) -> str:
    """Point the billing services at the simulator (no retry back-off in tests)."""
    monkeypatch.setenv("STRIPE_API_BASE", stripe_sim)
    monkeypatch.setenv("EZSCALE_STRIPE_RETRY_BASE_SECONDS", "0")
    get_settings.cache_clear()
    return stripe_sim


def relay(handler: BaseHTTPRequestHandler, upstream: str) -> httpx.Response:
    """Send the request `handler` received on to `upstream` (the simulator); its reply."""
    body = handler.rfile.read(int(handler.headers.get("Content-Length") or 0))
    headers = {k: v for k, v in handler.headers.items() if k.lower() not in ("host", "content-length")}
    return httpx.request(handler.command, upstream + handler.path, headers=headers, content=body)


def answer(handler: BaseHTTPRequestHandler, status: int, content: bytes) -> None:
    """Reply to the request `handler` received with a JSON body."""
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(content)))
    handler.end_headers()
    handler.wfile.write(content)


class StripeProxy(BaseHTTPRequestHandler):
    """A loopback proxy to the Stripe simulator at `upstream`; a test's subclass changes what
    `forward` does to some requests (serve it with `stripe_proxy`)."""

    upstream = ""

    def forward(self) -> None:
        reply = relay(self, self.upstream)
        answer(self, reply.status_code, reply.content)

    def do_GET(self) -> None:
        self.forward()

    do_POST = do_DELETE = do_GET

    def log_message(self, *_args: object) -> None:
        pass


@contextmanager
def stripe_proxy(handler: type[BaseHTTPRequestHandler], monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Serve `handler` on loopback and point the billing services at it, for the block."""
    before = os.environ["STRIPE_API_BASE"]  # the simulator's (`stripe_env`)
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("STRIPE_API_BASE", f"http://127.0.0.1:{server.server_port}")
    get_settings.cache_clear()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
        monkeypatch.setenv("STRIPE_API_BASE", before)
        get_settings.cache_clear()
