"""A loopback Pterodactyl Panel (1.11) speaking the application and client APIs, for the demo,
tests and benchmarks.

Same paths, shapes and errors as the panel (`{"object": ..., "attributes": ...}` items, paginated
lists, `{"errors": [{"code", "status", "detail"}]}`): users with unique e-mail, username and
`external_id`; nests and eggs with variables; nodes with finite memory and disk and a pool of
port allocations; servers with a unique `external_id`, placed by `deploy` with the panel's own
capacity formula (400 `NoViableNodeException` / `NoViableAllocationException`). Installs run
`installing` → null after `build_seconds` (or `install_failed` when `fail_installs` is set).
Client API: power signals and resources, 409 while installing or suspended.
Faults: see `ezscale.simulators.rest`; `exhausted` answers NoViableNode on any call.

Run alone: `python -m ezscale.simulators.pterodactyl --port 8394`.
"""

import argparse
import uuid
from dataclasses import dataclass, field
from typing import Any

from ezscale.simulators.pterodactyl_servers import (
    EGGS,
    NESTS,
    NOT_FOUND,
    ServerRoutes,
    error_reply,
    item,
    listing,
)
from ezscale.simulators.rest import Query, RestSimulator, Result, Route, first, route, run_forever


@dataclass
class PterodactylSimulator(ServerRoutes, RestSimulator):
    """The panel's state and behaviour; `serve()` (ezscale.simulators.rest) puts it on a port."""

    application_key: str = "ptla_demo"
    client_key: str = "ptlc_demo"
    fail_installs: bool = False
    include_allocations: bool = True  # False: a panel that ignores `include` on deployable nodes
    users: dict[int, dict[str, Any]] = field(default_factory=dict)
    nodes: dict[int, dict[str, Any]] = field(default_factory=dict)
    allocations: dict[int, dict[str, Any]] = field(default_factory=dict)
    servers: dict[int, dict[str, Any]] = field(default_factory=dict)
    _ids: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.nodes:
            self.add_node("de-fra-1", memory=16384, disk=204800, ports=range(25565, 25575))
            self.add_node("de-fra-2", memory=8192, disk=102400, ports=range(25565, 25570))

    def _next(self, kind: str) -> int:
        self._ids[kind] = self._ids.get(kind, 0) + 1
        return self._ids[kind]

    # --- test and demo controls -------------------------------------------------------------

    def add_node(
        self, name: str, *, memory: int, disk: int, ports: range, location_id: int = 1, public: bool = True
    ) -> int:
        """A node with `memory`/`disk` MiB and one allocation per port on its own IP."""
        with self._lock:
            node_id = self._next("node")
            self.nodes[node_id] = dict(
                id=node_id,
                uuid=str(uuid.uuid4()),
                public=public,
                name=name,
                location_id=location_id,
                fqdn=f"{name}.nodes.example.net",
                daemon_sftp=2022,
                memory=memory,
                memory_overallocate=0,
                disk=disk,
                disk_overallocate=0,
                maintenance_mode=False,
            )
            for port in ports:
                alloc_id = self._next("allocation")
                self.allocations[alloc_id] = dict(
                    id=alloc_id, node=node_id, ip=f"10.0.{node_id}.10", port=port, alias=None, server_id=None
                )
            return node_id

    def take_all_allocations(self) -> None:
        """Another buyer takes every free port (capacity gone between a check and a create)."""
        with self._lock:
            for alloc in self.allocations.values():
                if alloc["server_id"] is None:
                    alloc["server_id"] = -1

    # --- auth and errors ----------------------------------------------------------------------

    def authorised(self, path: str, query: Query, headers: dict[str, str]) -> Result | None:
        if path.startswith("/server/"):
            return None  # the panel's own web page (the real one asks the user to sign in)
        token = headers.get("authorization", "").removeprefix("Bearer ").strip()
        if path.startswith("/api/client"):
            if token == self.application_key:
                return error_reply(
                    403,
                    "AccessDeniedHttpException",
                    "You are attempting to use an application API key on an endpoint that requires"
                    " a client API key.",
                )
            ok = token == self.client_key
        else:
            ok = token == self.application_key
        return None if ok else error_reply(401, "AuthenticationException", "Unauthenticated.")

    def live_ids(self) -> list[str]:
        return [str(i) for i in self.servers]

    def exhausted(self) -> Result:
        return error_reply(
            400,
            "NoViableNodeException",
            "No nodes satisfying the requirements specified for automatic deployment could be found.",
        )

    def not_found(self) -> Result:
        return error_reply(404, "NotFoundHttpException", NOT_FOUND)

    def routes(self) -> list[Route]:
        app, client = "/api/application", "/api/client/servers/(?P<identifier>[0-9a-f]{8})"
        return [
            route("GET", f"{app}/nodes", "list_nodes", self._list_nodes),
            route("GET", f"{app}/nodes/deployable", "deployable_nodes", self._deployable),
            route("GET", rf"{app}/nodes/(?P<node_id>\d+)", "get_node", self._get_node),
            route(
                "GET",
                rf"{app}/nodes/(?P<node_id>\d+)/allocations",
                "node_allocations",
                self._node_allocations,
            ),
            route("GET", f"{app}/users", "list_users", self._list_users),
            route("GET", f"{app}/users/external/(?P<ext>[^/]+)", "user_by_external", self._user_by_external),
            route("POST", f"{app}/users", "create_user", self._create_user),
            route("PATCH", rf"{app}/users/(?P<user_id>\d+)", "update_user", self._update_user),
            route("GET", rf"{app}/nests/(?P<nest_id>\d+)/eggs", "list_eggs", self._list_eggs),
            route("GET", rf"{app}/nests/(?P<nest_id>\d+)/eggs/(?P<egg_id>\d+)", "get_egg", self._get_egg),
            route("GET", rf"{app}/servers/(?P<server_id>\d+)", "get_server", self._get_server),
            route(
                "GET",
                f"{app}/servers/external/(?P<ext>[^/]+)",
                "server_by_external",
                self._server_by_external,
            ),
            route("POST", f"{app}/servers", "create_server", self._create_server),
            route("PATCH", rf"{app}/servers/(?P<server_id>\d+)/build", "update_build", self._update_build),
            route(
                "PATCH", rf"{app}/servers/(?P<server_id>\d+)/startup", "update_startup", self._update_startup
            ),
            route("POST", rf"{app}/servers/(?P<server_id>\d+)/suspend", "suspend", self._suspend),
            route("POST", rf"{app}/servers/(?P<server_id>\d+)/unsuspend", "unsuspend", self._unsuspend),
            route("POST", rf"{app}/servers/(?P<server_id>\d+)/reinstall", "reinstall", self._reinstall),
            route(
                "DELETE",
                rf"{app}/servers/(?P<server_id>\d+)(?P<force>/force)?",
                "delete_server",
                self._delete,
            ),
            route("GET", "/server/(?P<identifier>[0-9a-f]{8})", "server_page", self._server_page),
            route("POST", f"{client}/power", "power", self._power),
            route("GET", f"{client}/resources", "resources", self._resources),
        ]

    # --- nodes ------------------------------------------------------------------------------

    def _used(self, node_id: int) -> tuple[int, int]:
        on_node = [s for s in self.servers.values() if s["node"] == node_id]
        return sum(s["limits"]["memory"] for s in on_node), sum(s["limits"]["disk"] for s in on_node)

    def _node_attrs(self, node: dict[str, Any]) -> dict[str, Any]:
        memory, disk = self._used(node["id"])
        return node | {
            "allocated_resources": {"memory": memory, "disk": disk},
            "sum_memory": memory,
            "sum_disk": disk,
        }

    def _viable(self, memory: int, disk: int, locations: list[int]) -> list[dict[str, Any]]:
        viable = []
        for node in self.nodes.values():
            if not node["public"] or (locations and node["location_id"] not in locations):
                continue
            used_memory, used_disk = self._used(node["id"])
            limit_memory = node["memory"] * (1 + node["memory_overallocate"] / 100)
            limit_disk = node["disk"] * (1 + node["disk_overallocate"] / 100)
            if used_memory + memory <= limit_memory and used_disk + disk <= limit_disk:
                viable.append(node)
        return viable

    def _list_nodes(self, query: Query, body: Any) -> Result:
        return 200, listing([item("node", self._node_attrs(n)) for n in self.nodes.values()])

    def _get_node(self, query: Query, body: Any, node_id: str) -> Result:
        node = self.nodes.get(int(node_id))
        return (200, item("node", self._node_attrs(node))) if node else self.not_found()

    def _deployable(self, query: Query, body: Any) -> Result:
        try:
            memory, disk = int(first(query, "memory")), int(first(query, "disk"))
            locations = [int(v) for v in query.get("location_ids[]", []) if v]
        except ValueError:
            return error_reply(
                422, "ValidationException", "The memory field must be an integer.", source_field="memory"
            )
        nodes = self._viable(memory, disk, locations)
        if not nodes:
            return self.exhausted()
        rows = [item("node", self._node_attrs(n)) for n in nodes]
        if "allocations" in first(query, "include") and self.include_allocations:
            by_node: dict[int, list[dict[str, Any]]] = {}
            for alloc in self.allocations.values():
                by_node.setdefault(alloc["node"], []).append(item("allocation", self._allocation(alloc)))
            for row in rows:
                attrs = row["attributes"]
                attrs["relationships"] = {"allocations": listing(by_node.get(attrs["id"], []))}
        return 200, listing(rows)

    def _node_allocations(self, query: Query, body: Any, node_id: str) -> Result:
        if int(node_id) not in self.nodes:
            return self.not_found()
        only_free = (
            first(query, "filter[server_id]") not in ("",) and not first(query, "filter[server_id]").isdigit()
        )
        rows = [
            a
            for a in self.allocations.values()
            if a["node"] == int(node_id) and (not only_free or a["server_id"] is None)
        ]
        return 200, listing([item("allocation", self._allocation(a)) for a in rows])

    def _allocation(self, alloc: dict[str, Any]) -> dict[str, Any]:
        return dict(
            id=alloc["id"],
            ip=alloc["ip"],
            alias=alloc["alias"],
            port=alloc["port"],
            notes=None,
            assigned=alloc["server_id"] is not None,
        )

    # --- users ------------------------------------------------------------------------------

    def _list_users(self, query: Query, body: Any) -> Result:
        rows = list(self.users.values())
        for key in ("email", "username", "external_id", "uuid"):
            wanted = first(query, f"filter[{key}]")
            if wanted:  # partial (LIKE) match, as the panel does
                rows = [u for u in rows if wanted.lower() in str(u.get(key) or "").lower()]
        return 200, listing([item("user", u) for u in rows])

    def _user_by_external(self, query: Query, body: Any, ext: str) -> Result:
        user = next((u for u in self.users.values() if (u["external_id"] or "").lower() == ext.lower()), None)
        return (200, item("user", user)) if user else self.not_found()

    def _validate_user(self, body: dict[str, Any], user_id: int | None) -> Result | None:
        errors = []
        for key in ("email", "username", "first_name", "last_name"):
            if not body.get(key):
                errors.append((key, f"The {key.replace('_', ' ')} field is required."))
        others = [u for u in self.users.values() if u["id"] != user_id]
        if any(u["email"].lower() == str(body.get("email", "")).lower() for u in others):
            errors.append(("email", "The email has already been taken."))
        if any(u["username"] == str(body.get("username", "")).lower() for u in others):
            errors.append(("username", "The username has already been taken."))
        ext = body.get("external_id")
        if ext is not None and not isinstance(ext, str):
            errors.append(("external_id", "The external id must be a string."))
        elif ext and any((u["external_id"] or "").lower() == ext.lower() for u in others):
            errors.append(("external_id", "The Third Party Identifier has already been taken."))
        if not errors:
            return None
        entries = [
            {
                "code": "ValidationException",
                "status": "422",
                "detail": d,
                "meta": {"source_field": f, "rule": "x"},
            }
            for f, d in errors
        ]
        return 422, {"errors": entries}

    def _create_user(self, query: Query, body: dict[str, Any]) -> Result:
        refused = self._validate_user(body, None)
        if refused:
            return refused
        user_id = self._next("user")
        self.users[user_id] = dict(
            id=user_id,
            external_id=body.get("external_id"),
            uuid=str(uuid.uuid4()),
            username=str(body["username"]).lower(),
            email=body["email"],
            first_name=body["first_name"],
            last_name=body["last_name"],
            language="en",
            root_admin=False,
            **{"2fa": False},
        )
        return 201, item("user", self.users[user_id])

    def _update_user(self, query: Query, body: dict[str, Any], user_id: str) -> Result:
        user = self.users.get(int(user_id))
        if user is None:
            return self.not_found()
        refused = self._validate_user(body, user["id"])
        if refused:
            return refused
        user.update({k: body.get(k) for k in ("email", "first_name", "last_name", "external_id")})
        user["username"] = str(body["username"]).lower()
        return 200, item("user", user)

    # --- eggs -------------------------------------------------------------------------------

    def _egg_attrs(self, egg_id: int, variables: bool) -> dict[str, Any]:
        egg = EGGS[egg_id]
        images = egg["docker_images"]
        attrs: dict[str, Any] = dict(
            id=egg_id,
            uuid=str(uuid.uuid5(uuid.NAMESPACE_URL, f"egg{egg_id}")),
            name=egg["name"],
            nest=egg["nest"],
            docker_image=next(iter(images.values())),
            docker_images=images,
            startup=egg["startup"],
        )
        if variables:
            rows = [
                item(
                    "egg_variable",
                    dict(
                        name=env.title(),
                        env_variable=env,
                        default_value=default,
                        rules=rules,
                        user_viewable=True,
                        user_editable=True,
                    ),
                )
                for env, default, rules in egg["variables"]
            ]
            attrs["relationships"] = {"variables": {"object": "list", "data": rows}}
        return attrs

    def _list_eggs(self, query: Query, body: Any, nest_id: str) -> Result:
        if int(nest_id) not in NESTS:
            return self.not_found()
        eggs = [item("egg", self._egg_attrs(i, False)) for i, e in EGGS.items() if e["nest"] == int(nest_id)]
        return 200, {"object": "list", "data": eggs}

    def _get_egg(self, query: Query, body: Any, nest_id: str, egg_id: str) -> Result:
        egg = EGGS.get(int(egg_id))
        if egg is None or egg["nest"] != int(nest_id):
            return self.not_found()
        return 200, item("egg", self._egg_attrs(int(egg_id), "variables" in first(query, "include")))


