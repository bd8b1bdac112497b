"""A thin httpx client of the Pterodactyl Panel (1.x) application and client APIs.

Application calls (`/api/application`) use the `ptla_` key; power and resources use the client
API (`/api/client`) with an account key (`ptlc_`) of a root admin. Replies are Fractal items
(`{"object", "attributes"}`) and lists (`{"data": [...]}`); errors are
`{"errors": [{"code", "status", "detail"}]}`. Lookups that find nothing return None; every
other failure is one of the module contract's errors.
"""

from dataclasses import dataclass, field
from typing import Any

from ezscale.services.provisioning.module import (
    GoneFromPanel,
    OutOfStock,
    PanelBusy,
    PanelRejected,
    PanelUnavailable,
)
from ezscale.services.provisioning.panel_http import (
    DEFAULT_BACKOFF,
    CreatesOnce,
    PanelHttp,
    PanelRefused,
    Reply,
    as_int,
    dig,
    is_json,
    json_object,
)

PRODUCT = "Pterodactyl"
NO_CAPACITY = ("NoViableNodeException", "NoViableAllocationException")


@dataclass(frozen=True, slots=True)
class PteroUser:
    """A panel user."""

    id: int
    external_id: str | None
    username: str
    email: str
    first_name: str
    last_name: str


