"""localstripe (a stateful fake Stripe) on loopback, for tests and the demo.

`python -m ezscale.simulators.stripe --port N [--state FILE]` serves it on
127.0.0.1 only; `--state` keeps its data across restarts (the demo), else it starts empty.

localstripe ignores `Idempotency-Key`; `idempotency_middleware` adds what Stripe does with it:
a POST repeated with the same key (per API key) replays the first response for 24 hours, with
other parameters or on another endpoint it is refused (400 `idempotency_error`), and while the
first request is still running a second one gets 409. Without it a retried charge would be a
second charge here, and tests could not tell. The saved responses live in memory: unlike
Stripe, a restarted simulator (the demo's, with `--state`) has forgotten them.

Stripe Connect (connected accounts, onboarding, data partitioned by `Stripe-Account`) is added by
`stripe_connect.py`; the idempotency middleware runs first, so a replay is the first reply.
Before both, `ratelimit.py` refuses calls over the configured rate (429 with `Retry-After`) and
injects 429/5xx (`POST /_config/limits`, e.g. `{"rate": 25}` for test mode's 25 req/s).
`stripe_store.py` indexes localstripe's store, so a request costs the same however many objects
it holds; `GET /_config/charges` counts the succeeded charges per customer.
"""

import argparse
import hashlib
import pickle
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx

from ezscale.simulators import ratelimit, stripe_connect, stripe_store

IDEMPOTENCY_TTL_SECONDS = 24 * 3600
CHARGES_PATH = "/_config/charges"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(port: int, *, state: Path | None = None) -> subprocess.Popen:
    """Start the simulator as a child process and wait until it answers."""
    command = [sys.executable, "-m", "ezscale.simulators.stripe", "--port", str(port)]
    if state is not None:
        command += ["--state", str(state)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the Stripe simulator exited at start")
        try:
            httpx.get(f"{base}/js.stripe.com/v3/", timeout=1)
            return process
        except httpx.TransportError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("the Stripe simulator did not start")


def configure_limits(api_base: str, **limits: float) -> dict:
    """Set the simulator's rate limit and fault rates (`ratelimit.FIELDS`); returns them."""
    response = httpx.post(f"{api_base}{ratelimit.CONFIG_PATH}", json=limits, timeout=5)
    response.raise_for_status()
    return response.json()


def limits(api_base: str) -> dict:
    """The simulator's limits and counters (admitted, limited, injected_429, injected_5xx)."""
    response = httpx.get(f"{api_base}{ratelimit.CONFIG_PATH}", timeout=5)
    response.raise_for_status()
    return response.json()


def succeeded_charges(api_base: str) -> dict[str, int]:
    """Succeeded charges per customer id at the simulator (`GET /_config/charges`), in one
    request however many there are (the benchmark's duplicate count)."""
    response = httpx.get(f"{api_base}{CHARGES_PATH}", timeout=30)
    response.raise_for_status()
    return response.json()["succeeded_per_customer"]


def register_webhook(api_base: str, *, url: str, secret: str, name: str = "ezscale") -> None:
    """Make localstripe send signed events to `url` (its /_config/webhooks API)."""
    httpx.post(
        f"{api_base}/_config/webhooks/{name}", data={"url": url, "secret": secret}, timeout=5
    ).raise_for_status()


@dataclass(frozen=True, slots=True)
class _Saved:
    fingerprint: str
    status: int
    body: bytes
    content_type: str
    at: float


def _idempotency_error(web, status: int, message: str):
    return web.json_response({"error": {"type": "idempotency_error", "message": message}}, status=status)


def idempotency_middleware(web: Any, *, now: Callable[[], float] = time.monotonic) -> Any:
    """An aiohttp middleware giving localstripe Stripe's `Idempotency-Key` behaviour."""
    saved: dict[tuple[str, str], _Saved] = {}
    running: set[tuple[str, str]] = set()

    @web.middleware
    async def middleware(request, handler):
        key = request.headers.get("Idempotency-Key")
        if request.method != "POST" or not key:
            return await handler(request)
        scope = (request.headers.get("Authorization", ""), key)
        body = await request.read()  # cached: the handler reads it again
        params = sorted(parse_qsl(body.decode(), keep_blank_values=True) + list(request.query.items()))
        fingerprint = hashlib.sha256(repr((request.path, params)).encode()).hexdigest()
        while saved:  # saved in the order they were made: the expired ones come first
            oldest = next(iter(saved))
            if now() - saved[oldest].at <= IDEMPOTENCY_TTL_SECONDS:
                break
            del saved[oldest]
        first = saved.get(scope)
        if first is not None:
            if first.fingerprint != fingerprint:
                return _idempotency_error(
                    web,
                    400,
                    "Keys for idempotent requests can only be used with the same parameters "
                    "they were first used with.",
                )
            return web.Response(
                status=first.status,
                body=first.body,
                content_type=first.content_type,
                headers={"Idempotent-Replayed": "true"},
            )
        if scope in running:
            return _idempotency_error(
                web, 409, "There is currently another in-progress request using this Idempotency-Key."
            )
        running.add(scope)
        try:
            response = await handler(request)
        finally:
            running.discard(scope)
        # Like Stripe: results are kept once the endpoint ran (success or a decline), not for
        # requests refused before it ran (bad parameters, auth) or server errors.
        if response.status < 400 or response.status == 402:
            saved[scope] = _Saved(fingerprint, response.status, response.body, response.content_type, now())
        return response

    return middleware


def _serve(port: int, state: Path | None) -> None:
    from aiohttp import web
    from localstripe import resources, server

    def load(store: resources.Store) -> None:
        if state is not None and state.exists():
            store.update(pickle.loads(state.read_bytes()))

    def dump(store: resources.Store) -> None:
        if state is not None:
            state.write_bytes(pickle.dumps(dict(store), protocol=pickle.HIGHEST_PROTOCOL))

    resources.Store.try_load_from_disk = load
    resources.Store.dump_to_disk = dump
    index = stripe_store.install(resources)
    resources.store.try_load_from_disk()

    async def charges(request):
        succeeded = Counter(
            c.customer for c in index.objects("charge") if c.status == "succeeded" and c.customer
        )
        return web.json_response({"succeeded_per_customer": succeeded})

    server.app.router.add_get(CHARGES_PATH, charges)
    stripe_connect.install(web, server.app, resources.store, resources, base_url=f"http://127.0.0.1:{port}")
    server.app.middlewares.insert(0, idempotency_middleware(web))
    server.app.middlewares.insert(0, ratelimit.aiohttp_middleware(web, ratelimit.RateLimiter()))
    web.run_app(server.app, host="127.0.0.1", port=port, print=None, access_log=None)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8420)
    parser.add_argument("--state", type=Path, default=None)
    args = parser.parse_args()
    _serve(args.port, args.state)