def main() -> None:
    """Serve the simulator on a loopback port until killed."""
    parser = argparse.ArgumentParser(description="Pterodactyl Panel API simulator")
    parser.add_argument("--port", type=int, default=8394)
    parser.add_argument("--build-seconds", type=float, default=3.0)
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument(
        "--fault-rate", type=float, default=0.0, help="Share of calls given a 500 or a timeout."
    )
    parser.add_argument("--hang-seconds", type=float, default=5.0, help="How long a timeout fault hangs.")
    parser.add_argument("--application-key", default="ptla_demo")
    parser.add_argument("--client-key", default="ptlc_demo")
    parser.add_argument("--extra-nodes", type=int, default=0, help="More 64 GiB nodes with 100 ports each.")
    args = parser.parse_args()
    sim = PterodactylSimulator(
        build_seconds=args.build_seconds,
        latency=args.latency,
        fault_rate=args.fault_rate,
        hang_seconds=args.hang_seconds,
        application_key=args.application_key,
        client_key=args.client_key,
    )
    for n in range(args.extra_nodes):
        sim.add_node(f"de-fra-{n + 3}", memory=65536, disk=1048576, ports=range(25565, 25665))
    run_forever(sim, port=args.port, label="Pterodactyl")


if __name__ == "__main__":
    main()
