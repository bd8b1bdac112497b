"""A loopback Kasm Workspaces server speaking the Developer API, for the demo, tests and benchmarks.

Same endpoints and fields as the real server (`POST /api/public/<call>`, credentials in the
body or HTTP Basic, `error_message` replies with HTTP 200). Sessions start as `starting` and
turn `running` after `provision_seconds`; they expire unless kept alive; they can be stopped
"from outside" (`stop_outside`, or `POST /sim/stop/<kasm_id>`). Faults are injected per call:
`timeout` (hang longer than the client waits), `500`, `malformed` (non-JSON), `error`
(`error_message` with HTTP 200). `latency` delays every reply.

Run alone: `python -m ezscale.simulators.kasm --port 8391`.
"""

import argparse
import base64
import json
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any

from ezscale.simulators.rest import RunningServer, SimHandler, start, wait_forever

TIME_FORMAT = "%Y-%m-%d %H:%M:%S.%f"

DEFAULT_IMAGES = (
    ("kasmweb/vs-code:1.16.0", "VS Code", 2, 4096),
    ("kasmweb/ubuntu-jammy-desktop:1.16.0", "Ubuntu Jammy Desktop", 2, 4096),
    ("kasmweb/chrome:1.16.0", "Chrome", 1, 2048),
    ("kasmweb/only-office:1.16.0", "OnlyOffice", 2, 4096),
)


def _fmt(at: datetime) -> str:
    return at.astimezone(UTC).replace(tzinfo=None).strftime(TIME_FORMAT)


def _system_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class _Kasm:
    kasm_id: str
    user_id: str
    image_id: str
    status: str
    created: datetime
    running_at: datetime
    keepalive: datetime
    expiration: datetime


