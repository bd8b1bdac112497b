"""A loopback SynergyCP (bare-metal automation) API, for the demo, tests and benchmarks.

`?key=` auth on every call, the `{"error", "messages", "data"}` envelope and Laravel paginator
lists. State: an inventory of dedicated servers with parts (CPU, memory, disks billing ids),
IP entities (blocks with a billing id, free or on a server), clients keyed by `billing_id`,
client API keys, the primary access of a provisioned server (suspend = `is_active: false`),
queued OS installs that finish after `build_seconds`, IPMI controls and switch ports. VIP
clients' servers ignore billing-driven (`auto: true`) suspend and wipe (`data.ignored`).
The error statuses are not documented; this simulator answers 401 (key), 404, 422
(validation) and, for the VIP case, HTTP 200 with `error: true`.
Faults: see `ezscale.simulators.rest`; `exhausted` answers "server not available" on provision.

Run alone: `python -m ezscale.simulators.synergycp --port 8396`.
"""

import argparse
import itertools
import secrets
from dataclasses import dataclass, field
from typing import Any

from ezscale.simulators.rest import Query, RestSimulator, Result, Route, first, route, run_forever

INVENTORY = (
    ("e-2388g", "64gb", ("nvme-1tb", "nvme-1tb"), 3),
    ("epyc-7302", "128gb", ("nvme-2tb", "nvme-2tb"), 2),
)
TB_BITS = 8 * 10**12


def _ok(data: Any, text: str = "") -> Result:
    messages = [{"type": "success", "text": text}] if text else []
    return 200, {"error": False, "messages": messages, "data": data}


def _fail(status: int, text: str, data: Any = None) -> Result:
    return status, {"error": True, "messages": [{"type": "danger", "text": text}], "data": data}


