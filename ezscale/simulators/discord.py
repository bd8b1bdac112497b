"""A Discord webhook sink: accepts `POST /api/webhooks/<id>/<token>` like Discord and keeps the
messages (`GET /messages` lists them), so alerts can be seen in the demo and asserted in tests."""

import json
import threading
from typing import Any

from ezscale.simulators.rest import RunningServer, SimHandler, start


class DiscordSink:
    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def add(self, message: dict[str, Any]) -> None:
        with self._lock:
            self.messages.append(message)


def serve_discord(sink: DiscordSink, *, host: str = "127.0.0.1", port: int = 0) -> RunningServer:
    class Handler(SimHandler):
        def _reply(self, status: int, body: bytes = b"") -> None:
            self.send(status, body)

        def do_POST(self) -> None:
            raw = self.body()
            if not self.path.startswith("/api/webhooks/"):
                return self._reply(404)
            try:
                message = json.loads(raw)
            except ValueError:
                return self._reply(400, b'{"message": "Cannot send an empty message", "code": 50006}')
            if not message.get("content") and not message.get("embeds"):
                return self._reply(400, b'{"message": "Cannot send an empty message", "code": 50006}')
            sink.add(message)
            self._reply(204)

        def do_GET(self) -> None:
            if self.path != "/messages":
                return self._reply(404)
            self._reply(200, json.dumps(sink.messages).encode())

    return start(Handler, host=host, port=port)