@dataclass
class KasmSimulator:
    """The simulator's state and behaviour; `serve()` puts it on a loopback port."""

    api_key: str = "demo-key"
    api_secret: str = "demo-secret"
    provision_seconds: float = 4.0
    keepalive_seconds: float = 3600.0
    latency: float = 0.0
    hang_seconds: float = 5.0
    clock: Callable[[], datetime] = _system_now
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    kasms: dict[str, _Kasm] = field(default_factory=dict)
    images: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    # Sessions whose Kasm-side usage limit is reached (keepalive answers usage_reached: true).
    limit_reached: set[str] = field(default_factory=set)
    _faults: dict[str, list[str]] = field(default_factory=dict)
    _lock: threading.RLock = field(default_factory=threading.RLock)

    def __post_init__(self) -> None:
        for name, friendly, cores, memory in DEFAULT_IMAGES:
            self.add_image(name, friendly, cores, memory)

    def add_image(self, name: str, friendly: str, cores: int = 2, memory: int = 4096) -> str:
        image_id = uuid.uuid5(uuid.NAMESPACE_URL, name).hex
        self.images[image_id] = dict(
            image_id=image_id, name=name, friendly_name=friendly, cores=cores, memory=memory * 1_000_000
        )
        return image_id

    def image_id(self, name: str) -> str:
        return uuid.uuid5(uuid.NAMESPACE_URL, name).hex

    # --- test and demo controls -------------------------------------------------------------

    def inject(self, call: str, *faults: str) -> None:
        """Make the next calls of `call` fail, one fault each: timeout, 500, malformed, error."""
        with self._lock:
            self._faults.setdefault(call, []).extend(faults)

    def stop_outside(self, kasm_id: str, *, delete: bool = True) -> None:
        """End a session as an admin or host failure would: gone, or left `stopped`."""
        with self._lock:
            if delete:
                self.kasms.pop(kasm_id, None)
            elif kasm_id in self.kasms:
                self.kasms[kasm_id].status = "stopped"

    def add_running(self, *, user_id: str, image_id: str) -> str:
        """A session that is already running (benchmarks)."""
        with self._lock:
            kasm = self._new_kasm(user_id, image_id)
            kasm.running_at = kasm.created
            return kasm.kasm_id

    # --- the API ----------------------------------------------------------------------------

    def handle(self, name: str, body: dict[str, Any], basic: tuple[str, str] | None) -> tuple[int, Any]:
        """One API call: (HTTP status, reply body or a raw `bytes` reply)."""
        with self._lock:
            self.calls.append(name)
            fault = self._faults.get(name, []).pop(0) if self._faults.get(name) else None
        if self.latency:
            time.sleep(self.latency)
        if fault == "timeout":
            time.sleep(self.hang_seconds)
        elif fault == "500":
            return 500, b"<html><body>Internal Server Error</body></html>"
        elif fault == "malformed":
            return 200, b'{"kasms": [ {"kasm_id": '
        elif fault == "error":
            return 200, {"error_message": "Simulated failure"}
        credentials = basic or (body.get("api_key"), body.get("api_key_secret"))
        if credentials != (self.api_key, self.api_secret):
            return 403, {"error_message": "Access Denied: invalid API key"}
        handler = getattr(self, f"_api_{name}", None)
        if handler is None:
            return 404, {"error_message": f"Unknown call {name}"}
        with self._lock:
            self._expire()
            return 200, handler(body)

    def _expire(self) -> None:
        now = self.clock()
        for kasm_id in [k for k, v in self.kasms.items() if v.expiration <= now]:
            del self.kasms[kasm_id]

    def _status(self, kasm: _Kasm) -> str:
        if kasm.status == "starting" and self.clock() >= kasm.running_at:
            kasm.status = "running"
        return kasm.status

    def _new_kasm(self, user_id: str, image_id: str) -> _Kasm:
        now = self.clock()
        kasm = _Kasm(
            kasm_id=uuid.uuid4().hex,
            user_id=user_id,
            image_id=image_id,
            status="starting",
            created=now,
            running_at=now + timedelta(seconds=self.provision_seconds),
            keepalive=now,
            expiration=now + timedelta(seconds=self.keepalive_seconds),
        )
        self.kasms[kasm.kasm_id] = kasm
        return kasm

    def _describe(self, kasm: _Kasm) -> dict[str, Any]:
        image = self.images.get(kasm.image_id, {})
        user = self.users.get(kasm.user_id, {})
        return dict(
            kasm_id=kasm.kasm_id,
            user_id=kasm.user_id,
            image_id=kasm.image_id,
            operational_status=self._status(kasm),
            start_date=_fmt(kasm.created),
            created_date=_fmt(kasm.created),
            keepalive_date=_fmt(kasm.keepalive),
            expiration_date=_fmt(kasm.expiration),
            cores=image.get("cores", 2),
            memory=image.get("memory", 0),
            hostname="10.0.0.10",
            server_id="sim-agent-1",
            image={"image_id": kasm.image_id, "friendly_name": image.get("friendly_name", "")},
            user={"username": user.get("username", "")},
        )

    def _url(self, kasm: _Kasm) -> str:
        return f"/#/connect/kasm/{kasm.kasm_id}/{kasm.user_id}/{secrets.token_hex(16)}"

    def _user_reply(self, user: dict[str, Any]) -> dict[str, Any]:
        return {
            "user": {k: user[k] for k in ("user_id", "username", "first_name", "last_name")}
            | {"realm": "local", "groups": [{"name": "All Users"}]}
        }

    def _api_create_user(self, body: dict[str, Any]) -> dict[str, Any]:
        target = body.get("target_user") or {}
        username = target.get("username")
        if not username or not target.get("password"):
            return {"error_message": "Username and password are required"}
        if any(u["username"] == username for u in self.users.values()):
            return {"error_message": "Username already exists"}
        user_id = uuid.uuid4().hex
        self.users[user_id] = dict(
            user_id=user_id,
            username=username,
            first_name=target.get("first_name", ""),
            last_name=target.get("last_name", ""),
        )
        return self._user_reply(self.users[user_id])

    def _find_user(self, target: dict[str, Any]) -> dict[str, Any] | None:
        if target.get("user_id"):
            return self.users.get(target["user_id"])
        return next((u for u in self.users.values() if u["username"] == target.get("username")), None)

    def _api_get_user(self, body: dict[str, Any]) -> dict[str, Any]:
        user = self._find_user(body.get("target_user") or {})
        return self._user_reply(user) if user else {"error_message": "User not found"}

    def _api_update_user(self, body: dict[str, Any]) -> dict[str, Any]:
        target = body.get("target_user") or {}
        user = self._find_user({"user_id": target.get("user_id")})
        if user is None:
            return {"error_message": "User not found"}
        user.update({k: v for k, v in target.items() if k in ("first_name", "last_name", "password")})
        return self._user_reply(user)

    def _api_delete_user(self, body: dict[str, Any]) -> dict[str, Any]:
        user = self._find_user(body.get("target_user") or {})
        if user is None:
            return {"error_message": "User not found"}
        del self.users[user["user_id"]]
        return {}

    def _api_get_images(self, body: dict[str, Any]) -> dict[str, Any]:
        return {"images": list(self.images.values())}

    def _api_request_kasm(self, body: dict[str, Any]) -> dict[str, Any]:
        image_id = body.get("image_id")
        if image_id not in self.images:
            return {"error_message": "No Default Image Found"}
        user_id = body.get("user_id")
        if user_id not in self.users:
            return {"error_message": "User not found"}
        kasm = self._new_kasm(user_id, image_id)
        return dict(
            kasm_id=kasm.kasm_id,
            status="Starting",
            session_token=secrets.token_hex(16),
            user_id=user_id,
            username=self.users[user_id]["username"],
            share_id=None,
            kasm_url=self._url(kasm),
        )

    def _kasm_for(self, body: dict[str, Any]) -> _Kasm | None:
        kasm = self.kasms.get(body.get("kasm_id") or "")
        if kasm is None or ("user_id" in body and body["user_id"] != kasm.user_id):
            return None
        return kasm

    def _api_get_kasm_status(self, body: dict[str, Any]) -> dict[str, Any]:
        kasm = self._kasm_for(body)
        if kasm is None:
            return {"error_message": "Kasm not found"}
        now = _fmt(self.clock())
        if self._status(kasm) != "running":
            return dict(
                operational_status=kasm.status,
                operational_progress=50 if kasm.status == "starting" else 100,
                operational_message=f"Session is {kasm.status}",
                current_time=now,
            )
        return {"kasm": self._describe(kasm), "current_time": now, "kasm_url": self._url(kasm)}

    def _api_get_kasms(self, body: dict[str, Any]) -> dict[str, Any]:
        return {"kasms": [self._describe(k) for k in self.kasms.values()], "current_time": _fmt(self.clock())}

    def _api_get_user_kasms(self, body: dict[str, Any]) -> dict[str, Any]:
        user_id = body.get("user_id")
        return {
            "kasms": [self._describe(k) for k in self.kasms.values() if k.user_id == user_id],
            "current_time": _fmt(self.clock()),
        }

    def _api_keepalive(self, body: dict[str, Any]) -> dict[str, Any]:
        kasm = self._kasm_for(body)
        if kasm is None:
            return {"error_message": "Kasm not found"}
        if self._status(kasm) not in ("running", "starting"):
            return {"error_message": f"Cannot keepalive a session that is {kasm.status}"}
        kasm.keepalive = self.clock()
        kasm.expiration = kasm.keepalive + timedelta(seconds=self.keepalive_seconds)
        return {"usage_reached": kasm.kasm_id in self.limit_reached}

    def _api_destroy_kasm(self, body: dict[str, Any]) -> dict[str, Any]:
        if self._kasm_for(body) is None:
            return {"error_message": "Kasm not found"}
        del self.kasms[body["kasm_id"]]
        return {}

    def _set_status(self, body: dict[str, Any], status: str, allowed: tuple[str, ...]) -> dict[str, Any]:
        kasm = self._kasm_for(body)
        if kasm is None:
            return {"error_message": "Kasm not found"}
        if self._status(kasm) not in allowed:
            return {"error_message": f"Session is {kasm.status}"}
        kasm.status = status
        if status == "starting":
            kasm.running_at = self.clock() + timedelta(seconds=self.provision_seconds)
            kasm.expiration = self.clock() + timedelta(seconds=self.keepalive_seconds)
        return {}

    def _api_stop_kasm(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._set_status(body, "stopped", ("running", "paused"))

    def _api_pause_kasm(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._set_status(body, "paused", ("running",))

    def _api_resume_kasm(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._set_status(body, "starting", ("paused", "stopped"))

    def _api_exec_command_kasm(self, body: dict[str, Any]) -> dict[str, Any]:
        kasm = self._kasm_for(body)
        if kasm is None:
            return {"error_message": "Kasm not found"}
        return {"kasm": self._describe(kasm), "current_time": _fmt(self.clock())}


def _handler_for(sim: KasmSimulator) -> type[BaseHTTPRequestHandler]:
    class Handler(SimHandler):
        def do_POST(self) -> None:
            raw = self.body()
            if self.path.startswith("/sim/stop/"):
                sim.stop_outside(self.path.rsplit("/", 1)[-1])
                return self.send_json(200, {})
            if not self.path.startswith("/api/public/"):
                return self.send_json(404, {"error_message": "Not found"})
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                return self.send_json(400, {"error_message": "Invalid JSON"})
            basic = None
            auth = self.headers.get("Authorization", "")
            if auth.startswith("Basic "):
                key, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
                basic = (key, secret)
            self.send_json(*sim.handle(self.path.removeprefix("/api/public/"), body, basic))

    return Handler


def serve(sim: KasmSimulator, *, host: str = "127.0.0.1", port: int = 0) -> RunningServer:
    """Serve `sim` on a loopback port (0 picks a free one)."""
    return start(_handler_for(sim), host=host, port=port)


def main() -> None:
    parser = argparse.ArgumentParser(description="Kasm Developer API simulator")
    parser.add_argument("--port", type=int, default=8391)
    parser.add_argument("--provision-seconds", type=float, default=4.0)
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--discord-port", type=int, default=0, help="Also run a Discord webhook sink.")
    args = parser.parse_args()
    if args.discord_port:
        from ezscale.simulators.discord import DiscordSink, serve_discord

        sink = serve_discord(DiscordSink(), port=args.discord_port)
        print(f"Discord webhook sink on {sink.url}", flush=True)
    running = serve(
        KasmSimulator(provision_seconds=args.provision_seconds, latency=args.latency), port=args.port
    )
    wait_forever(f"Kasm simulator on {running.url}")


if __name__ == "__main__":
    main()
