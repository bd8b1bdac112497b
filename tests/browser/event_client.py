"""A bare Reflex event client: Socket.IO over a websocket, as the browser speaks it, but with
any headers (a forged Host or Origin, X-Forwarded-For, cookies) and many at once (load)."""

import asyncio
import json
import uuid
from typing import Any

import aiohttp
import socketio

from ezscale.state.login import LoginState
from ezscale.state.signup import SignupState

SIGNUP = f"{SignupState.get_full_name()}.submit_signup"
FORGOT = f"{SignupState.get_full_name()}.submit_forgot"
LOGIN = f"{LoginState.get_full_name()}.submit_password"
NAMESPACE = "/_event"  # socket.io-client takes the URL's path as the namespace too


class EventClient:
    def __init__(self, port: int, *, host: str, origin: str | None = None, local_ip: str = "127.0.0.1"):
        self.port, self.host, self.local_ip = port, host, local_ip
        self.origin = origin if origin is not None else f"http://{host}"
        self.token = str(uuid.uuid4())
        self.updates: list[str] = []
        self._changed = asyncio.Event()

    async def connect(self, *, cookie: str = "", forwarded_for: str = "") -> None:
        headers = {"Host": self.host, "Origin": self.origin}
        if cookie:
            headers["Cookie"] = cookie
        if forwarded_for:
            headers["X-Forwarded-For"] = forwarded_for
        self._http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=(self.local_ip, 0)))
        self.sio = socketio.AsyncClient(reconnection=False, http_session=self._http)

        @self.sio.on("event", namespace=NAMESPACE)
        async def _update(data: Any) -> None:
            self.updates.append(json.dumps(data))
            self._changed.set()

        await self.sio.connect(
            f"http://127.0.0.1:{self.port}?token={self.token}",
            headers=headers,
            transports=["websocket"],
            socketio_path="/_event",
            namespaces=[NAMESPACE],
            wait_timeout=30,
        )

    async def send(
        self, name: str, path: str, payload: dict, *, until: tuple[str, ...], timeout: float = 60
    ) -> str:
        """Fire one event as the page at `path` would; returns the first update that mentions
        any of `until`."""
        seen = len(self.updates)
        await self.sio.emit(
            "event",
            {"name": name, "payload": payload, "router_data": {"pathname": path, "asPath": path}},
            namespace=NAMESPACE,
        )
        async with asyncio.timeout(timeout):
            while True:
                self._changed.clear()
                for update in self.updates[seen:]:
                    if any(text in update for text in until):
                        return update
                seen = len(self.updates)
                await self._changed.wait()

    async def close(self) -> None:
        await self.sio.disconnect()
        await self._http.close()
