"""Game servers on a Pterodactyl Panel: the provisioning module.

Plan mapping: `package` is `"<nest id>/<egg id>"`; options `memory`, `disk` (MiB), `cpu` (%,
100 = one core), optional `swap` (0), `io` (500), `databases`, `backups` (0), `allocations` (1),
`locations` (comma-separated location ids; empty = any), `docker_image` and `startup` (default:
the egg's), and `env.<VARIABLE>` overrides of the egg's variable defaults.

Panel config (timeouts and retries: `panel_http.client_options`): credentials
`application_key` (`ptla_`) and `client_key` (`ptlc_` of a root admin, for power and usage);
option `force_delete` = "1" deletes with `/force` (for a node whose Wings is gone; may leave
files behind).

Handles: the panel user's `external_id` is our customer id; the server's `external_id` is our
service id (unique on the panel), so `find` and a repeated `create` adopt what an earlier,
timed-out create made.
"""

import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import ClassVar

from ezscale.services.provisioning.module import (
    BuildState,
    Capability,
    Customer,
    GoneFromPanel,
    OsChoice,
    PanelConfig,
    PanelRejected,
    PanelUnavailable,
    PlanMapping,
    PowerAction,
    ServiceDetails,
    ServiceRef,
    Stock,
    UsageMetric,
)
from ezscale.services.provisioning.panel_http import PanelRefused, client_options, each, together
from ezscale.services.provisioning.pterodactyl_client import (
    PRODUCT,
    PterodactylClient,
    PteroNode,
    PteroServer,
    PteroUser,
)

STATES = {
    None: BuildState.READY,
    "installing": BuildState.BUILDING,
    "install_failed": BuildState.FAILED,
    "reinstall_failed": BuildState.FAILED,
    "suspended": BuildState.SUSPENDED,
}
SIGNALS = {
    PowerAction.START: "start",
    PowerAction.STOP: "stop",
    PowerAction.RESTART: "restart",
    PowerAction.KILL: "kill",
}
MIB = 1024 * 1024
NODE_SECONDS = 300.0  # a node's SFTP address is read again after this long
# Nodes by (panel URL, node id): (read at, node). A delivery shows the SFTP address of its node;
# nodes are few and rarely change, so most deliveries need no call for it.
_nodes: dict[tuple[str, int], tuple[float, PteroNode]] = {}


@dataclass(frozen=True, slots=True)
class _Spec:
    """A plan mapping read into the panel's fields."""

    nest: int
    egg: int
    limits: dict[str, int]
    feature_limits: dict[str, int]
    locations: list[int]
    docker_image: str
    startup: str
    environment: dict[str, str]


def _spec(plan: PlanMapping) -> _Spec:
    """Read and check a plan mapping; PanelRejected names what is wrong."""
    nest, _, egg = plan.package.partition("/")
    o = plan.options

    def number(key: str, default: int | None = None) -> int:
        raw = o.get(key)
        if raw in (None, "") and default is not None:
            return default
        try:
            return int(str(raw))
        except ValueError:
            raise PanelRejected(f"The plan's {PRODUCT} option {key!r} must be a whole number.") from None

    if not (nest.isdigit() and egg.isdigit()):
        raise PanelRejected(
            f"The plan's {PRODUCT} package must be '<nest id>/<egg id>', not {plan.package!r}."
        )
    try:
        locations = [int(x) for x in str(o.get("locations") or "").split(",") if x.strip()]
    except ValueError:
        raise PanelRejected(f"The plan's {PRODUCT} locations must be comma-separated ids.") from None
    return _Spec(
        nest=int(nest),
        egg=int(egg),
        limits=dict(
            memory=number("memory"),
            swap=number("swap", 0),
            disk=number("disk"),
            io=number("io", 500),
            cpu=number("cpu"),
        ),
        feature_limits=dict(
            databases=number("databases", 0),
            allocations=number("allocations", 1),
            backups=number("backups", 0),
        ),
        locations=locations,
        docker_image=str(o.get("docker_image") or ""),
        startup=str(o.get("startup") or ""),
        environment={k.removeprefix("env."): str(v) for k, v in o.items() if k.startswith("env.")},
    )


