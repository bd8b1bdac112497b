"""What the loopback simulators share. Every one: a quiet HTTP/1.1 request handler with body
reading and replies (`SimHandler`), a loopback server in a daemon thread (`RunningServer`, `start`)
and the `python -m ezscale.simulators.<name>` entry point (`wait_forever`). The REST panel
simulators (Pterodactyl, Enhance, SynergyCP) also share routing by method and path pattern, auth,
latency, and faults injected per call (`RestSimulator`).

Faults, one per injected entry, consumed by the next call of that name:
`timeout` (do the work, then hang longer than the client waits — the reply is lost),
`hang` (hang before doing anything), `500`, `502`, `429`, `malformed` (do the work, reply with
broken JSON), `exhausted` (the panel's own "no capacity" answer; each panel defines it).
`fault_rate` adds a random `500` or `timeout` to that share of calls (benchmarks).

`GET /_state/live` (no auth, latency or faults) lists the ids of what the panel holds now, so a
benchmark can check a simulator in another process for orphans.
"""

import json
import random
import re
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


class RunningServer:
    """A simulator served on a loopback port in a daemon thread."""

    def __init__(self, server: ThreadingHTTPServer) -> None:
        """Start serving at once."""
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        """Where it answers: `http://host:port`."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def stop(self) -> None:
        """Stop serving and free the port."""
        self._server.shutdown()
        self._server.server_close()


class SimHandler(BaseHTTPRequestHandler):
    """Base of a simulator's request handler: HTTP/1.1, no access log, and the body read and
    the reply written the same way everywhere (a client that hung up is not an error)."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        """Quiet: tests and the demo read the simulators' state, not their access log."""

    def body(self) -> bytes:
        """The request body (empty when there is none)."""
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def send(
        self,
        status: int,
        data: bytes,
        content_type: str | None = "application/json",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Write a reply; `content_type=None` sends none."""
        try:
            self.send_response(status)
            if content_type:
                self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def send_json(self, status: int, body: Any) -> None:
        """Write a JSON reply (bytes are sent as they are: a malformed body on purpose)."""
        self.send(status, body if isinstance(body, bytes) else json.dumps(body).encode())


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """Quiet when a client hung up (a late answer it no longer waits for), else as usual."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def start(handler: type[BaseHTTPRequestHandler], *, host: str = "127.0.0.1", port: int = 0) -> RunningServer:
    """Serve `handler` on a loopback port (0 picks a free one) in a daemon thread."""
    server = _Server((host, port), handler)
    server.daemon_threads = True
    server.request_queue_size = 256
    return RunningServer(server)


def wait_forever(banner: str, *, wait: Callable[[], object] | None = None) -> None:
    """Say where the simulator answers, then serve until killed (`wait` is injectable for tests)."""
    print(banner, flush=True)
    (wait or threading.Event().wait)()


Query = dict[str, list[str]]
Result = tuple[int, Any]
Route = tuple[str, re.Pattern[str], str, Callable[..., Result]]
STATE_PATH = "/_state/live"


def route(method: str, pattern: str, name: str, handler: Callable[..., Result]) -> Route:
    """A route: `pattern` is a path regex with named groups, matched in full."""
    return method, re.compile(pattern), name, handler


def first(query: Query, name: str, default: str = "") -> str:
    """The first value of a query parameter."""
    values = query.get(name)
    return values[0] if values else default


@dataclass
class RestSimulator:
    """Base of a panel simulator; subclasses give `routes()`, `authorised()` and `exhausted()`."""

    latency: float = 0.0
    hang_seconds: float = 5.0
    build_seconds: float = 3.0
    fault_rate: float = 0.0
    seed: int = 0
    clock: Callable[[], float] = time.monotonic
    public_url: str = ""  # where it answers (set by `serve`), for links it hands out
    calls: list[str] = field(default_factory=list)
    _faults: dict[str, list[str]] = field(default_factory=dict)
    _lock: threading.RLock = field(default_factory=threading.RLock)
    _random: random.Random = field(default_factory=random.Random)

    def __post_init__(self) -> None:
        self._random.seed(self.seed)
        self._routes = self.routes()

    def routes(self) -> list[Route]:
        """The API: (method, path pattern, call name, handler(query, body, **groups))."""
        raise NotImplementedError

    def authorised(self, path: str, query: Query, headers: dict[str, str]) -> Result | None:
        """None when the credentials are good, else the panel's own refusal."""
        raise NotImplementedError

    def exhausted(self) -> Result:
        """The panel's answer when capacity ran out between the check and the create."""
        raise NotImplementedError

    def live_ids(self) -> list[str]:
        """The external ids of what the panel holds now (`GET /_state/live`)."""
        raise NotImplementedError

    def not_found(self) -> Result:
        """The panel's 404."""
        return 404, {"error": "not found"}

    def inject(self, call: str, *faults: str) -> None:
        """Make the next calls of `call` fail, one fault each (see the module docstring)."""
        with self._lock:
            self._faults.setdefault(call, []).extend(faults)

    def count(self, call: str) -> int:
        """How many times `call` was made."""
        return self.calls.count(call)

    def handle(self, method: str, raw_path: str, headers: dict[str, str], raw: bytes) -> Result:
        """One HTTP request: (status, JSON-able body, or raw bytes)."""
        parts = urlsplit(raw_path)
        query = parse_qs(parts.query, keep_blank_values=True)
        path = parts.path
        found = next(((r, m) for r in self._routes if r[0] == method and (m := r[1].fullmatch(path))), None)
        if found is None:
            return self.not_found()
        (_, _, name, handler), match = found
        with self._lock:
            self.calls.append(name)
            queued = self._faults.get(name)
            fault = queued.pop(0) if queued else None
            if fault is None and self.fault_rate and self._random.random() < self.fault_rate:
                fault = self._random.choice(("500", "timeout"))
        if self.latency:
            time.sleep(self.latency)
        if fault == "hang":
            time.sleep(self.hang_seconds)
            return 504, b"<html>Gateway Timeout</html>"
        if fault in ("500", "502", "429"):
            return int(fault), b"<html><body>Server Error</body></html>"
        denied = self.authorised(path, query, headers)
        if denied is not None:
            return denied
        if fault == "exhausted":
            with self._lock:
                return self.exhausted()
        try:
            body = json.loads(raw) if raw.strip() else {}
        except ValueError:
            return 400, {"error": "malformed JSON"}
        with self._lock:
            status, reply = handler(query, body, **match.groupdict())
        if fault == "timeout":
            time.sleep(self.hang_seconds)
        if fault == "malformed":
            return status, b'{"object": "server", "attributes": {"id": '
        return status, reply


def _handler_for(sim: RestSimulator) -> type[BaseHTTPRequestHandler]:
    class Handler(SimHandler):
        def _serve(self) -> None:
            raw = self.body()
            if self.command == "GET" and self.path == STATE_PATH:
                with sim._lock:
                    return self.send_json(200, sim.live_ids())
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, body = sim.handle(self.command, self.path, headers, raw)
            if body is None:
                data, kind = b"", "application/json"
            elif isinstance(body, bytes):
                json_like = body.lstrip().startswith((b"{", b"["))
                data, kind = body, "application/json" if json_like else "text/plain"
            elif isinstance(body, str) and status == 200 and body.startswith("<"):
                data, kind = body.encode(), "text/html"
            else:
                data, kind = json.dumps(body).encode(), "application/json"
            self.send(status, data, kind)

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

    return Handler


def serve(sim: RestSimulator, *, host: str = "127.0.0.1", port: int = 0) -> RunningServer:
    """Put a simulator on a loopback port in a daemon thread."""
    running = start(_handler_for(sim), host=host, port=port)
    sim.public_url = running.url
    return running


def run_forever(sim: RestSimulator, *, port: int, label: str) -> None:
    """Serve until killed (the `python -m ezscale.simulators.<name>` entry point)."""
    running = serve(sim, port=port)
    wait_forever(f"{label} simulator on {running.url}")
