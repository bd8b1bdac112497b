"""What the loopback REST panel simulators (Pterodactyl, Enhance, SynergyCP) share: routing by
method and path pattern, auth, latency, and faults injected per call.

Faults, one per injected entry, consumed by the next call of that name:
`timeout` (do the work, then hang longer than the client waits — the reply is lost),
`hang` (hang before doing anything), `500`, `502`, `429`, `malformed` (do the work, reply with
broken JSON), `exhausted` (the panel's own "no capacity" answer; each panel defines it).
`fault_rate` adds a random `500` or `timeout` to that share of calls (benchmarks).
"""

import json
import random
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ezscale.simulators.kasm import RunningServer

Query = dict[str, list[str]]
Result = tuple[int, Any]
Route = tuple[str, re.Pattern[str], str, Callable[..., Result]]


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
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
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
            try:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

    return Handler


def serve(sim: RestSimulator, *, host: str = "127.0.0.1", port: int = 0) -> RunningServer:
    """Put a simulator on a loopback port in a daemon thread."""
    server = ThreadingHTTPServer((host, port), _handler_for(sim))
    server.daemon_threads = True
    server.request_queue_size = 256
    running = RunningServer(server)
    sim.public_url = running.url
    return running


def run_forever(sim: RestSimulator, *, port: int, label: str) -> None:
    """Serve until killed (the `python -m ezscale.simulators.<name>` entry point)."""
    running = serve(sim, port=port)
    print(f"{label} simulator on {running.url}", flush=True)
    threading.Event().wait()
