"""The HTTP edge, outside everything else: security headers on every response, and CORS only
for the tenant's own origins.

Reflex's own CORS layer echoes any Origin with credentials, so a page on another site could read
a signed-in user's responses (an admin's CSV report). This layer answers preflights itself and
replaces whatever Access-Control-* headers the inner app set: a cross-origin request gets them
only when its Origin is one of the verified domains of the tenant the Host belongs to.
"""

from anyio import to_thread
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ezscale.db import central_session
from ezscale.services.tenancy.domains import tenant_origins
from ezscale.settings import get_settings

CSP = "frame-ancestors 'none'; base-uri 'self'; object-src 'none'"
SECURITY_HEADERS = (
    ("content-security-policy", CSP),
    ("x-frame-options", "DENY"),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "strict-origin-when-cross-origin"),
)
HSTS = ("strict-transport-security", "max-age=31536000")
PREFLIGHT_MAX_AGE = "600"


def security_headers() -> list[tuple[bytes, bytes]]:
    """The headers every response carries (HSTS only when the site runs behind HTTPS)."""
    pairs = [*SECURITY_HEADERS, HSTS] if get_settings().secure_cookies else list(SECURITY_HEADERS)
    return [(k.encode(), v.encode()) for k, v in pairs]


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return ""


def _origin_allowed(origin: str, host: str) -> bool:
    with central_session() as session:
        return origin in tenant_origins(session, host=host)


def _cors_headers(origin: str) -> list[tuple[bytes, bytes]]:
    return [
        (b"access-control-allow-origin", origin.encode("latin-1")),
        (b"access-control-allow-credentials", b"true"),
        (b"vary", b"Origin"),
    ]


def _merge(headers: list[tuple[bytes, bytes]], extra: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """The response's headers without any CORS header or one of ours, then ours."""
    replaced = {name for name, _ in extra} - {b"vary"}
    kept = [(k, v) for k, v in headers if not k.lower().startswith(b"access-control-")]
    return [(k, v) for k, v in kept if k.lower() not in replaced] + extra


async def _respond(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes = b"") -> None:
    headers = [*headers, (b"content-type", b"text/plain; charset=utf-8")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def secure_edge(app: ASGIApp) -> ASGIApp:
    async def edge(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await app(scope, receive, send)
            return
        extra = security_headers()
        origin, host = _header(scope, b"origin"), _header(scope, b"host")
        # Same-origin requests need no CORS headers; only a cross-origin one costs a lookup.
        allowed = (
            scope["type"] == "http"
            and bool(origin)
            and origin.partition("://")[2] != host
            and await to_thread.run_sync(_origin_allowed, origin, host)
        )
        if allowed:
            extra += _cors_headers(origin)
        if (
            scope["type"] == "http"
            and scope["method"] == "OPTIONS"
            and _header(scope, b"access-control-request-method")
        ):
            if not allowed:
                await _respond(send, 403, extra, b"Cross-origin requests are not allowed here.")
                return
            requested = _header(scope, b"access-control-request-headers")
            extra += [
                (b"access-control-allow-methods", b"GET, POST"),
                (b"access-control-allow-headers", requested.encode("latin-1")),
                (b"access-control-max-age", PREFLIGHT_MAX_AGE.encode()),
            ]
            await _respond(send, 204, extra)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] in ("http.response.start", "websocket.accept"):
                message = {**message, "headers": _merge(list(message.get("headers") or []), extra)}
            await send(message)

        await app(scope, receive, send_with_headers)

    return edge
