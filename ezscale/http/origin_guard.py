"""Refuse Reflex event connections (websocket and polling) opened from a foreign Origin.

A page on another site could otherwise open our websocket with the visitor's cookies and act
as them. Browsers always send Origin on websocket handshakes; it must name the same host (and
port) the connection is made to, both parsed strictly (`a:3000@evil.example` is no host at all).
"""

from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

from ezscale.services.tenancy.tenants import public_scheme, split_host

GUARDED_PREFIXES = ("/_event", "/_upload")


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return ""


DEFAULT_PORTS = {"http": 80, "https": 443}


def parse_origin(origin: str) -> tuple[str, int] | None:
    """`scheme://host[:port]` with nothing else (no userinfo, path, query) → (host, port)."""
    try:
        parts = urlsplit(origin.strip())
    except ValueError:
        return None
    if parts.scheme not in DEFAULT_PORTS or parts.path or parts.query or parts.fragment:
        return None
    parsed = split_host(parts.netloc)
    if parsed is None:
        return None
    return parsed[0], parsed[1] or DEFAULT_PORTS[parts.scheme]


def same_origin(origin: str, host: str) -> bool:
    """No Origin header (non-browser clients) is allowed; otherwise its host and port must equal
    the Host header's (a Host without a port means the Origin scheme's default port)."""
    if not origin:
        return True
    theirs, ours = parse_origin(origin), split_host(host)
    if theirs is None or ours is None:
        return False
    return theirs == (ours[0], ours[1] or DEFAULT_PORTS[urlsplit(origin.strip()).scheme])


def is_own_origin(origin: str, host: str) -> bool:
    """`origin` is exactly this request's own: the site's public scheme and the strictly parsed
    Host (a Host without a port means that scheme's default port)."""
    theirs, ours, scheme = parse_origin(origin), split_host(host), public_scheme()
    if theirs is None or ours is None or urlsplit(origin.strip()).scheme != scheme:
        return False
    return theirs == (ours[0], ours[1] or DEFAULT_PORTS[scheme])


def refuse_foreign_origins(app: ASGIApp) -> ASGIApp:
    async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
        guarded_path = scope["type"] in ("websocket", "http") and scope.get("path", "").startswith(
            GUARDED_PREFIXES
        )
        if guarded_path and not same_origin(_header(scope, b"origin"), _header(scope, b"host")):
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
                return
            await send({"type": "http.response.start", "status": 403, "headers": []})
            await send({"type": "http.response.body", "body": b"foreign origin"})
            return
        await app(scope, receive, send)

    return guarded
