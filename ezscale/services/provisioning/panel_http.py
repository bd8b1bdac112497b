"""The HTTP plumbing the panel clients share: timeouts, safe retries, and errors mapped to the
module contract's classes (never a raw httpx or JSON error).

A call is `safe` when repeating it cannot do the work twice (GETs, idempotent PATCH/suspend);
only safe calls are retried after the request may have reached the panel. Unsafe calls (creates)
are retried only when the connection was never made, so a lost reply cannot create a second
server; the module looks the service up instead and adopts it.

Faults cost little: a safe call's first attempt waits a few times the panel's typical answer
time (`Latency`, learned per panel in this process), not the full timeout; its first retry
follows at once, the next after a short back-off. Calls that do not depend on each other are
made at once (`together`). A create keyed by our id (`create_once`) is looked up while
its answer is late and what it made is adopted (never sent twice while it may be in flight), and
it is sent once more only when the panel answered 500/429 and the look-up found nothing.
"""

import functools
import json
import logging
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar, overload

import httpx

from ezscale.services.provisioning.module import (
    PanelConfig,
    PanelRejected,
    PanelUnavailable,
    ProvisioningError,
)

log = logging.getLogger(__name__)

# Long enough for a real create (peers broke with 5 s): the panel may talk to a node first.
CREATE_TIMEOUT_SECONDS = 120.0
MIN_CREATE_TIMEOUT = 60.0
DEFAULT_BACKOFF = 0.2  # before a safe call's second retry (doubled per retry): a 5xx is usually brief
# A safe call's first attempt waits this many times the panel's typical answer (at least the floor).
READ_TIMEOUT_FACTOR, READ_TIMEOUT_FLOOR = 2.5, 0.5
# A late create is looked up after this many times the typical answer (at least the floor).
HEDGE_FACTOR, HEDGE_FLOOR, HEDGE_UNKNOWN = 3.0, 0.25, 1.0
# Answers that say the panel did not do the work (not a gateway's 502/503/504, behind which the
# panel may still be working).
NOT_DONE_STATUSES = frozenset({429, 500})
T = TypeVar("T")
A = TypeVar("A")
B = TypeVar("B")
C = TypeVar("C")


class PanelFailed(PanelUnavailable):
    """A 5xx or 429 answer: the panel answered, so the request is no longer in flight."""

    def __init__(self, message: str, *, status: int) -> None:
        """Keep the status beside the message."""
        super().__init__(message)
        self.status = status


class Latency:
    """How long each panel takes to answer an ordinary call: a moving average per panel of the
    calls answered in this process (None until `MIN_SAMPLES` were seen)."""

    MIN_SAMPLES = 5
    WEIGHT = 0.1

    def __init__(self) -> None:
        """Nothing seen yet."""
        self._lock = threading.Lock()
        self._seen: dict[str, tuple[int, float]] = {}

    def observe(self, panel: str, seconds: float) -> None:
        """One answered call of `panel` took `seconds`."""
        with self._lock:
            count, average = self._seen.get(panel, (0, seconds))
            self._seen[panel] = (count + 1, average + self.WEIGHT * (seconds - average))

    def typical(self, panel: str) -> float | None:
        """The panel's typical answer time, or None while too few calls were seen."""
        with self._lock:
            count, average = self._seen.get(panel, (0, 0.0))
        return average if count >= self.MIN_SAMPLES else None

    def forget(self) -> None:
        """Drop what was seen (tests, benchmarks)."""
        with self._lock:
            self._seen.clear()


LATENCY = Latency()


class PanelRefused(PanelRejected):
    """A 4xx reply (or an error envelope): the panel's status, error code and detail, for the
    client to map (404 → gone, 409 → busy or duplicate, 400 no node → out of stock)."""

    def __init__(
        self,
        message: str,
        *,
        status: int,
        code: str = "",
        detail: str = "",
        body: Any = None,  # noqa: ANN401 (the parsed error body)
    ) -> None:
        """Keep the status, code, detail and body beside the message shown to people."""
        super().__init__(message)
        self.status, self.code, self.detail, self.body = status, code, detail, body


