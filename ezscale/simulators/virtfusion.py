"""A loopback VirtFusion panel speaking API v1, for the demo, tests and benchmarks.

Same paths, fields and status codes as the real panel (`/api/v1/...`, Bearer token, payload under
`data`, 204 without body, `{"errors": [...]}` or `{"msg": ...}` errors, 423 while a server task
runs). State is realistic: users keyed by `extRelationId`, packages, hypervisor groups whose
hypervisors have finite memory, cores and storage, and a shared IPv4 pool per group. A server
takes resources at create, builds for `build_seconds` after `POST /servers/{id}/build`, and gives
them back when deleted.

Faults are injected per call (`"POST /servers"`, `"GET /servers/{id}"`, ...), one per request:
`timeout` (hang before doing anything), `timeout_after_success` (do the work, then hang longer
than the client waits), `500`, `malformed` (broken JSON with 200), `busy` (423), `exhaust` (every
hypervisor's free memory is used up just before the call: capacity gone between check and
create). `latency` delays every reply; `fault_rate` injects a random 500 or timeout-after-success
into that share of mutating calls (benchmarks). `GET /_state/live` (outside the API: no auth,
latency or faults) lists the ids of the servers that exist, for a benchmark's orphan check.

Run alone: `python -m ezscale.simulators.virtfusion --port 8393`.
"""

import argparse
import json
import random
import re
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ezscale.simulators.rest import STATE_PATH, RunningServer, SimHandler, start, wait_forever

DEFAULT_PACKAGES = (
    # id, name, memory MB, cores, storage GB, traffic GB
    (1, "VPS 1", 2048, 1, 40, 2000),
    (2, "VPS 2", 4096, 2, 80, 4000),
    (3, "VPS 4", 8192, 4, 160, 8000),
)
DEFAULT_TEMPLATES = ((1, "Debian", "12"), (2, "Ubuntu", "24.04"), (3, "AlmaLinux", "9"))
CAPACITY_ERROR = "Unable to find a hypervisor with enough free resources in the selected group."


def _system_now() -> datetime:
    return datetime.now(UTC)


def _stamp(at: datetime | None) -> str | None:
    return None if at is None else at.strftime("%Y-%m-%d %H:%M:%S")


@dataclass
class Hypervisor:
    id: int
    name: str
    memory_mb: int
    cores: int
    storage_gb: int
    enabled: bool = True
    prohibit: bool = False
    commissioned: bool = True
    storage_type: int = 1


@dataclass
class Group:
    id: int
    name: str
    hypervisors: list[Hypervisor]
    ipv4: list[str]


@dataclass
class Server:
    id: int
    uuid: str
    owner_id: int
    package_id: int
    group_id: int
    hypervisor_id: int
    memory: int
    cores: int
    storage: int
    traffic: int
    ipv4: list[str]
    created: datetime
    name: str = ""
    hostname: str = ""
    os_id: int | None = None
    build_started: datetime | None = None
    suspended: bool = False
    build_failed: bool = False
    power: str = "stopped"