def _page(rows: list[dict[str, Any]], query: Query) -> Result:
    per_page = int(first(query, "per_page", "15") or 15)
    page = int(first(query, "page", "1") or 1)
    chunk = rows[(page - 1) * per_page : page * per_page]
    last = max(1, -(-len(rows) // per_page))
    return _ok(dict(data=chunk, current_page=page, last_page=last, per_page=per_page, total=len(rows)))


def _bits(limit: str) -> int:
    number = "".join(c for c in limit if c.isdigit() or c == ".")
    return int(float(number or 0) * TB_BITS) if limit.upper().endswith("TB") else 0


@dataclass
class SynergyCPSimulator(RestSimulator):
    """The panel's state and behaviour; `serve()` (ezscale.simulators.rest) puts it on a port."""

    api_key: str = "scp-demo-key"
    fail_installs: bool = False
    clients: dict[int, dict[str, Any]] = field(default_factory=dict)
    keys: dict[str, int] = field(default_factory=dict)
    servers: dict[int, dict[str, Any]] = field(default_factory=dict)
    entities: dict[int, dict[str, Any]] = field(default_factory=dict)
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.servers:
            for cpu, mem, disks, count in INVENTORY:
                for _ in range(count):
                    self.add_server(cpu=cpu, mem=mem, disks=disks)
            for n in range(4):
                self.add_ip_block(f"203.0.113.{8 * n}", ips_billing="ipv4-29", location="fra")

    # --- test and demo controls -------------------------------------------------------------

    def add_server(self, *, cpu: str, mem: str, disks: tuple[str, ...]) -> int:
        """An inventory server with these parts (billing ids)."""
        with self._lock:
            server_id = next(self._ids)
            self.servers[server_id] = dict(
                id=server_id,
                srv_id=f"SRV{server_id:04d}",
                nickname="",
                wiped=False,
                parts=dict(cpu_billing=cpu, mem_billing=mem, disks_billing=list(disks), addons_billing=[]),
                billing=dict(id=None, max_bandwidth="", date=None, integration=None),
                access=None,
                usage=dict(used=0, max=0),
                power="off",
                control=dict(id=next(self._ids)),
                port=dict(id=next(self._ids), name=f"Gi1/0/{server_id}", power="off"),
                installs=[],
            )
            return server_id

    def add_ip_block(self, network: str, *, ips_billing: str, location: str) -> int:
        """A free /29 IP entity."""
        with self._lock:
            entity_id = next(self._ids)
            base = network.rsplit(".", 1)
            gateway = f"{base[0]}.{int(base[1]) + 1}"
            self.entities[entity_id] = dict(
                id=entity_id,
                name=f"{network}/29",
                address=network,
                full_ip=f"{network}/29",
                gateway=gateway,
                subnet_mask="255.255.255.248",
                v6_address=None,
                v6_gateway=None,
                billing_id=ips_billing,
                group=dict(billing=location),
                server=None,
            )
            return entity_id

    def take_inventory(self) -> None:
        """Sell every available server elsewhere (stock gone between a check and a create)."""
        with self._lock:
            for server in self.servers.values():
                if server["access"] is None:
                    server["access"] = dict(id=next(self._ids), is_active=True, client=dict(id=0))

    # --- auth and errors ----------------------------------------------------------------------

    def authorised(self, path: str, query: Query, headers: dict[str, str]) -> Result | None:
        key = first(query, "key")
        if key == self.api_key:
            return None
        owner = self.keys.get(key)
        if owner is not None and (path.startswith("/auth/sso") or "/control" in path):
            return None
        return _fail(401, "Unauthorized: invalid or expired API key.")

    def live_ids(self) -> list[str]:
        """The servers billed to a client (an unassigned one is stock, not a service)."""
        return [str(i) for i, srv in self.servers.items() if srv["billing"]["id"] is not None]

    def exhausted(self) -> Result:
        self.take_inventory()  # another order took the last matching servers first
        return _fail(422, "That server is no longer available for provisioning.")

    def not_found(self) -> Result:
        return _fail(404, "Not found.")

    def routes(self) -> list[Route]:
        server = r"/server/(?P<server_id>\d+)"
        return [
            route("GET", "/client", "list_clients", self._list_clients),
            route("POST", "/client", "create_client", self._create_client),
            route("PATCH", r"/client/(?P<client_id>\d+)", "update_client", self._update_client),
            route("POST", "/key", "create_key", self._create_key),
            route("GET", "/auth/sso", "sso", self._sso),
            route("GET", "/server", "list_servers", self._list_servers),
            route("POST", "/server/provision", "provision", self._provision),
            route("GET", server, "get_server", self._get_server),
            route("PATCH", server, "update_server", self._update_server),
            route("GET", f"{server}/access", "list_access", self._list_access),
            route("PATCH", rf"{server}/access/(?P<access_id>\d+)", "update_access", self._update_access),
            route("GET", f"{server}/install", "list_installs", self._list_installs),
            route("POST", f"{server}/install", "install", self._install),
            route("GET", f"{server}/control", "list_controls", self._list_controls),
            route("POST", rf"{server}/control/(?P<control_id>\d+)/command", "control_command", self._command),
            route("GET", "/entity", "list_entities", self._list_entities),
        ]

    # --- clients and keys -------------------------------------------------------------------

    def _list_clients(self, query: Query, body: Any) -> Result:
        rows = list(self.clients.values())
        if first(query, "billing_id"):
            rows = [c for c in rows if str(c["billing_id"]) == first(query, "billing_id")]
        if first(query, "email"):
            rows = [c for c in rows if c["email"].lower() == first(query, "email").lower()]
        return _page(rows, query)

    def _create_client(self, query: Query, body: dict[str, Any]) -> Result:
        if not body.get("email") or not body.get("first"):
            return _fail(422, "The email and first name fields are required.")
        if any(c["email"].lower() == str(body["email"]).lower() for c in self.clients.values()):
            return _fail(422, "The email has already been taken.")
        client_id = next(self._ids)
        self.clients[client_id] = dict(
            id=client_id,
            name=f"{body['first']} {body.get('last', '')}".strip(),
            email=body["email"],
            first=body["first"],
            last=body.get("last", ""),
            billing_id=body.get("billing_id"),
            vip=False,
        )
        return _ok(self.clients[client_id])

    def _update_client(self, query: Query, body: dict[str, Any], client_id: str) -> Result:
        client = self.clients.get(int(client_id))
        if client is None:
            return self.not_found()
        client.update({k: v for k, v in body.items() if k in ("billing_id", "email", "first", "last", "vip")})
        return _ok(client)

    def _create_key(self, query: Query, body: dict[str, Any]) -> Result:
        if body.get("owner_type") != "client" or int(body.get("owner_id") or 0) not in self.clients:
            return _fail(422, "The owner is invalid.")
        key = secrets.token_hex(16)
        self.keys[key] = int(body["owner_id"])
        return _ok(dict(key=key, owner=dict(type="client", id=int(body["owner_id"]))))

    def _sso(self, query: Query, body: Any) -> Result:
        client = self.clients.get(self.keys.get(first(query, "key"), -1))
        if client is None:
            return _fail(401, "Unauthorized.")
        view = f" at server {first(query, 'view_id')}" if first(query, "view_type") == "server" else ""
        return (
            200,
            f"<html><body><h1>SynergyCP</h1><p>Signed in as {client['email']}{view}.</p></body></html>",
        )

    # --- servers ----------------------------------------------------------------------------

    def _install_state(self, server: dict[str, Any]) -> None:
        for install in server["installs"]:
            if install["status"] in ("queued", "running") and self.clock() >= install["done_at"]:
                install["status"] = "failed" if self.fail_installs else "complete"
            elif (
                install["status"] == "queued" and self.clock() >= install["done_at"] - self.build_seconds / 2
            ):
                install["status"] = "running"

    def _server_view(self, server: dict[str, Any]) -> dict[str, Any]:
        self._install_state(server)
        hidden = ("installs", "power", "control", "port", "wiped")
        view = {k: v for k, v in server.items() if k not in hidden}
        view["switch"] = dict(name="sw1.fra", port=dict(server["port"]))
        return view

    def _available(self, server: dict[str, Any]) -> bool:
        return server["access"] is None and server["billing"]["id"] is None

    def _matches(self, server: dict[str, Any], query: Query) -> bool:
        parts = server["parts"]
        for key in ("cpu_billing", "mem_billing"):
            if first(query, key) and parts[key] != first(query, key):
                return False
        disks = query.get("disks_billing[]", [])
        if not disks:
            return True
        if first(query, "parts[exact]") in ("true", "1"):
            return sorted(disks) == sorted(parts["disks_billing"])
        return set(disks) <= set(parts["disks_billing"])

    def _list_servers(self, query: Query, body: Any) -> Result:
        rows = list(self.servers.values())
        if first(query, "billing_id"):
            rows = [s for s in rows if str(s["billing"]["id"]) == first(query, "billing_id")]
        if first(query, "available") in ("true", "1"):
            rows = [s for s in rows if self._available(s)]
        rows = [s for s in rows if self._matches(s, query)]
        return _page([self._server_view(s) for s in rows], query)

    def _get_server(self, query: Query, body: Any, server_id: str) -> Result:
        server = self.servers.get(int(server_id))
        return _ok(self._server_view(server)) if server else self.not_found()

    def _free_entity(self, ips_billing: str, location: str) -> dict[str, Any] | None:
        return next(
            (
                e
                for e in self.entities.values()
                if e["server"] is None
                and e["billing_id"] == ips_billing
                and (not location or e["group"]["billing"] in location.split(","))
            ),
            None,
        )

    def _provision(self, query: Query, body: dict[str, Any]) -> Result:
        server = self.servers.get(int(body.get("server_id") or 0))
        client = self.clients.get(int(body.get("client_id") or 0))
        billing = body.get("billing")
        if not isinstance(billing, dict):
            billing = {}
        if server is None or client is None or not billing.get("id"):
            return _fail(422, "server_id, client_id and billing.id are required.")
        if not str(billing["id"]).isdigit():
            return _fail(422, "The billing id must be numeric.")
        if any(str(s["billing"]["id"]) == str(billing["id"]) for s in self.servers.values()):
            return _fail(422, "That billing id is already in use by another server.")
        if not self._available(server):  # a concurrent order took it: only this server is gone
            return _fail(422, "That server is no longer available for provisioning.")
        entity = self._free_entity(
            str(body.get("ips_billing") or ""), str(body.get("ip_group_billing") or "")
        )
        if entity is None:
            return _fail(422, "No IP allocation is available for that IP block.")
        if not body.get("pxe_profile_billing"):
            return _fail(422, "The OS profile is required.")
        entity["server"] = server["id"]
        server["access"] = dict(
            id=next(self._ids), is_active=True, client=dict(id=client["id"]), pxe=True, ipmi=True, switch=True
        )
        server["billing"] = dict(
            id=int(billing["id"]), max_bandwidth=billing.get("max_bandwidth") or "", date=None, integration=1
        )
        server["usage"] = dict(used=0, max=_bits(str(billing.get("max_bandwidth") or "")))
        server["nickname"] = str(body.get("nickname") or "")
        server["port"]["power"] = "on"
        self._queue_install(server, str(body["pxe_profile_billing"]))
        return _ok(dict(server=self._server_view(server)))

    def _queue_install(self, server: dict[str, Any], profile: str) -> dict[str, Any]:
        install = dict(
            id=next(self._ids), profile=profile, status="queued", done_at=self.clock() + self.build_seconds
        )
        server["installs"].append(install)
        server["power"] = "on"
        return install

    def _ignored(self, server: dict[str, Any], body: dict[str, Any]) -> Result | None:
        client = self.clients.get(((server["access"] or {}).get("client") or {}).get("id", -1))
        if client and client["vip"] and body.get("auto") in (True, "1", 1, "true"):
            return _fail(200, "Ignored: the client is a VIP; staff must act.", {"ignored": True})
        return None

    def _update_server(self, query: Query, body: dict[str, Any], server_id: str) -> Result:
        server = self.servers.get(int(server_id))
        if server is None:
            return self.not_found()
        if body.get("wiped") in (True, "1", 1, "true"):
            ignored = self._ignored(server, body)
            if ignored:
                return ignored
            for entity in self.entities.values():
                if entity["server"] == server["id"]:
                    entity["server"] = None
            server.update(access=None, nickname="", power="off", installs=[], usage=dict(used=0, max=0))
            server["billing"] = dict(id=None, max_bandwidth="", date=None, integration=None)
            server["port"]["power"] = "off"
            return _ok(self._server_view(server))
        if isinstance(body.get("billing"), dict) and "max_bandwidth" in body["billing"]:
            server["billing"]["max_bandwidth"] = str(body["billing"]["max_bandwidth"])
            server["usage"]["max"] = _bits(server["billing"]["max_bandwidth"])
        if "nickname" in body:
            server["nickname"] = str(body["nickname"])
        return _ok(self._server_view(server))

    def _list_access(self, query: Query, body: Any, server_id: str) -> Result:
        server = self.servers.get(int(server_id))
        if server is None:
            return self.not_found()
        return _page([server["access"]] if server["access"] else [], query)

    def _update_access(self, query: Query, body: dict[str, Any], server_id: str, access_id: str) -> Result:
        server = self.servers.get(int(server_id))
        if server is None or not server["access"] or server["access"]["id"] != int(access_id):
            return self.not_found()
        ignored = self._ignored(server, body)
        if ignored:
            return ignored
        if "is_active" in body:
            active = body["is_active"] in (True, "1", 1, "true")
            if not active and not body.get("suspension_reason"):
                return _fail(422, "The suspension reason field is required.")
            server["access"]["is_active"] = active
            server["port"]["power"] = "on" if active else "off"
        return _ok(server["access"])

    def _list_installs(self, query: Query, body: Any, server_id: str) -> Result:
        server = self.servers.get(int(server_id))
        if server is None:
            return self.not_found()
        self._install_state(server)
        rows = [{k: v for k, v in i.items() if k != "done_at"} for i in server["installs"]]
        return _page(rows, query)

    def _install(self, query: Query, body: dict[str, Any], server_id: str) -> Result:
        server = self.servers.get(int(server_id))
        if server is None or server["access"] is None:
            return self.not_found()
        profile = body.get("pxe_profile_billing") or body.get("pxe_profile_id")
        if not profile:
            return _fail(422, "The OS profile is required.")
        install = self._queue_install(server, str(profile))
        return _ok({k: v for k, v in install.items() if k != "done_at"})

    def _list_controls(self, query: Query, body: Any, server_id: str) -> Result:
        server = self.servers.get(int(server_id))
        if server is None or server["access"] is None:
            return self.not_found()
        return _page([dict(server["control"], type="ipmi")], query)

    def _command(self, query: Query, body: dict[str, Any], server_id: str, control_id: str) -> Result:
        server = self.servers.get(int(server_id))
        if server is None or server["control"]["id"] != int(control_id):
            return self.not_found()
        if server["access"] is None or not server["access"]["is_active"]:
            return _fail(403, "This server's controls are disabled.")
        power = body.get("power")
        if power not in ("on", "off", "reset", "soft"):
            return _fail(422, "The power field is invalid.")
        server["power"] = "off" if power in ("off", "soft") else "on"
        return _ok(dict(queued=True))

    def _list_entities(self, query: Query, body: Any) -> Result:
        rows = list(self.entities.values())
        wanted = first(query, "server")
        if wanted == "none":
            rows = [e for e in rows if e["server"] is None]
        elif wanted:
            rows = [e for e in rows if str(e["server"]) == wanted]
        if first(query, "billing_id"):
            rows = [e for e in rows if e["billing_id"] == first(query, "billing_id")]
        groups = query.get("group[billing][]", [])
        if groups:
            rows = [e for e in rows if e["group"]["billing"] in groups]
        return _page(rows, query)


def main() -> None:
    """Serve the simulator on a loopback port until killed."""
    parser = argparse.ArgumentParser(description="SynergyCP API simulator")
    parser.add_argument("--port", type=int, default=8396)
    parser.add_argument("--build-seconds", type=float, default=5.0)
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument(
        "--fault-rate", type=float, default=0.0, help="Share of calls given a 500 or a timeout."
    )
    parser.add_argument("--hang-seconds", type=float, default=5.0, help="How long a timeout fault hangs.")
    parser.add_argument("--api-key", default="scp-demo-key")
    parser.add_argument("--extra-stock", type=int, default=0, help="More servers of each kind and IP blocks.")
    args = parser.parse_args()
    sim = SynergyCPSimulator(
        build_seconds=args.build_seconds,
        latency=args.latency,
        fault_rate=args.fault_rate,
        hang_seconds=args.hang_seconds,
        api_key=args.api_key,
    )
    for n in range(args.extra_stock):
        for cpu, mem, disks, _ in INVENTORY:
            sim.add_server(cpu=cpu, mem=mem, disks=disks)
        sim.add_ip_block(f"198.18.{n // 32}.{8 * (n % 32)}", ips_billing="ipv4-29", location="fra")
    run_forever(sim, port=args.port, label="SynergyCP")


if __name__ == "__main__":
    main()