@dataclass(frozen=True, slots=True)
class Reply:
    """A 2xx reply: its status and body (parsed JSON, the text when not JSON, None when empty)."""

    status: int
    body: Any
    text: str


def dig(data: Any, *path: str | int, product: str) -> Any:  # noqa: ANN401 (a JSON value)
    """`data[path…]`, or PanelUnavailable naming the missing field (a reply we cannot read)."""
    value = data
    for key in path:
        ok = (isinstance(value, dict) and key in value) or (
            isinstance(value, list) and isinstance(key, int) and -len(value) <= key < len(value)
        )
        if not ok:
            raise PanelUnavailable(f"{product} sent a reply we could not read (no {_dotted(path)}).")
        value = value[key]
    return value


def as_int(value: Any, *, product: str, field: str) -> int:  # noqa: ANN401 (a JSON value)
    """An integer field, or PanelUnavailable when the panel sent something else."""
    if isinstance(value, bool):
        raise PanelUnavailable(f"{product} sent a reply we could not read ({field} is not a number).")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise PanelUnavailable(
            f"{product} sent a reply we could not read ({field} is not a number)."
        ) from None


def _dotted(path: tuple[str | int, ...]) -> str:
    return ".".join(str(p) for p in path)


def client_options(config: PanelConfig, product: str) -> dict[str, Any]:
    """Timeouts and retries from a panel config: a create waits `timeout_seconds` but never less
    than 60 s (peers broke with 5 s) unless option `create_timeout_seconds` says otherwise (tests);
    other calls wait at most 30 s; options `retries` (2) and `backoff` (0.2 s before the second
    retry, doubled after; the first goes at once)."""
    options = config.options
    try:
        retries, backoff = int(options.get("retries", 2)), float(options.get("backoff", DEFAULT_BACKOFF))
        create = float(
            options.get("create_timeout_seconds") or max(config.timeout_seconds, MIN_CREATE_TIMEOUT)
        )
    except ValueError:
        raise PanelRejected(
            f"The {product} panel's timeout, retries and backoff options must be numbers."
        ) from None
    if retries < 0 or backoff < 0 or create <= 0 or config.timeout_seconds <= 0:
        raise PanelRejected(f"The {product} panel's timeout, retries and backoff must be positive.")
    return dict(
        timeout=min(config.timeout_seconds, 30.0), create_timeout=create, retries=retries, backoff=backoff
    )