@dataclass
class VirtFusionSimulator:
    """The panel's state and behaviour; `serve()` puts it on a loopback port."""

    token: str = "demo-virtfusion-token"
    build_seconds: float = 4.0
    latency: float = 0.0
    hang_seconds: float = 5.0
    fault_rate: float = 0.0
    clock: Callable[[], datetime] = _system_now
    users: dict[int, dict[str, Any]] = field(default_factory=dict)
    packages: dict[int, dict[str, Any]] = field(default_factory=dict)
    groups: dict[int, Group] = field(default_factory=dict)
    servers: dict[int, Server] = field(default_factory=dict)
    queue: dict[int, dict[str, Any]] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    # Servers whose build fails (their next build ends with buildFailed).
    fail_builds: set[int] = field(default_factory=set)
    _faults: dict[str, list[str]] = field(default_factory=dict)
    _ids: dict[str, int] = field(default_factory=dict)
    _lock: threading.RLock = field(default_factory=threading.RLock)

    def __post_init__(self) -> None:
        for pid, name, memory, cores, storage, traffic in DEFAULT_PACKAGES:
            self.packages[pid] = dict(
                id=pid,
                name=name,
                enabled=True,
                memory=memory,
                cpuCores=cores,
                primaryStorage=storage,
                traffic=traffic,
                primaryNetworkSpeedIn=0,
                primaryNetworkSpeedOut=0,
                primaryStorageProfile=None,
                backupPlanId=0,
            )
        if not self.groups:
            self.add_default_group()

    # --- test and demo controls -------------------------------------------------------------

    def add_group(
        self,
        group_id: int,
        name: str,
        *,
        hypervisors: int,
        memory_mb: int,
        cores: int,
        storage_gb: int,
        ipv4: int,
    ) -> Group:
        """A hypervisor group of identical hypervisors sharing an IPv4 pool of `ipv4` addresses."""
        with self._lock:
            hvs = [
                Hypervisor(group_id * 100 + n, f"hv{group_id}-{n}", memory_mb, cores, storage_gb)
                for n in range(1, hypervisors + 1)
            ]
            pool = [f"203.0.{group_id}.{n}" for n in range(10, 10 + ipv4)]
            self.groups[group_id] = Group(group_id, name, hvs, pool)
            return self.groups[group_id]

    def add_default_group(self, *, hypervisors: int = 2, ipv4: int = 24) -> Group:
        """Group 1 (replaced if it exists): hypervisors of 32 GiB, 16 cores and 1.6 TB each."""
        return self.add_group(
            1, "Default", hypervisors=hypervisors, memory_mb=32768, cores=16, storage_gb=1600, ipv4=ipv4
        )

    def inject(self, call: str, *faults: str) -> None:
        """Make the next requests of `call` (e.g. "POST /servers") fail, one fault each."""
        with self._lock:
            self._faults.setdefault(call, []).extend(faults)

    def exhaust(self, group_id: int) -> None:
        """Use up the group's memory (another customer took the last room)."""
        with self._lock:
            for hv in self.groups[group_id].hypervisors:
                hv.memory_mb = max(self._used(hv)["memory"], 1)  # 0 would read as unlimited

    def count(self, call: str) -> int:
        """How many requests of `call` were received."""
        with self._lock:
            return sum(1 for c in self.calls if c == call)

    def live_servers(self) -> list[Server]:
        """Servers that exist on the panel now."""
        with self._lock:
            return list(self.servers.values())

    # --- resources --------------------------------------------------------------------------

    def _next(self, kind: str) -> int:
        self._ids[kind] = self._ids.get(kind, 0) + 1
        return self._ids[kind]

    def _used(self, hv: Hypervisor) -> dict[str, int]:
        on = [s for s in self.servers.values() if s.hypervisor_id == hv.id]
        return {
            "memory": sum(s.memory for s in on),
            "cores": sum(s.cores for s in on),
            "storage": sum(s.storage for s in on),
            "servers": len(on),
        }

    def _free_ipv4(self, group: Group) -> list[str]:
        taken = {ip for s in self.servers.values() for ip in s.ipv4}
        return [ip for ip in group.ipv4 if ip not in taken]

    def _state(self, server: Server) -> tuple[str, datetime | None, bool]:
        """(state, built at, task active) of a server now."""
        if server.build_started is None:
            return "provisioned", None, False
        ready_at = server.build_started + timedelta(seconds=self.build_seconds)
        if self.clock() < ready_at:
            return "building", None, True
        if server.id in self.fail_builds:
            server.build_failed = True
            return "failed", None, False
        return server.power, ready_at, False

    # --- the API ----------------------------------------------------------------------------

    def handle(self, method: str, path: str, query: dict[str, str], body: Any, auth: str) -> tuple[int, Any]:
        """One request: (HTTP status, reply body, raw `bytes`, or None for no body)."""
        route = re.sub(r"/\d+", "/{id}", path)
        call = f"{method} {route}"
        with self._lock:
            self.calls.append(call)
            fault = self._faults.get(call, []).pop(0) if self._faults.get(call) else None
            if fault is None and self.fault_rate and method != "GET" and random.random() < self.fault_rate:
                fault = random.choice(("500", "timeout_after_success"))
        if self.latency:
            time.sleep(self.latency)
        if fault == "timeout":
            time.sleep(self.hang_seconds)
            return 504, b""
        if fault == "500":
            return 500, b"<html><body>Server Error</body></html>"
        if fault == "malformed":
            return 200, b'{"data": {"id": '
        if fault == "busy":
            return 423, {"msg": "server is locked by a running task"}
        if auth != f"Bearer {self.token}":
            return 401, None
        if fault == "exhaust":
            for group in self.groups.values():
                self.exhaust(group.id)
        with self._lock:
            reply = self._route(method, path, query, body if isinstance(body, dict) else {})
        if fault == "timeout_after_success":
            time.sleep(self.hang_seconds)
        return reply

    def _route(  # noqa: C901 (one flat table of the API's routes)
        self, method: str, path: str, query: dict[str, str], body: dict[str, Any]
    ) -> tuple[int, Any]:
        parts = path.strip("/").split("/")
        match (method, parts):
            case ("GET", ["connect"]):
                return 200, {"data": {"connected": True}}
            case ("GET", ["users", ext, "byExtRelation"]):
                user = self._user_by_ext(ext)
                return (200, {"data": user}) if user else (404, {"msg": "user not found"})
            case ("POST", ["users"]):
                return self._create_user(body)
            case ("POST", ["users", ext, "serverAuthenticationTokens", sid]):
                return self._tokens(ext, sid)
            case ("GET", ["packages"]):
                return 200, {"data": list(self.packages.values())}
            case ("GET", ["packages", pid]):
                package = self.packages.get(int(pid)) if pid.isdigit() else None
                return (200, {"data": package}) if package else (404, {"msg": "package not found"})
            case ("GET", ["media", "templates", "fromServerPackageSpec", _]) | (
                "GET",
                ["servers", _, "templates"],
            ):
                return 200, {"data": self._templates()}
            case ("GET", ["compute", "hypervisors", "groups"]):
                groups = [
                    dict(
                        id=g.id,
                        name=g.name,
                        description="",
                        enabled=True,
                        default=g.id == 1,
                        distributionType=1,
                    )
                    for g in self.groups.values()
                ]
                return 200, self._page(groups)
            case ("GET", ["compute", "hypervisors", "groups", gid, "resources"]):
                group = self.groups.get(int(gid)) if gid.isdigit() else None
                return (
                    (200, self._page(self._resources(group))) if group else (404, {"msg": "group not found"})
                )
            case ("POST", ["servers"]):
                return self._create_server(body, dry_run=query.get("dryRun") == "true")
            case ("GET", ["servers", "user", uid]):
                owned = [self._describe(s) for s in self.servers.values() if str(s.owner_id) == uid]
                return 200, {"data": owned}
            case ("GET", ["queue", qid]):
                item = self.queue.get(int(qid)) if qid.isdigit() else None
                return (200, {"data": item}) if item else (404, {"msg": "queue item not found"})
            case (_, ["servers", sid, *rest]):
                server = self.servers.get(int(sid)) if sid.isdigit() else None
                if server is None:
                    return 404, {"msg": "server not found"}
                return self._server_call(method, server, rest, body)
        return 404, {"msg": "not found"}

    def _page(self, items: list[Any]) -> dict[str, Any]:
        return {
            "current_page": 1,
            "data": items,
            "from": 1 if items else None,
            "last_page": 1,
            "per_page": 200,
            "to": len(items) or None,
            "total": len(items),
            "next_page_url": None,
        }

    def _user_by_ext(self, ext: str) -> dict[str, Any] | None:
        return next((u for u in self.users.values() if str(u.get("extRelationId")) == ext), None)

    def _create_user(self, body: dict[str, Any]) -> tuple[int, Any]:
        name, email = str(body.get("name") or "").strip(), str(body.get("email") or "").strip().lower()
        errors = [
            m
            for ok, m in ((name, "The name field is required."), (email, "The email field is required."))
            if not ok
        ]
        if any(u["email"] == email for u in self.users.values()):
            errors.append("The email has already been taken.")
        ext = body.get("extRelationId")
        if ext is not None and self._user_by_ext(str(ext)):
            errors.append("The ext relation id has already been taken.")
        if errors:
            return 422, {"errors": errors}
        uid = self._next("user")
        self.users[uid] = dict(
            id=uid,
            admin=False,
            extRelationId=ext,
            name=name,
            email=email,
            suspended=False,
            twoFactorAuth=False,
            created=_stamp(self.clock()),
        )
        return 201, {"data": {**self.users[uid], "password": secrets.token_urlsafe(12)}}

    def _tokens(self, ext: str, sid: str) -> tuple[int, Any]:
        user = self._user_by_ext(ext)
        server = self.servers.get(int(sid)) if sid.isdigit() else None
        if user is None or server is None or server.owner_id != user["id"]:
            return 404, {"msg": "server not found"}
        one, two = secrets.token_hex(16), secrets.token_hex(16)
        return 200, {
            "data": {
                "authentication": {
                    "tokens": {"1": one, "2": two},
                    "endpoint": "/token_login",
                    "endpoint_complete": f"/token_login?token_1={one}&token_2={two}&server={server.uuid}",
                    "expiry": {"ttl": 60, "expires": _stamp(self.clock() + timedelta(seconds=60))},
                }
            }
        }

    def _templates(self) -> list[dict[str, Any]]:
        return [
            {
                "id": n,
                "name": name,
                "description": "",
                "icon": "",
                "templates": [
                    {
                        "id": n,
                        "name": name,
                        "version": version,
                        "variant": "",
                        "arch": 1,
                        "eol": False,
                        "deploy_type": 1,
                        "vnc": True,
                        "type": "linux",
                    }
                ],
            }
            for n, name, version in DEFAULT_TEMPLATES
        ]

    def _resources(self, group: Group) -> list[dict[str, Any]]:
        free_ipv4 = len(self._free_ipv4(group))
        rows = []
        for hv in group.hypervisors:
            used = self._used(hv)

            def res(units: str, cap: int, taken: int) -> dict[str, Any]:
                return {
                    "units": units,
                    "max": cap,
                    "allocated": taken,
                    "free": cap - taken,
                    "percent": round(100 * taken / cap, 1) if cap else 0,
                }

            rows.append(
                {
                    "hypervisor": {
                        "id": hv.id,
                        "name": hv.name,
                        "enabled": hv.enabled,
                        "prohibit": hv.prohibit,
                        "accept": True,
                        "commissioned": hv.commissioned,
                    },
                    "resources": {
                        "servers": {
                            "units": "",
                            "max": 0,
                            "allocated": used["servers"],
                            "free": 0,
                            "percent": 0,
                        },
                        "memory": res("MB", hv.memory_mb, used["memory"]),
                        "cpuCores": res("", hv.cores, used["cores"]),
                        "localStorage": {
                            "enabled": True,
                            "storageType": hv.storage_type,
                            **res("GB", hv.storage_gb, used["storage"]),
                        },
                        "otherStorage": [],
                        "network": {"total": {"ipv4": {"free": free_ipv4}}},
                    },
                }
            )
        return rows

    def _pick(self, group: Group, memory: int, cores: int, storage: int) -> Hypervisor | None:
        for hv in group.hypervisors:
            used = self._used(hv)
            if not hv.enabled or hv.prohibit or not hv.commissioned:
                continue
            if (
                used["memory"] + memory <= hv.memory_mb
                and used["cores"] + cores <= hv.cores
                and used["storage"] + storage <= hv.storage_gb
            ):
                return hv
        return None

    def _create_server(self, body: dict[str, Any], *, dry_run: bool) -> tuple[int, Any]:
        errors = [
            f"The {k} field is required." for k in ("packageId", "userId", "hypervisorId") if not body.get(k)
        ]
        if errors:
            return 422, {"errors": errors}
        package = self.packages.get(_int(body["packageId"]))
        user = self.users.get(_int(body["userId"]))
        group = self.groups.get(_int(body["hypervisorId"]))
        if package is None or not package["enabled"]:
            return 422, {"errors": ["The selected package id is invalid."]}
        if user is None:
            return 422, {"errors": ["The selected user id is invalid."]}
        if group is None:
            return 422, {"errors": ["The selected hypervisor id is invalid."]}
        memory = _int(body.get("memory")) or package["memory"]
        cores = _int(body.get("cpuCores")) or package["cpuCores"]
        storage = _int(body.get("storage")) or package["primaryStorage"]
        ipv4 = _int(body.get("ipv4"))
        hv = self._pick(group, memory, cores, storage)
        free = self._free_ipv4(group)
        if hv is None or len(free) < ipv4:
            return 422, {"errors": [CAPACITY_ERROR]}
        if dry_run:
            return 200, {"data": {"dryRun": True, "hypervisorId": hv.id}}
        sid = self._next("server")
        server = Server(
            id=sid,
            uuid=str(uuid.uuid4()),
            owner_id=user["id"],
            package_id=package["id"],
            group_id=group.id,
            hypervisor_id=hv.id,
            memory=memory,
            cores=cores,
            storage=storage,
            traffic=package["traffic"],
            ipv4=free[:ipv4],
            created=self.clock(),
            name=f"srv-{secrets.token_hex(3)}",
        )
        self.servers[sid] = server
        return 201, {"data": self._describe(server)}

    def _describe(self, server: Server) -> dict[str, Any]:
        state, built, active = self._state(server)
        user = self.users.get(server.owner_id, {})
        return {
            "id": server.id,
            "uuid": server.uuid,
            "ownerId": server.owner_id,
            "hypervisorId": server.hypervisor_id,
            "packageId": server.package_id,
            "name": server.name,
            "hostname": server.hostname,
            "state": state,
            "suspended": server.suspended,
            "buildFailed": server.build_failed,
            "commissionStatus": 3 if built else (1 if server.build_started else 0),
            "built": _stamp(built),
            "created": _stamp(server.created),
            "settings": {
                "resources": {
                    "memory": server.memory,
                    "storage": server.storage,
                    "traffic": server.traffic,
                    "cpuCores": server.cores,
                }
            },
            "network": {
                "interfaces": [
                    {
                        "ipv4": [
                            {
                                "address": ip,
                                "gateway": ip.rsplit(".", 1)[0] + ".1",
                                "netmask": "255.255.255.0",
                            }
                            for ip in server.ipv4
                        ]
                    }
                ]
            },
            "owner": {"id": user.get("id"), "extRelationId": user.get("extRelationId")},
            "tasks": {"active": active, "actions": {"pending": ["build"] if active else []}},
        }

    def _queued(self, server: Server, action: str) -> dict[str, Any]:
        qid = self._next("queue")
        now = _stamp(self.clock())
        self.queue[qid] = dict(
            id=qid,
            job=action,
            action=action,
            serverId=server.id,
            started=now,
            updated=now,
            finished=now,
            failed=False,
            progress=100,
            errors={},
        )
        return {"data": {"queueId": qid}}

    def _server_call(  # noqa: C901 (one flat table of a server's routes)
        self, method: str, server: Server, rest: list[str], body: dict[str, Any]
    ) -> tuple[int, Any]:
        _, _, busy = self._state(server)
        match (method, rest):
            case ("GET", []):
                return 200, {"data": self._describe(server)}
            case ("DELETE", []):
                del self.servers[server.id]
                return 204, None
            case ("POST", ["build"]):
                os_id = _int(body.get("operatingSystemId"))
                if not any(os_id == t[0] for t in DEFAULT_TEMPLATES):
                    return 422, {"errors": ["The selected operating system id is invalid."]}
                if busy:
                    return 423, {"msg": "server is locked by a running task"}
                server.os_id, server.build_started, server.power = os_id, self.clock(), "running"
                server.build_failed = False
                server.name = str(body.get("name") or server.name)[:64]
                server.hostname = str(body.get("hostname") or server.hostname)[:253]
                return 200, {"data": self._describe(server)}
            case ("POST", ["suspend" | "unsuspend" as what]):
                if busy:
                    return 423, {"msg": "server is locked by a running task"}
                server.suspended = what == "suspend"
                return 204, None
            case ("POST", ["power", action]):
                if action not in ("boot", "shutdown", "restart", "poweroff"):
                    return 404, {"msg": "not found"}
                if busy or server.suspended:
                    return 423, {"msg": "server is locked"}
                server.power = "running" if action in ("boot", "restart") else "stopped"
                return 200, self._queued(server, action)
            case ("PUT", ["package", pid]):
                package = self.packages.get(_int(pid))
                if package is None:
                    return 404, {"msg": "package not found"}
                if busy:
                    return 423, {"msg": "server is locked by a running task"}
                server.package_id = package["id"]
                server.memory, server.cores = package["memory"], package["cpuCores"]
                server.storage, server.traffic = package["primaryStorage"], package["traffic"]
                return 204, None
            case ("GET", ["traffic"]):
                _, built, _ = self._state(server)
                seconds = int((self.clock() - built).total_seconds()) if built else 0
                rx, tx = seconds * 12_000, seconds * 3_000
                now = self.clock()
                return 200, {
                    "data": {
                        "monthly": [
                            {
                                "month": now.strftime("%Y-%m"),
                                "start": _stamp(now.replace(day=1)),
                                "end": None,
                                "rx": rx,
                                "tx": tx,
                                "total": rx + tx,
                                "limit": server.traffic,
                                "blocks": [],
                            }
                        ]
                    }
                }
        return 404, {"msg": "not found"}


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _handler_for(sim: VirtFusionSimulator) -> type[BaseHTTPRequestHandler]:
    class Handler(SimHandler):
        def _reply(self, status: int, body: Any) -> None:
            data = b"" if body is None else body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send(status, data, "application/json" if data else None)

        def _any(self) -> None:
            raw = self.body()
            url = urlsplit(self.path)
            if self.command == "GET" and url.path == STATE_PATH:
                return self._reply(200, [str(s.id) for s in sim.live_servers()])
            if not url.path.startswith("/api/v1/"):
                return self._reply(404, {"msg": "not found"})
            try:
                body = json.loads(raw) if raw else {}
            except ValueError:
                return self._reply(400, {"errors": ["Invalid JSON"]})
            query = {k: v[-1] for k, v in parse_qs(url.query).items()}
            path = url.path.removeprefix("/api/v1")
            self._reply(*sim.handle(self.command, path, query, body, self.headers.get("Authorization", "")))

        do_GET = do_POST = do_PUT = do_DELETE = _any

    return Handler