@dataclass(frozen=True, slots=True)
class PteroNode:
    """A node that can take a server of the asked size."""

    id: int
    name: str
    location_id: int
    memory: int
    disk: int
    memory_overallocate: int
    disk_overallocate: int
    allocated_memory: int
    allocated_disk: int
    fqdn: str = ""
    sftp_port: int = 2022  # Wings' `daemon_sftp` (its default when the panel omits it)
    free_allocations: int | None = None  # unassigned ports, when the reply included them

    def fits(self, *, memory: int, disk: int) -> int:
        """How many servers of `memory`/`disk` MiB the panel's formula still lets onto this node."""
        counts = []
        for size, over, used, each in (
            (self.memory, self.memory_overallocate, self.allocated_memory, memory),
            (self.disk, self.disk_overallocate, self.allocated_disk, disk),
        ):
            if each > 0:
                counts.append(max(0, int((size * (1 + over / 100) - used) // each)))
        return min(counts) if counts else 1_000_000


@dataclass(frozen=True, slots=True)
class PteroEgg:
    """An egg: its image, startup command and variable defaults (the server's environment)."""

    id: int
    nest: int
    name: str
    docker_image: str
    startup: str
    environment: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PteroServer:
    """A server as the application API describes it (`status` None = installed and idle)."""

    id: int
    external_id: str | None
    uuid: str
    identifier: str
    name: str
    status: str | None
    user: int
    node: int
    allocation: int
    nest: int
    egg: int
    limits: dict[str, Any]
    feature_limits: dict[str, Any]
    image: str
    startup: str
    environment: dict[str, Any]
    addresses: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PteroResources:
    """Live figures from the client API's `/resources`."""

    state: str
    memory_bytes: int
    cpu_percent: float
    disk_bytes: int
    rx_bytes: int
    tx_bytes: int


def _error_text(body: Any, text: str) -> tuple[str, str]:  # noqa: ANN401 (a parsed body)
    """The first `errors[]` entry's code and detail, or the raw text (HTML when Accept was lost)."""
    if is_json(body) and isinstance(body, dict) and isinstance(body.get("errors"), list) and body["errors"]:
        entry = body["errors"][0] if isinstance(body["errors"][0], dict) else {}
        return str(entry.get("code") or ""), "; ".join(
            str(e.get("detail")) for e in body["errors"] if isinstance(e, dict) and e.get("detail")
        )
    return "", text.strip()[:200] if not text.lstrip().startswith("<") else ""


def _attrs(data: Any, kind: str) -> dict[str, Any]:  # noqa: ANN401 (a JSON value)
    attributes = dig(data, "attributes", product=PRODUCT)
    if not isinstance(attributes, dict):
        raise PanelUnavailable(f"{PRODUCT} sent a {kind} we could not read.")
    return attributes


def _items(reply: Reply) -> list[dict[str, Any]]:
    rows = dig(json_object(reply, product=PRODUCT), "data", product=PRODUCT)
    if not isinstance(rows, list):
        raise PanelUnavailable(f"{PRODUCT} sent a reply we could not read (data is not a list).")
    return [_attrs(row, "list item") for row in rows]


def _user(a: dict[str, Any]) -> PteroUser:
    return PteroUser(
        id=as_int(a.get("id"), product=PRODUCT, field="user.id"),
        external_id=None if a.get("external_id") is None else str(a["external_id"]),
        username=str(a.get("username") or ""),
        email=str(a.get("email") or ""),
        first_name=str(a.get("first_name") or ""),
        last_name=str(a.get("last_name") or ""),
    )


def _node(a: dict[str, Any]) -> PteroNode:
    allocated = a.get("allocated_resources")
    if not isinstance(allocated, dict):
        allocated = {}

    def number(value: Any, key: str) -> int:  # noqa: ANN401 (a JSON value)
        return as_int(value or 0, product=PRODUCT, field=f"node.{key}")

    return PteroNode(
        id=as_int(a.get("id"), product=PRODUCT, field="node.id"),
        name=str(a.get("name") or ""),
        location_id=number(a.get("location_id"), "location_id"),
        memory=number(a.get("memory"), "memory"),
        disk=number(a.get("disk"), "disk"),
        memory_overallocate=number(a.get("memory_overallocate"), "memory_overallocate"),
        disk_overallocate=number(a.get("disk_overallocate"), "disk_overallocate"),
        allocated_memory=number(allocated.get("memory", a.get("sum_memory")), "allocated_resources.memory"),
        allocated_disk=number(allocated.get("disk", a.get("sum_disk")), "allocated_resources.disk"),
        fqdn=str(a.get("fqdn") or ""),
        sftp_port=number(a.get("daemon_sftp") or 2022, "daemon_sftp"),
        free_allocations=_free_included(a),
    )


def _free_included(a: dict[str, Any]) -> int | None:
    """Unassigned ports among a node's included allocations; None when they were not included."""
    relationships = a.get("relationships")
    included = relationships.get("allocations") if isinstance(relationships, dict) else None
    rows = included.get("data") if isinstance(included, dict) else None
    if not isinstance(rows, list):
        return None
    return sum(1 for row in rows if not _attrs(row, "allocation").get("assigned"))


def _server(a: dict[str, Any]) -> PteroServer:
    container = a.get("container")
    if not isinstance(container, dict):
        container = {}
    allocations = (((a.get("relationships") or {}).get("allocations") or {}).get("data")) or []
    addresses = tuple(
        f"{(row.get('attributes') or {}).get('alias') or (row.get('attributes') or {}).get('ip')}"
        f":{(row.get('attributes') or {}).get('port')}"
        for row in allocations
        if isinstance(row, dict)
    )

    def number(key: str) -> int:
        return as_int(a.get(key), product=PRODUCT, field=f"server.{key}")

    identifier = a.get("identifier")
    if not isinstance(identifier, str) or not identifier:
        raise PanelUnavailable(f"{PRODUCT} sent a reply we could not read (no server identifier).")
    return PteroServer(
        id=number("id"),
        external_id=None if a.get("external_id") is None else str(a["external_id"]),
        uuid=str(a.get("uuid") or ""),
        identifier=identifier,
        name=str(a.get("name") or ""),
        status=None if a.get("status") is None else str(a["status"]),
        user=number("user"),
        node=number("node"),
        allocation=number("allocation"),
        nest=number("nest"),
        egg=number("egg"),
        limits=dict(a.get("limits") or {}),
        feature_limits=dict(a.get("feature_limits") or {}),
        image=str(container.get("image") or ""),
        startup=str(container.get("startup_command") or ""),
        environment=dict(container.get("environment") or {}),
        addresses=addresses,
    )


class PterodactylClient(CreatesOnce):
    """One panel. Use as a context manager, or call `close()`."""

    def __init__(
        self,
        *,
        base_url: str,
        application_key: str,
        client_key: str = "",
        timeout: float = 30.0,
        create_timeout: float = 120.0,
        retries: int = 2,
        backoff: float = DEFAULT_BACKOFF,
    ) -> None:
        """`base_url` is the panel's root (the API lives under /api)."""
        self.panel_url = base_url.rstrip("/")
        options: dict[str, Any] = dict(
            product=PRODUCT,
            timeout=timeout,
            create_timeout=create_timeout,
            retries=retries,
            backoff=backoff,
            error_text=_error_text,
            headers={"Content-Type": "application/json"},
        )
        self._app = PanelHttp(
            base_url=f"{self.panel_url}/api/application",
            **options | {"headers": options["headers"] | {"Authorization": f"Bearer {application_key}"}},
        )
        self._http = self._app  # where the creates go (`CreatesOnce`)
        self._client_key = client_key
        self._client = PanelHttp(
            base_url=f"{self.panel_url}/api/client",
            **options | {"headers": options["headers"] | {"Authorization": f"Bearer {client_key}"}},
        )

    def __enter__(self) -> "PterodactylClient":
        """Use as a context manager so the HTTP connections are closed."""
        return self

    def __exit__(self, *exc: object) -> None:
        """Close the HTTP connections when the block ends."""
        self.close()

    def close(self) -> None:
        """Close the HTTP connections."""
        self._app.close()
        self._client.close()

    def _get_or_none(self, path: str, params: dict[str, Any] | None = None) -> Reply | None:
        try:
            return self._app.request("GET", path, params=params, safe=True)
        except PanelRefused as error:
            if error.status == 404:
                return None
            raise

    def _server_call(self, method: str, path: str, body: Any = None, *, safe: bool = True) -> Reply:  # noqa: ANN401
        """A call on one server: 404 → GoneFromPanel, 409 → PanelBusy."""
        try:
            return self._app.request(method, path, body=body, safe=safe)
        except PanelRefused as error:
            if error.status == 404:
                raise GoneFromPanel(f"The server is no longer on {PRODUCT}.") from error
            if error.status == 409:
                raise PanelBusy(f"{PRODUCT} is busy with the server; try again shortly.") from error
            raise

    # --- nodes ------------------------------------------------------------------------------

    def node_count(self) -> int:
        """How many nodes the panel has (the connection test)."""
        reply = self._app.request("GET", "/nodes", params={"per_page": 1}, safe=True)
        body = json_object(reply, product=PRODUCT)
        total = ((body.get("meta") or {}).get("pagination") or {}).get("total")
        return as_int(total, product=PRODUCT, field="total") if total is not None else len(_items(reply))

    def node(self, node_id: int) -> PteroNode | None:
        """A node by id (for its SFTP address), or None."""
        reply = self._get_or_none(f"/nodes/{node_id}")
        return _node(_attrs(json_object(reply, product=PRODUCT), "node")) if reply else None

    def deployable_nodes(self, *, memory: int, disk: int, location_ids: list[int]) -> list[PteroNode]:
        """Nodes that can take `memory`/`disk` MiB now (none: an empty list, not an error), with
        their allocations included ([PAY] asks so; a panel that leaves them out: None free)."""
        params: dict[str, Any] = {"memory": memory, "disk": disk, "include": "allocations"}
        if location_ids:
            params["location_ids[]"] = location_ids
        try:
            reply = self._app.request("GET", "/nodes/deployable", params=params, safe=True)
        except PanelRefused as error:
            if error.code in NO_CAPACITY:
                return []
            raise
        return [_node(n) for n in _items(reply)]

    def free_allocations(self, node_id: int) -> int:
        """How many unassigned allocations (ports) a node has."""
        reply = self._app.request(
            "GET", f"/nodes/{node_id}/allocations", params={"filter[server_id]": "false"}, safe=True
        )
        rows = _items(reply)
        total = ((json_object(reply, product=PRODUCT).get("meta") or {}).get("pagination") or {}).get("total")
        if total is not None:  # the filter left only free ones; the total spans every page
            return as_int(total, product=PRODUCT, field="pagination.total")
        return sum(1 for row in rows if not row.get("assigned"))

    # --- users ------------------------------------------------------------------------------

    def user_by_external_id(self, external_id: str) -> PteroUser | None:
        """The user with this external id, or None."""
        reply = self._get_or_none(f"/users/external/{external_id}")
        return _user(_attrs(json_object(reply, product=PRODUCT), "user")) if reply else None

    def user_by_email(self, email: str) -> PteroUser | None:
        """The user with exactly this e-mail (the filter is a LIKE match, so compare here)."""
        reply = self._app.request("GET", "/users", params={"filter[email]": email}, safe=True)
        return next(
            (_user(u) for u in _items(reply) if str(u.get("email", "")).lower() == email.lower()), None
        )

    def create_user(
        self,
        *,
        email: str,
        username: str,
        first_name: str,
        last_name: str,
        external_id: str,
        password: str = "",
    ) -> PteroUser:
        """Create a user (without a password the panel mails a link); 422 when e-mail/id are
        taken."""
        body = dict(
            email=email,
            username=username,
            first_name=first_name,
            last_name=last_name,
            external_id=external_id,
        )
        if password:
            body["password"] = password
        reply = self._app.request("POST", "/users", body=body, safe=False, create=True)
        return _user(_attrs(json_object(reply, product=PRODUCT), "user"))

    def link_user(self, user: PteroUser, *, external_id: str) -> PteroUser:
        """Set a user's external id (PATCH needs the required fields again)."""
        body = dict(
            email=user.email,
            username=user.username,
            first_name=user.first_name or "-",
            last_name=user.last_name or "-",
            external_id=external_id,
        )
        reply = self._app.request("PATCH", f"/users/{user.id}", body=body, safe=True)
        return _user(_attrs(json_object(reply, product=PRODUCT), "user"))

    # --- eggs -------------------------------------------------------------------------------

    def egg(self, nest: int, egg: int) -> PteroEgg:
        """An egg with its variables' defaults."""
        reply = self._get_or_none(f"/nests/{nest}/eggs/{egg}", {"include": "variables"})
        if reply is None:
            raise PanelRejected(f"{PRODUCT} has no egg {egg} in nest {nest}.")
        a = _attrs(json_object(reply, product=PRODUCT), "egg")
        variables = ((a.get("relationships") or {}).get("variables") or {}).get("data") or []
        environment = {}
        for row in variables:
            v = row.get("attributes") if isinstance(row, dict) else None
            if isinstance(v, dict) and v.get("env_variable"):
                environment[str(v["env_variable"])] = (
                    "" if v.get("default_value") is None else str(v["default_value"])
                )
        return PteroEgg(
            id=as_int(a.get("id"), product=PRODUCT, field="egg.id"),
            nest=nest,
            name=str(a.get("name") or ""),
            docker_image=str(a.get("docker_image") or ""),
            startup=str(a.get("startup") or ""),
            environment=environment,
        )

    def eggs(self, nest: int) -> list[PteroEgg]:
        """The eggs of a nest (without variables)."""
        reply = self._app.request("GET", f"/nests/{nest}/eggs", safe=True)
        return [
            PteroEgg(
                id=as_int(a.get("id"), product=PRODUCT, field="egg.id"),
                nest=nest,
                name=str(a.get("name") or ""),
                docker_image=str(a.get("docker_image") or ""),
                startup=str(a.get("startup") or ""),
            )
            for a in _items(reply)
        ]

    # --- servers ----------------------------------------------------------------------------

    def server(self, server_id: int) -> PteroServer:
        """A server by panel id; GoneFromPanel when it is not there."""
        reply = self._server_call("GET", f"/servers/{server_id}?include=allocations")
        return _server(_attrs(json_object(reply, product=PRODUCT), "server"))

    def server_by_external_id(self, external_id: str) -> PteroServer | None:
        """The server created for our service id, or None."""
        reply = self._get_or_none(f"/servers/external/{external_id}", {"include": "allocations"})
        return _server(_attrs(json_object(reply, product=PRODUCT), "server")) if reply else None

    def create_server(self, body: dict[str, Any]) -> PteroServer:
        """POST /servers; no node or port left → OutOfStock. Not retried once sent."""
        try:
            reply = self._app.request(
                "POST", "/servers", body=body, params={"include": "allocations"}, safe=False, create=True
            )
        except PanelRefused as error:
            if error.code in NO_CAPACITY:
                raise OutOfStock(f"No {PRODUCT} node has room for this plan right now.") from error
            raise
        return _server(_attrs(json_object(reply, product=PRODUCT), "server"))

    def update_build(
        self, server_id: int, *, allocation: int, limits: dict[str, int], feature_limits: dict[str, Any]
    ) -> None:
        """Change a server's limits (the current primary allocation must be resent)."""
        body = dict(allocation=allocation, limits=limits, feature_limits=feature_limits)
        self._server_call("PATCH", f"/servers/{server_id}/build", body)

    def update_startup(
        self, server_id: int, *, egg: int, image: str, startup: str, environment: dict[str, Any]
    ) -> None:
        """Change a server's egg, image, startup command and variables."""
        body = dict(egg=egg, image=image, startup=startup, environment=environment, skip_scripts=False)
        self._server_call("PATCH", f"/servers/{server_id}/startup", body)

    def suspend(self, server_id: int) -> None:
        """Suspend (a no-op when already suspended)."""
        self._server_call("POST", f"/servers/{server_id}/suspend")

    def unsuspend(self, server_id: int) -> None:
        """Unsuspend (a no-op when not suspended)."""
        self._server_call("POST", f"/servers/{server_id}/unsuspend")

    def reinstall(self, server_id: int) -> None:
        """Re-run the egg's install script (not retried once sent: it wipes progress)."""
        self._server_call("POST", f"/servers/{server_id}/reinstall", safe=False)

    def delete(self, server_id: int, *, force: bool = False) -> None:
        """Delete a server (`force` when Wings is gone); GoneFromPanel when already deleted."""
        self._server_call("DELETE", f"/servers/{server_id}{'/force' if force else ''}")

    # --- client API -------------------------------------------------------------------------

    def _client_call(self, method: str, path: str, body: Any = None) -> Reply:  # noqa: ANN401 (a JSON body)
        if not self._client_key:
            raise PanelRejected(f"No {PRODUCT} client API key is configured for this panel.")
        try:
            return self._client.request(method, path, body=body, safe=method == "GET")
        except PanelRefused as error:
            if error.status == 404:
                raise GoneFromPanel(f"The server is no longer on {PRODUCT}.") from error
            if error.status == 409:
                raise PanelBusy(f"The server is installing or suspended on {PRODUCT}.") from error
            raise

    def power(self, identifier: str, signal: str) -> None:
        """Send start/stop/restart/kill."""
        self._client_call("POST", f"/servers/{identifier}/power", {"signal": signal})

    def resources(self, identifier: str) -> PteroResources | None:
        """Live usage, or None while the panel answers 409 (installing or suspended)."""
        try:
            reply = self._client_call("GET", f"/servers/{identifier}/resources")
        except PanelBusy:
            return None
        a = _attrs(json_object(reply, product=PRODUCT), "stats")
        r = a.get("resources")
        if not isinstance(r, dict):
            r = {}

        def number(key: str) -> int:
            return as_int(r.get(key) or 0, product=PRODUCT, field=key)

        return PteroResources(
            state=str(a.get("current_state") or ""),
            memory_bytes=number("memory_bytes"),
            cpu_percent=float(r.get("cpu_absolute") or 0),
            disk_bytes=number("disk_bytes"),
            rx_bytes=number("network_rx_bytes"),
            tx_bytes=number("network_tx_bytes"),
        )