class PanelHttp:
    """One panel's HTTP connection: base URL, auth headers or query, timeouts and retries."""

    def __init__(
        self,
        *,
        product: str,
        base_url: str,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        timeout: float = 30.0,
        create_timeout: float = CREATE_TIMEOUT_SECONDS,
        retries: int = 2,
        backoff: float = DEFAULT_BACKOFF,
        error_text: Callable[[Any, str], tuple[str, str]],
        sleep: Callable[[float], None] = time.sleep,
        latency: Latency = LATENCY,
    ) -> None:
        """`error_text(body, text)` returns the panel's (code, detail) of an error reply."""
        self.product = product
        self._params = dict(params or {})
        self._timeout = timeout
        self._create_timeout = max(create_timeout, timeout)
        self._retries, self._backoff, self._sleep = retries, backoff, sleep
        self._error_text = error_text
        self._latency = latency
        self._http = httpx.Client(
            base_url=_checked_url(product, base_url),
            headers={"Accept": "application/json", **(headers or {})},
            timeout=timeout,
            verify=_tls(),
        )
        self._panel = f"{product} {self._http.base_url}"

    def read_timeout(self) -> float:
        """How long a safe call's first attempt waits: a few times the panel's typical answer."""
        typical = self._latency.typical(self._panel)
        if typical is None:
            return self._timeout
        return min(self._timeout, max(READ_TIMEOUT_FLOOR, READ_TIMEOUT_FACTOR * typical))

    def hedge_delay(self) -> float:
        """How long a create may stay unanswered before what it made is looked up."""
        typical = self._latency.typical(self._panel)
        return HEDGE_UNKNOWN if typical is None else max(HEDGE_FLOOR, HEDGE_FACTOR * typical)

    def close(self) -> None:
        """Close the HTTP connections."""
        self._http.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,  # noqa: ANN401 (a JSON body)
        params: Mapping[str, Any] | None = None,
        safe: bool,
        create: bool = False,
    ) -> Reply:
        """One call; `safe` allows retries after the request went out, `create` the long timeout."""
        attempt = 0
        while True:
            if create:
                timeout = self._create_timeout
            else:
                timeout = self.read_timeout() if safe and not attempt else self._timeout
            try:
                return self._once(method, path, body, params, timeout, observe=not create)
            except PanelUnavailable as error:
                reached = not isinstance(error.__cause__, httpx.ConnectError | httpx.ConnectTimeout)
                attempt += 1
                if attempt > self._retries or (reached and not safe):
                    raise
                log.info("%s %s %s failed (%s), retry %d", self.product, method, path, error, attempt)
                if attempt > 1:  # the first retry goes at once: most faults are one lost call
                    self._sleep(self._backoff * 2 ** (attempt - 2))

    def create_once(
        self, send: Callable[[], T], look: Callable[[], T | None] | None = None, *, hedge: bool = True
    ) -> T:
        """A create: `send` makes it, `look` finds what it made (None: nothing).

        With `hedge` (a create keyed by our id, so what `look` finds is this create's work),
        while the answer is late `look` runs (after `hedge_delay`, then twice as long each time)
        and what it finds is adopted, the late answer dropped; when it finds nothing the create is
        waited for, never sent again while it may be in flight. Sent once more only when the
        panel answered 500/429 (it is no longer working on it) and `look` (if any) finds nothing."""
        finder = look if hedge else None

        def attempt() -> T:
            return send() if finder is None else self._hedged(send, finder)

        try:
            return attempt()
        except PanelFailed as error:
            if error.status not in NOT_DONE_STATUSES:
                raise
            found = None if look is None else look()
            if found is not None:
                return found
            log.info(
                "%s create answered HTTP %d and made nothing: sent once more", self.product, error.status
            )
        return attempt()

    def _hedged(self, send: Callable[[], T], look: Callable[[], T | None]) -> T:
        outcome: list[tuple[bool, Any]] = []
        done = threading.Event()

        def run() -> None:
            try:
                outcome.append((True, send()))
            except BaseException as error:  # handed to the caller (or dropped once adopted)
                outcome.append((False, error))
            finally:
                done.set()

        threading.Thread(target=run, name=f"{self.product} create", daemon=True).start()
        wait = self.hedge_delay()
        while not done.wait(wait):
            try:
                found = look()
            except ProvisioningError as error:
                log.info("%s look-up beside a late create failed: %s", self.product, error)
                found = None
            if found is not None:
                log.info("%s create answered late: adopted what it made", self.product)
                return found
            wait *= 2
        ok, value = outcome[0]
        if not ok:
            raise value
        return value

    def _once(
        self,
        method: str,
        path: str,
        body: Any,  # noqa: ANN401 (a JSON body)
        params: Mapping[str, Any] | None,
        timeout: float,
        *,
        observe: bool,
    ) -> Reply:
        query = {**self._params, **(params or {})}
        sent = time.monotonic()
        try:
            response = self._http.request(method, path, json=body, params=query or None, timeout=timeout)
        except httpx.TimeoutException as error:
            raise PanelUnavailable(f"{self.product} did not answer in time.") from error
        except httpx.ConnectError as error:
            raise PanelUnavailable(f"{self.product} could not be reached.") from error
        except httpx.HTTPError as error:
            raise PanelUnavailable(f"{self.product} connection failed ({type(error).__name__}).") from error
        if observe:
            self._latency.observe(self._panel, time.monotonic() - sent)
        text = response.text
        parsed = _parse(text)
        if response.is_success:
            return Reply(response.status_code, parsed, text)
        status = response.status_code
        if status == 429 or status >= 500:
            raise PanelFailed(f"{self.product} is unavailable right now (HTTP {status}).", status=status)
        code, detail = self._error_text(parsed, text)
        if status in (401, 403):
            message = f"{self.product} refused our credentials (HTTP {status}){_tail(detail)}"
        else:
            message = f"{self.product} refused the request (HTTP {status}){_tail(detail)}"
        raise PanelRefused(
            message, status=status, code=code, detail=detail, body=parsed if is_json(parsed) else None
        )


