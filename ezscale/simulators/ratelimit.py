"""Gateway rate limits and injected 429/5xx for the loopback payment simulators (Stripe, PayPal,
BTCPay), as the real services answer under load.

A token bucket per simulator: `rate` requests a second (0 = unlimited), up to `burst` at once.
A request over the limit is refused before it runs with 429 and `Retry-After` (seconds, with a
decimal part: the time until the next token). Injected faults, drawn per request from a seeded
random: `error_429` (a 429 with `Retry-After`, before anything runs) and `error_5xx` (a 500 after
the request ran, so its reply is lost: the client must resend the same key to learn the
result). Configured at runtime by `POST /_config/limits` with a JSON (or form) body of those
fields; `GET /_config/limits` reads them and the counters back (requests let through, refused,
injected faults, the clock at the first and last request let through).
"""

import json
import math
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

CONFIG_PATH = "/_config/limits"
FIELDS = ("rate", "burst", "error_429", "error_5xx", "seed")


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the limiter decided for one request: run it (`status` None), refuse it (`status` 429
    with `retry_after`), or run it and then answer `status` (an injected 5xx)."""

    status: int | None = None
    retry_after: float = 0.0
    after: bool = False  # the request runs, then its reply is replaced by `status`

    def headers(self) -> dict[str, str]:
        """The reply's headers: `Retry-After` on a 429."""
        return {"Retry-After": f"{self.retry_after:.3f}"} if self.status == 429 else {}


@dataclass
class RateLimiter:
    """One simulator's bucket and fault rates; thread-safe, configurable while serving."""

    rate: float = 0.0
    burst: float = 0.0  # 0: one second's worth of requests (at least 1)
    error_429: float = 0.0
    error_5xx: float = 0.0
    seed: int = 0
    clock: Callable[[], float] = time.monotonic
    admitted: int = 0
    limited: int = 0
    injected_429: int = 0
    injected_5xx: int = 0
    first_at: float | None = None  # the clock at the first and the last request let through
    last_at: float | None = None
    _tokens: float = -1.0
    _at: float = 0.0
    _random: random.Random = field(default_factory=random.Random)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.configure()

    @property
    def capacity(self) -> float:
        """The bucket's size."""
        return self.burst if self.burst > 0 else max(self.rate, 1.0)

    def configure(self, **changes: Any) -> None:
        """Change limits or fault rates (unknown names are refused); the bucket starts full and the
        counters from zero."""
        unknown = set(changes) - set(FIELDS)
        if unknown:
            raise ValueError(f"unknown limit fields: {', '.join(sorted(unknown))}")
        with self._lock:
            for name, value in changes.items():
                setattr(self, name, int(value) if name == "seed" else float(value))
            if min(self.rate, self.burst, self.error_429, self.error_5xx) < 0 or (
                self.error_429 + self.error_5xx > 1
            ):
                raise ValueError("limits must be >= 0 and fault rates add up to at most 1")
            self._random.seed(self.seed)
            self._tokens, self._at = self.capacity, self.clock()
            self.admitted = self.limited = self.injected_429 = self.injected_5xx = 0
            self.first_at = self.last_at = None

    def check(self) -> Verdict:
        """Take a token for one request, or say why not (see the module docstring)."""
        with self._lock:
            if self.rate > 0:
                now = self.clock()
                self._tokens = min(self.capacity, self._tokens + (now - self._at) * self.rate)
                self._at = now
                if self._tokens < 1:
                    self.limited += 1
                    return Verdict(429, retry_after=math.ceil((1 - self._tokens) / self.rate * 1000) / 1000)
                self._tokens -= 1
            draw = self._random.random()
            if draw < self.error_429:
                self.injected_429 += 1
                return Verdict(429, retry_after=round(1 / self.rate, 3) if self.rate else 0.0)
            self.admitted += 1
            self.last_at = self.clock()
            self.first_at = self.last_at if self.first_at is None else self.first_at
            if draw < self.error_429 + self.error_5xx:
                self.injected_5xx += 1
                return Verdict(500, after=True)
            return Verdict()

    def snapshot(self) -> dict[str, Any]:
        """The settings and counters, for `GET /_config/limits` and the benchmark."""
        names = (*FIELDS, "admitted", "limited", "injected_429", "injected_5xx", "first_at", "last_at")
        with self._lock:
            return {name: getattr(self, name) for name in names}

    def configure_from(self, body: bytes, content_type: str = "") -> dict[str, Any]:
        """Apply a `POST /_config/limits` body (JSON or form); returns the new snapshot."""
        text = body.decode() if body else ""
        if "json" in content_type or text.lstrip().startswith("{"):
            changes: Mapping[str, Any] = json.loads(text or "{}")
        else:
            changes = dict(parse_qsl(text))
        self.configure(**changes)
        return self.snapshot()


def aiohttp_middleware(web: Any, limiter: RateLimiter) -> Any:
    """An aiohttp middleware (the Stripe simulator): the limits on every API call and the
    `/_config/limits` endpoint. Installed outside the idempotency middleware, so an injected 5xx
    comes after the first request's result was kept, and a retry with its key gets that result."""

    @web.middleware
    async def middleware(request, handler):
        if request.path == CONFIG_PATH:
            if request.method == "POST":
                try:
                    snapshot = limiter.configure_from(await request.read(), request.content_type)
                except (ValueError, TypeError) as error:
                    return web.json_response({"error": str(error)}, status=400)
                return web.json_response(snapshot)
            return web.json_response(limiter.snapshot())
        if request.path.startswith(("/_config", "/js.stripe.com")):
            return await handler(request)
        verdict = limiter.check()
        if verdict.status == 429:
            return web.json_response(
                {"error": {"type": "rate_limit_error", "message": "Too many requests (simulated limit)."}},
                status=429,
                headers=verdict.headers(),
            )
        response = await handler(request)
        if verdict.after:
            return web.json_response(
                {"error": {"type": "api_error", "message": "Simulated server error."}}, status=verdict.status
            )
        return response

    return middleware


def gate(
    limiter: RateLimiter, method: str, path: str, raw: bytes, headers: Mapping[str, str]
) -> tuple[Verdict, tuple[int, Any] | None]:
    """For the threaded simulators (PayPal, BTCPay): `(verdict, None)` for an API call to run (then
    pass its reply through `finish`), or `(verdict, reply)` answered here (a 429, the config API).
    `verdict.headers()` are the reply's extra headers."""
    if path == CONFIG_PATH:
        if method == "POST":
            try:
                return Verdict(), (200, limiter.configure_from(raw, headers.get("content-type", "")))
            except (ValueError, TypeError) as error:
                return Verdict(), (400, {"error": str(error)})
        return Verdict(), (200, limiter.snapshot())
    verdict = limiter.check()
    if verdict.status == 429:
        return verdict, (429, {"name": "RATE_LIMIT_REACHED", "message": "Too many requests (simulated)."})
    return verdict, None


def finish(verdict: Verdict, reply: tuple[int, Any]) -> tuple[int, Any]:
    """The reply of a request that ran: as it is, or an injected 500 after it ran."""
    if verdict.after:
        return 500, {"name": "INTERNAL_SERVER_ERROR", "message": "Simulated server error."}
    return reply
