"""Request bodies are capped before they are read.

Reflex's upload endpoint parses the whole multipart body (spooling it to disk) before any of our
code sees the file, so a size check in the handler comes too late. A declared Content-Length
over the cap is refused at once; a body without one (or lying about it) is cut off as soon as
it passes the cap, and whatever the app would have answered is replaced by 413.
"""

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# The largest upload is a 512 KB logo; multipart framing adds little.
MAX_BODY_BYTES = 1024 * 1024


def _content_length(scope: Scope) -> str | None:
    for key, value in scope.get("headers", []):
        if key == b"content-length":
            return value.decode("latin-1").strip()
    return None


async def _refuse(send: Send) -> None:
    text = f"The request body is larger than {MAX_BODY_BYTES // 1024} KB.".encode()
    headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"connection", b"close")]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": text})


def cap_request_body(app: ASGIApp) -> ASGIApp:  # noqa: C901 (one middleware; its closures share state)
    async def capped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY_BYTES):
            await _refuse(send)
            return
        received, too_large, started = 0, False, False

        async def limited_receive() -> Message:
            nonlocal received, too_large
            if too_large:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > MAX_BODY_BYTES:
                    too_large = True
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if too_large and not started:
                return  # the app's answer to a cut-off body is replaced by 413 below
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await app(scope, limited_receive, guarded_send)
        except Exception:
            if not too_large:
                raise
        if too_large and not started:
            await _refuse(send)

    return capped