@overload
def together(first: Callable[[], A], second: Callable[[], B], /) -> tuple[A, B]: ...
@overload
def together(
    first: Callable[[], A], second: Callable[[], B], third: Callable[[], C], /
) -> tuple[A, B, C]: ...
def together(*calls: Callable[[], Any]) -> tuple[Any, ...]:
    """Independent panel calls made at once (each mostly waits on the network): their results in
    order. Every call ends before this returns; then the first error, in the calls' order, is
    raised (so a caller lists the call whose refusal matters most first)."""
    results: list[Any] = [None] * len(calls)
    errors: list[BaseException | None] = [None] * len(calls)

    def run(index: int) -> None:
        try:
            results[index] = calls[index]()
        except BaseException as error:  # handed to the caller below
            errors[index] = error

    others = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(1, len(calls))]
    for thread in others:
        thread.start()
    run(0)
    for thread in others:
        thread.join()
    for error in errors:
        if error is not None:
            raise error
    return tuple(results)


def each(call: Callable[[A], B], items: Iterable[A], *, width: int = 8) -> list[B]:
    """`call(item)` for every item, up to `width` at once (reads of many nodes, say): the results
    in order; the first error, in order, is raised."""
    items = list(items)
    if len(items) <= 1:
        return [call(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(width, len(items))) as pool:
        return list(pool.map(call, items))


class CreatesOnce:
    """Base of a panel client whose creates go through `PanelHttp.create_once` on `_http`."""

    _http: PanelHttp

    def create_once(
        self, send: Callable[[], T], look: Callable[[], T | None] | None = None, *, hedge: bool = True
    ) -> T:
        """A create looked up while late, sent again only after a 500/429 (`PanelHttp.create_once`)."""
        return self._http.create_once(send, look, hedge=hedge)


@functools.cache
def _tls() -> ssl.SSLContext:
    """One TLS context for every panel client: building one loads the CA bundle, ~0.1 s of CPU
    per client (and a module opens a client per call)."""
    return httpx.create_ssl_context()


def _checked_url(product: str, base_url: str) -> str:
    """The panel URL without a trailing slash, or PanelRejected when it is not http(s)://host."""
    try:
        url = httpx.URL(base_url.strip())
    except (httpx.InvalidURL, TypeError):
        url = None
    if url is None or url.scheme not in ("http", "https") or not url.host:
        raise PanelRejected(f"The {product} panel URL {base_url!r} is not a valid http(s) address.")
    return str(url).rstrip("/")


def _tail(detail: str) -> str:
    return f": {detail[:300]}" if detail else "."


_NOT_JSON = object()


def _parse(text: str) -> Any:  # noqa: ANN401 (a JSON value)
    if not text.strip():
        return None
    try:
        return json.loads(text)
    except ValueError:
        return _NOT_JSON


def json_body(reply: Reply, *, product: str) -> Any:  # noqa: ANN401 (a JSON value)
    """The reply's JSON, or PanelUnavailable when the panel sent something else."""
    if reply.body is _NOT_JSON or reply.body is None:
        raise PanelUnavailable(f"{product} sent a reply we could not read (not JSON).")
    return reply.body


def json_object(reply: Reply, *, product: str) -> dict[str, Any]:
    """The reply's JSON object, or PanelUnavailable."""
    body = json_body(reply, product=product)
    if not isinstance(body, dict):
        raise PanelUnavailable(f"{product} sent a reply we could not read (not an object).")
    return body


def is_json(value: Any) -> bool:  # noqa: ANN401 (a parsed body)
    """Whether a parsed body was JSON (error bodies may be HTML or plain text)."""
    return value is not _NOT_JSON