def _details(server: PteroServer) -> ServiceDetails:
    ips = tuple(dict.fromkeys(a.rpartition(":")[0] for a in server.addresses))
    state = STATES.get(server.status, BuildState.READY)
    return ServiceDetails(
        external_id=str(server.id),
        customer_external_id=str(server.user),
        state=state,
        hostname=server.name,
        ips=ips,
        ports=server.addresses,
        extra={"identifier": server.identifier, "uuid": server.uuid},
        message="The game server's installation failed." if state is BuildState.FAILED else "",
    )


def _names(customer: Customer) -> tuple[str, str]:
    first, _, last = customer.name.strip().partition(" ")
    return first or "Customer", last or str(customer.id)


def _without_password(user: PteroUser | None) -> tuple[PteroUser, str] | None:
    return None if user is None else (user, "")


class PterodactylModule:
    """Game servers on one Pterodactyl panel."""

    name: ClassVar[str] = "pterodactyl"
    label: ClassVar[str] = "Pterodactyl (game servers)"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.CHANGE_PACKAGE, Capability.SSO, Capability.POWER, Capability.USAGE, Capability.REINSTALL}
    )
    power_actions: ClassVar[tuple[PowerAction, ...]] = tuple(SIGNALS)

    def __init__(self, config: PanelConfig) -> None:
        """A module for one configured panel."""
        self.config = config

    @contextmanager
    def _client(self) -> Iterator[PterodactylClient]:
        key = self.config.credentials.get("application_key", "")
        if not key:
            raise PanelRejected(f"No {PRODUCT} application API key is configured for this panel.")
        with PterodactylClient(
            base_url=self.config.base_url,
            application_key=key,
            client_key=self.config.credentials.get("client_key", ""),
            **client_options(self.config, PRODUCT),
        ) as client:
            yield client

    def _server(self, client: PterodactylClient, service: ServiceRef) -> PteroServer:
        if service.external_id and service.external_id.isdigit():
            return client.server(int(service.external_id))
        server = client.server_by_external_id(str(service.service_id))
        if server is None:
            raise GoneFromPanel(f"The server is no longer on {PRODUCT}.")
        return server

    def test_connection(self) -> str:
        """Count the nodes (needs the application key's node read right)."""
        with self._client() as client:
            return f"{PRODUCT} answered: {client.node_count()} node(s)."

    def check_capacity(self, plan: PlanMapping) -> Stock:
        """Deployable nodes for the plan's size, capped by their free ports."""
        spec = _spec(plan)
        memory, disk = spec.limits["memory"], spec.limits["disk"]
        with self._client() as client:
            nodes = client.deployable_nodes(memory=memory, disk=disk, location_ids=spec.locations)
            unknown = [n.id for n in nodes if n.free_allocations is None]  # not included: read
            read = dict(zip(unknown, each(client.free_allocations, unknown, width=16), strict=True))
            available = sum(
                min(
                    n.fits(memory=memory, disk=disk),
                    read[n.id] if n.free_allocations is None else n.free_allocations,
                )
                for n in nodes
            )
        detail = f"{len(nodes)} node(s) with room" if nodes else "no node with room for this plan"
        return Stock(available=available, detail=detail)

    def find(self, customer: Customer, service: ServiceRef) -> ServiceDetails | None:
        """The server keyed by our service id (or the stored panel id), or None."""
        with self._client() as client:
            try:
                return _details(self._server(client, service))
            except GoneFromPanel:
                return None

    def _user(self, client: PterodactylClient, customer: Customer) -> tuple[PteroUser, str]:
        """Find-or-create the panel user by our customer id; link an existing e-mail. Returns
        the user and the password we gave it ("" for a user the panel already had)."""
        ext = str(customer.id)
        if not customer.fresh:
            user = client.user_by_external_id(ext)
            if user is not None:
                return user, ""
        first, last = _names(customer)
        password = secrets.token_urlsafe(15)
        try:
            # Adopted while late: no password handed back (a twin delivery may have made the user).
            return client.create_once(
                lambda: (
                    client.create_user(
                        email=customer.email,
                        username=f"ezs{customer.id}",
                        first_name=first,
                        last_name=last,
                        external_id=ext,
                        password=password,
                    ),
                    password,
                ),
                lambda: _without_password(client.user_by_external_id(ext)),
            )
        except PanelUnavailable:
            user = client.user_by_external_id(ext)  # the create may have happened
            if user is None:
                raise
            return user, ""
        except PanelRefused as error:
            if error.status != 422:
                raise
            user = client.user_by_external_id(ext) or client.user_by_email(customer.email)
            if user is None:
                raise
            if user.external_id not in (None, "", ext):
                raise PanelRejected(
                    f"{PRODUCT} already has {customer.email} linked to another billing account."
                ) from error
            return (user if user.external_id == ext else client.link_user(user, external_id=ext)), ""

    def create(
        self, customer: Customer, service: ServiceRef, plan: PlanMapping, *, hostname: str
    ) -> ServiceDetails:
        """Find-or-create the user and the server keyed by our service id (deploy placement)."""
        spec = _spec(plan)
        ext = str(service.service_id)
        with self._client() as client:
            # A first attempt has nothing to find; a retry adopts what an earlier one made.
            existing = None if service.fresh else client.server_by_external_id(ext)
            if existing is not None:
                return self._login(client, existing, client.user_by_external_id(str(customer.id)), "")
            (user, password), egg = together(
                lambda: self._user(client, customer), lambda: client.egg(spec.nest, spec.egg)
            )
            body = dict(
                name=hostname[:191] or f"Service {ext}",
                user=user.id,
                egg=egg.id,
                docker_image=spec.docker_image or egg.docker_image,
                startup=spec.startup or egg.startup,
                environment=egg.environment | spec.environment,
                limits=spec.limits,
                feature_limits=spec.feature_limits,
                external_id=ext,
                deploy={"locations": spec.locations, "dedicated_ip": False, "port_range": []},
                start_on_completion=True,
            )
            try:
                server = client.create_once(
                    lambda: client.create_server(body), lambda: client.server_by_external_id(ext)
                )
                return self._login(client, server, user, password)
            except (PanelUnavailable, PanelRefused) as error:
                if isinstance(error, PanelRefused) and error.status != 422:
                    raise
                adopted = client.server_by_external_id(ext)  # it went through, or a twin got there first
                if adopted is None:
                    raise
                return self._login(client, adopted, user, password)

    def _node(self, client: PterodactylClient, node_id: int) -> PteroNode | None:
        """The node, read at most every `NODE_SECONDS` per panel."""
        key = (self.config.base_url, node_id)
        seen = _nodes.get(key)
        if seen is not None and time.monotonic() - seen[0] < NODE_SECONDS:
            return seen[1]
        node = client.node(node_id)
        if node is not None:
            _nodes[key] = (time.monotonic(), node)
        return node

    def _login(
        self, client: PterodactylClient, server: PteroServer, user: PteroUser | None, password: str
    ) -> ServiceDetails:
        """The server's details with how the customer signs in: the panel user (and the password
        we set when we made it) and the SFTP address and user (`<panel user>.<server id>`, the
        panel password) on the server's node."""
        details = _details(server)
        if user is None:
            return details
        node = self._node(client, server.node)
        sftp = {"sftp_user": f"{user.username}.{server.identifier}"}
        if node is not None and node.fqdn:
            sftp["sftp_address"] = f"sftp://{node.fqdn}:{node.sftp_port}"
        return replace(details, username=user.username, password=password, extra={**details.extra, **sftp})

    def status(self, service: ServiceRef) -> ServiceDetails:
        """The server's state (`installing` → building, null → ready, `install_failed` → failed)."""
        with self._client() as client:
            return _details(self._server(client, service))

    def suspend(self, service: ServiceRef, *, reason: str) -> None:
        """Suspend (the panel keeps no reason)."""
        with self._client() as client:
            client.suspend(self._server(client, service).id)

    def unsuspend(self, service: ServiceRef) -> None:
        """Lift a suspension."""
        with self._client() as client:
            client.unsuspend(self._server(client, service).id)

    def terminate(self, service: ServiceRef) -> None:
        """Delete the server; GoneFromPanel when it is already gone."""
        with self._client() as client:
            server = self._server(client, service)
            client.delete(server.id, force=self.config.options.get("force_delete") == "1")

    def change_package(self, service: ServiceRef, plan: PlanMapping) -> None:
        """New limits (build PATCH with the current allocation), then the egg if it changed."""
        spec = _spec(plan)
        with self._client() as client:
            server = self._server(client, service)
            client.update_build(
                server.id,
                allocation=server.allocation,
                limits=spec.limits,
                feature_limits=spec.feature_limits,
            )
            if (spec.nest, spec.egg) != (server.nest, server.egg) or spec.docker_image or spec.startup:
                egg = client.egg(spec.nest, spec.egg)
                kept = server.environment if egg.id == server.egg else {}  # same egg: keep the values set
                client.update_startup(
                    server.id,
                    egg=egg.id,
                    image=spec.docker_image or egg.docker_image,
                    startup=spec.startup or egg.startup,
                    environment=egg.environment | kept | spec.environment,
                )

    def _identifier(self, client: PterodactylClient, service: ServiceRef) -> str:
        return service.extra.get("identifier") or self._server(client, service).identifier

    def sso_url(self, customer: Customer, service: ServiceRef) -> str:
        """The panel's page for the server (core Pterodactyl has no login token; the customer
        signs in with the account the panel mailed them)."""
        with self._client() as client:
            return f"{client.panel_url}/server/{self._identifier(client, service)}"

    def power(self, service: ServiceRef, action: PowerAction) -> None:
        """Send start/stop/restart/kill through the client API."""
        signal = SIGNALS.get(action)
        if signal is None:
            raise PanelRejected(f"{PRODUCT} game servers have no '{action}' action.")
        with self._client() as client:
            client.power(self._identifier(client, service), signal)

    def usage(self, service: ServiceRef) -> tuple[UsageMetric, ...]:
        """Memory, CPU, disk and network; empty while installing or suspended (panel 409)."""
        with self._client() as client:
            server = self._server(client, service)
            live = client.resources(server.identifier)
        if live is None:
            return ()
        limits = server.limits
        return (
            UsageMetric("Memory", live.memory_bytes // MIB, int(limits.get("memory") or 0), "MiB"),
            UsageMetric("CPU", round(live.cpu_percent), int(limits.get("cpu") or 0), "%"),
            UsageMetric("Disk", live.disk_bytes // MIB, int(limits.get("disk") or 0), "MiB"),
            UsageMetric("Network in", live.rx_bytes, 0, "bytes"),
            UsageMetric("Network out", live.tx_bytes, 0, "bytes"),
        )

    def os_choices(self, service: ServiceRef) -> tuple[OsChoice, ...]:
        """The eggs of the server's nest (reinstalling may switch between them)."""
        with self._client() as client:
            server = self._server(client, service)
            return tuple(OsChoice(str(egg.id), egg.name) for egg in client.eggs(server.nest))

    def reinstall(self, service: ServiceRef, os_id: str) -> ServiceDetails:
        """Switch to egg `os_id` (its defaults) if it differs, then re-run the install."""
        if not os_id.isdigit():
            raise PanelRejected(f"{os_id!r} is not one of this game server's eggs.")
        with self._client() as client:
            server = self._server(client, service)
            if int(os_id) != server.egg:
                egg = client.egg(server.nest, int(os_id))
                client.update_startup(
                    server.id,
                    egg=egg.id,
                    image=egg.docker_image,
                    startup=egg.startup,
                    environment=egg.environment,
                )
            client.reinstall(server.id)
            return _details(client.server(server.id))
