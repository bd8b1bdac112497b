"""The Pterodactyl simulator's servers: the application API's server routes (create with the
panel's validation and deploy placement, build/startup changes, suspend, reinstall, delete) and
the client API (power, resources), with the response helpers and eggs both halves use. Mixed
into `ezscale.simulators.pterodactyl.PterodactylSimulator`, whose state they read."""

import random
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ezscale.simulators.rest import Query, Result, first

NOT_FOUND = "The requested resource could not be found on the server."


def error_reply(status: int, code: str, detail: str, **meta: str) -> Result:
    """The panel's error body: `{"errors": [{"code", "status", "detail", "meta"?}]}`."""
    entry: dict[str, Any] = {"code": code, "status": str(status), "detail": detail}
    if meta:
        entry["meta"] = meta
    return status, {"errors": [entry]}


def listing(items: list[dict[str, Any]]) -> dict[str, Any]:
    """A Fractal list with its pagination meta (one page)."""
    total = len(items)
    pagination = dict(
        total=total, count=total, per_page=max(total, 50), current_page=1, total_pages=1, links={}
    )
    return {"object": "list", "data": items, "meta": {"pagination": pagination}}


def item(kind: str, attributes: dict[str, Any]) -> dict[str, Any]:
    """A Fractal item."""
    return {"object": kind, "attributes": attributes}


EGGS: dict[int, dict[str, Any]] = {
    1: dict(
        nest=1,
        name="Paper",
        docker_images={"Java 21": "ghcr.io/pterodactyl/yolks:java_21"},
        startup="java -Xms128M -Xmx{{SERVER_MEMORY}}M -jar {{SERVER_JARFILE}}",
        variables=[
            ("SERVER_JARFILE", "server.jar", "required|string|max:20"),
            ("BUILD_NUMBER", "latest", "required|string"),
        ],
    ),
    2: dict(
        nest=1,
        name="Vanilla Minecraft",
        docker_images={"Java 21": "ghcr.io/pterodactyl/yolks:java_21"},
        startup="java -Xms128M -Xmx{{SERVER_MEMORY}}M -jar {{SERVER_JARFILE}}",
        variables=[
            ("SERVER_JARFILE", "server.jar", "required|string|max:20"),
            ("VANILLA_VERSION", "latest", "required|string"),
        ],
    ),
    3: dict(
        nest=2,
        name="Rust",
        docker_images={"Rust": "ghcr.io/pterodactyl/games:rust"},
        startup="./RustDedicated -batchmode +server.port {{SERVER_PORT}}",
        variables=[("HOSTNAME", "A Rust Server", "required|string|max:60")],
    ),
}
NESTS = {1: "Minecraft", 2: "Rust"}


