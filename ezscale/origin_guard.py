"""Refuse Reflex event connections (websocket and polling) opened from a foreign Origin.

A page on another site could otherwise open our websocket with the visitor's cookies and act
as them. Browsers always send Origin on websocket handshakes; it must name the same host (and
port) the connection is made to.
"""

from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

GUARDED_PREFIXES = ("/_event", "/_upload")


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return ""


def same_origin(origin: str, host: str) -> bool:
    """No Origin header (non-browser clients) is allowed; otherwise its host:port must match."""
    if not origin:
        return True
    return urlsplit(origin).netloc.lower() == host.strip().lower()


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