def serve(sim: VirtFusionSimulator, *, host: str = "127.0.0.1", port: int = 0) -> RunningServer:
    """Serve `sim` on a loopback port (0 picks a free one)."""
    return start(_handler_for(sim), host=host, port=port)


def main() -> None:
    parser = argparse.ArgumentParser(description="VirtFusion API v1 simulator")
    parser.add_argument("--port", type=int, default=8393)
    parser.add_argument("--token", default="demo-virtfusion-token")
    parser.add_argument("--build-seconds", type=float, default=4.0)
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--fault-rate", type=float, default=0.0)
    parser.add_argument("--hang-seconds", type=float, default=5.0, help="How long a timeout fault hangs.")
    parser.add_argument(
        "--hypervisors", type=int, default=2, help="Hypervisors (32 GiB, 16 cores) in the default group."
    )
    parser.add_argument("--ipv4", type=int, default=24, help="IPv4 addresses in the default group's pool.")
    args = parser.parse_args()
    sim = VirtFusionSimulator(
        token=args.token,
        build_seconds=args.build_seconds,
        latency=args.latency,
        fault_rate=args.fault_rate,
        hang_seconds=args.hang_seconds,
    )
    sim.add_default_group(hypervisors=args.hypervisors, ipv4=args.ipv4)
    running = serve(sim, port=args.port)
    wait_forever(f"VirtFusion simulator on {running.url}/api/v1")


if __name__ == "__main__":
    main()