class ServerRoutes:
    """Server and client-API handlers of the simulator (state lives on the simulator)."""

    # Provided by PterodactylSimulator (and its RestSimulator base), declared for the type checker.
    servers: dict[int, dict[str, Any]]
    allocations: dict[int, dict[str, Any]]
    users: dict[int, dict[str, Any]]
    fail_installs: bool
    build_seconds: float
    clock: Callable[[], float]
    _random: random.Random

    if TYPE_CHECKING:

        def exhausted(self) -> Result: ...
        def not_found(self) -> Result: ...
        def _next(self, kind: str) -> int: ...
        def _viable(self, memory: int, disk: int, locations: list[int]) -> list[dict[str, Any]]: ...
        def _allocation(self, alloc: dict[str, Any]) -> dict[str, Any]: ...

    # --- servers ----------------------------------------------------------------------------

    def _status(self, server: dict[str, Any]) -> str | None:
        if server["status"] == "installing" and self.clock() >= server["installed_at"]:
            server["status"] = "install_failed" if self.fail_installs else None
            if server["status"] is None and server.pop("suspend_after_install", False):
                server["status"] = "suspended"
        return server["status"]

    def _server_attrs(self, server: dict[str, Any], include: str = "") -> dict[str, Any]:
        status = self._status(server)
        attrs = {
            k: v for k, v in server.items() if k not in ("installed_at", "power", "suspend_after_install")
        }
        attrs["status"] = status
        attrs["suspended"] = status == "suspended"
        attrs["container"] = dict(
            server["container"], installed=0 if status in ("installing", "install_failed") else 1
        )
        if "allocations" in include:
            rows = [a for a in self.allocations.values() if a["server_id"] == server["id"]]
            attrs["relationships"] = {
                "allocations": {
                    "object": "list",
                    "data": [item("allocation", self._allocation(a)) for a in rows],
                }
            }
        return attrs

    def _server_reply(self, server: dict[str, Any], query: Query, status: int = 200) -> Result:
        return status, item("server", self._server_attrs(server, first(query, "include")))

    def _get_server(self, query: Query, body: Any, server_id: str) -> Result:
        server = self.servers.get(int(server_id))
        return self._server_reply(server, query) if server else self.not_found()

    def _server_by_external(self, query: Query, body: Any, ext: str) -> Result:
        server = next(
            (s for s in self.servers.values() if (s["external_id"] or "").lower() == ext.lower()), None
        )
        return self._server_reply(server, query) if server else self.not_found()

    def _invalid(self, field_name: str, detail: str) -> Result:
        return error_reply(422, "ValidationException", detail, source_field=field_name, rule="required")

    def _create_server(self, query: Query, body: dict[str, Any]) -> Result:  # noqa: C901 (the panel's validation)
        for key in ("name", "user", "egg", "docker_image", "startup", "limits", "feature_limits"):
            if body.get(key) in (None, ""):
                return self._invalid(key, f"The {key.replace('_', ' ')} field is required.")
        if not isinstance(body.get("environment"), dict):
            return self._invalid("environment", "The environment field must be present.")
        limits = body["limits"]
        for key in ("memory", "swap", "disk", "io", "cpu"):
            if not isinstance(limits.get(key), int):
                return self._invalid(f"limits.{key}", f"The limits.{key} field is required.")
        if body["user"] not in self.users:
            return self._invalid("user", "The selected user is invalid.")
        if body["egg"] not in EGGS:
            return self._invalid("egg", "The selected egg is invalid.")
        ext = body.get("external_id")
        if ext and any((s["external_id"] or "").lower() == str(ext).lower() for s in self.servers.values()):
            return self._invalid("external_id", "The external id has already been taken.")
        deploy = body.get("deploy")
        if deploy:
            nodes = self._viable(
                limits["memory"], limits["disk"], [int(x) for x in deploy.get("locations") or []]
            )
            if not nodes:
                return self.exhausted()
            node_ids = {n["id"] for n in nodes}
            free = [a for a in self.allocations.values() if a["node"] in node_ids and a["server_id"] is None]
            if not free:
                return error_reply(
                    400,
                    "NoViableAllocationException",
                    "No allocations satisfying the requirements for automatic deployment were found.",
                )
            alloc = self._random.choice(free)
        else:
            chosen = self.allocations.get(int((body.get("allocation") or {}).get("default") or 0))
            if chosen is None or chosen["server_id"] is not None:
                return self._invalid("allocation.default", "The selected allocation.default is invalid.")
            alloc = chosen
        egg = EGGS[body["egg"]]
        missing = [
            env
            for env, _, rules in egg["variables"]
            if "required" in rules and not body["environment"].get(env)
        ]
        if missing:
            return self._invalid(f"environment.{missing[0]}", f"The {missing[0]} variable field is required.")
        server_id = self._next("server")
        server_uuid = str(uuid.uuid4())
        alloc["server_id"] = server_id
        self.servers[server_id] = dict(
            id=server_id,
            external_id=ext,
            uuid=server_uuid,
            identifier=server_uuid[:8],
            name=body["name"],
            description=body.get("description") or "",
            status="installing",
            limits={k: limits.get(k) for k in ("memory", "swap", "disk", "io", "cpu", "threads")}
            | {"oom_disabled": True},
            feature_limits=dict(body["feature_limits"]),
            user=body["user"],
            node=alloc["node"],
            allocation=alloc["id"],
            nest=egg["nest"],
            egg=body["egg"],
            container=dict(
                startup_command=body["startup"],
                image=body["docker_image"],
                environment=dict(body["environment"]),
            ),
            installed_at=self.clock() + self.build_seconds,
            power="offline",
        )
        return self._server_reply(self.servers[server_id], query, 201)

    def _update_build(self, query: Query, body: dict[str, Any], server_id: str) -> Result:
        server = self.servers.get(int(server_id))
        if server is None:
            return self.not_found()
        alloc = self.allocations.get(int(body.get("allocation") or 0))
        if alloc is None or alloc["server_id"] != server["id"]:
            return error_reply(
                400,
                "DisplayException",
                "The requested default allocation is not currently assigned to this server.",
            )
        features = body.get("feature_limits")
        if not isinstance(features, dict) or "databases" not in features or "backups" not in features:
            return self._invalid("feature_limits", "The feature limits field is required.")
        limits = body.get("limits") or {}
        if any(not isinstance(limits.get(k), int) for k in ("memory", "swap", "disk", "io", "cpu")):
            return self._invalid("limits.memory", "The limits.memory field is required.")
        server["limits"].update({k: limits[k] for k in ("memory", "swap", "disk", "io", "cpu")})
        server["feature_limits"].update(features)
        return self._server_reply(server, query)

    def _update_startup(self, query: Query, body: dict[str, Any], server_id: str) -> Result:
        server = self.servers.get(int(server_id))
        if server is None:
            return self.not_found()
        for key in ("startup", "egg", "image"):
            if not body.get(key):
                return self._invalid(key, f"The {key} field is required.")
        if body["egg"] not in EGGS:
            return self._invalid("egg", "The selected egg is invalid.")
        environment = body.get("environment") or {}
        egg = EGGS[body["egg"]]
        missing = [
            env for env, _, rules in egg["variables"] if "required" in rules and not environment.get(env)
        ]
        if environment and missing:
            return self._invalid(f"environment.{missing[0]}", f"The {missing[0]} variable field is required.")
        server.update(egg=body["egg"], nest=egg["nest"])
        server["container"].update(
            startup_command=body["startup"], image=body["image"], environment=environment
        )
        return self._server_reply(server, query)

    def _suspend(self, query: Query, body: Any, server_id: str) -> Result:
        server = self.servers.get(int(server_id))
        if server is None:
            return self.not_found()
        if self._status(server) == "installing":
            server["suspend_after_install"] = True
        else:
            server["status"] = "suspended"
        server["power"] = "offline"
        return 204, None

    def _unsuspend(self, query: Query, body: Any, server_id: str) -> Result:
        server = self.servers.get(int(server_id))
        if server is None:
            return self.not_found()
        server.pop("suspend_after_install", None)
        if self._status(server) == "suspended":
            server["status"] = None
        return 204, None

    def _reinstall(self, query: Query, body: Any, server_id: str) -> Result:
        server = self.servers.get(int(server_id))
        if server is None:
            return self.not_found()
        if self._status(server) in ("installing", "suspended"):
            return error_reply(
                409, "ConflictHttpException", "This server is not in a state that allows this action."
            )
        server.update(status="installing", installed_at=self.clock() + self.build_seconds, power="offline")
        return 204, None

    def _delete(self, query: Query, body: Any, server_id: str, force: str | None = None) -> Result:
        server = self.servers.pop(int(server_id), None)
        if server is None:
            return self.not_found()
        for alloc in self.allocations.values():
            if alloc["server_id"] == server["id"]:
                alloc["server_id"] = None
        return 204, None

    # --- client API -------------------------------------------------------------------------

    def _by_identifier(self, identifier: str) -> dict[str, Any] | None:
        return next((s for s in self.servers.values() if s["identifier"] == identifier), None)

    def _state_conflict(self, server: dict[str, Any]) -> Result | None:
        if self._status(server) is None:
            return None
        return error_reply(
            409,
            "ServerStateConflictException",
            "This server is currently in an unsupported state, please try again later.",
        )

    def _server_page(self, query: Query, body: Any, identifier: str) -> Result:
        server = self._by_identifier(identifier)
        if server is None:
            return 404, "<html><body>Not found</body></html>"
        state = self._status(server) or server["power"]
        return 200, f"<html><body><h1>Pterodactyl</h1><p>{server['name']}: {state}</p></body></html>"

    def _power(self, query: Query, body: dict[str, Any], identifier: str) -> Result:
        server = self._by_identifier(identifier)
        if server is None:
            return error_reply(
                404, "NotFoundHttpException", "The requested resource does not exist on this server."
            )
        conflict = self._state_conflict(server)
        if conflict:
            return conflict
        signal = body.get("signal")
        if signal not in ("start", "stop", "restart", "kill"):
            return self._invalid("signal", "The selected signal is invalid.")
        server["power"] = "offline" if signal in ("stop", "kill") else "running"
        return 204, None

    def _resources(self, query: Query, body: Any, identifier: str) -> Result:
        server = self._by_identifier(identifier)
        if server is None:
            return error_reply(
                404, "NotFoundHttpException", "The requested resource does not exist on this server."
            )
        conflict = self._state_conflict(server)
        if conflict:
            return conflict
        running = server["power"] == "running"
        mib = 1024 * 1024
        resources = dict(
            memory_bytes=(server["limits"]["memory"] * mib // 3) if running else 0,
            cpu_absolute=12.5 if running else 0,
            disk_bytes=server["limits"]["disk"] * mib // 10,
            network_rx_bytes=123_456_789,
            network_tx_bytes=987_654_321,
            uptime=3_600_000 if running else 0,
        )
        attrs = dict(current_state=server["power"], is_suspended=False, resources=resources)
        return 200, {"object": "stats", "attributes": attrs}
