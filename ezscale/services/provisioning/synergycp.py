"""Dedicated servers on SynergyCP: the provisioning module.

Plan mapping: `package` is the inventory filter as a query string of part billing ids, e.g.
`cpu_billing=e-2388g&mem_billing=64gb&disks_billing[]=nvme-1tb&disks_billing[]=nvme-1tb`
(matched exactly); options `ips_billing` (the IP block billing id, required),
`pxe_profile_billing` (the OS profile, required), `ip_group_billing` (comma-separated
locations), `port_speed_billing` and `max_bandwidth` (e.g. "10TB").

Panel config: credential `api_key` (an Integration key); options `panel_url` (the client panel
for SSO; default: the API URL) and `os_profiles` ("billing-id=Name;…", what reinstall offers,
as SynergyCP's OS profile listing is not in the reference).

Handles: the client's `billing_id` is our customer id; the server's `billing.id` is our service
id, so `GET server?billing_id=` finds what an earlier, timed-out create provisioned. Physical
stock: capacity is the matching free inventory capped by free IP blocks. Billing-driven suspend
and wipe are skipped for VIP clients (NeedsStaff). Hardware changes are manual: change_package
moves the bandwidth cap and asks staff when the server lacks the new plan's parts.
"""

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlencode

from ezscale.services.provisioning.module import (
    BuildState,
    Capability,
    Customer,
    GoneFromPanel,
    NeedsStaff,
    OsChoice,
    OutOfStock,
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
from ezscale.services.provisioning.panel_http import PanelRefused, client_options, together
from ezscale.services.provisioning.synergycp_client import (
    PRODUCT,
    ScpAddress,
    ScpInstall,
    ScpServer,
    SynergyCPClient,
)

POWER = {
    PowerAction.BOOT: "on",
    PowerAction.REBOOT: "reset",
    PowerAction.SHUTDOWN: "soft",
    PowerAction.POWER_OFF: "off",
}
# Install status words (unverified in the reference: read tolerantly, anything else = building).
DONE = frozenset({"complete", "completed", "done", "finished", "success", "succeeded"})
FAILED = frozenset({"failed", "failure", "error", "errored", "cancelled", "canceled"})
PICK_ATTEMPTS = 3
PICK_SPREAD = 8  # free servers a create picks from at random


def _filters(plan: PlanMapping) -> dict[str, Any]:
    """The plan's inventory filter; `name[]` keys become lists."""
    pairs = parse_qsl(plan.package, keep_blank_values=False)
    if not pairs:
        raise PanelRejected(
            f"The plan's {PRODUCT} package must be an inventory filter such as 'cpu_billing=…'."
        )
    filters: dict[str, Any] = {}
    for key, value in pairs:
        if key.endswith("[]"):
            filters.setdefault(key, []).append(value)
        else:
            filters[key] = value
    return filters


def _required(plan: PlanMapping, key: str) -> str:
    value = str(plan.options.get(key) or "")
    if not value:
        raise PanelRejected(f"The plan's {PRODUCT} option {key!r} is not set.")
    return value


def _locations(plan: PlanMapping) -> list[str]:
    return [x.strip() for x in str(plan.options.get("ip_group_billing") or "").split(",") if x.strip()]


def _state(server: ScpServer, installs: list[ScpInstall]) -> BuildState:
    if not server.access_active:
        return BuildState.SUSPENDED
    if not installs:
        return BuildState.READY
    status = installs[-1].status.strip().lower()
    if status in FAILED:
        return BuildState.FAILED
    return BuildState.READY if status in DONE else BuildState.BUILDING


def _details(
    server: ScpServer, state: BuildState, addresses: list[ScpAddress], *, password: str = ""
) -> ServiceDetails:
    return ServiceDetails(
        external_id=str(server.id),
        customer_external_id="" if server.client_id is None else str(server.client_id),
        state=state,
        hostname=server.nickname,
        ips=tuple(a.address for a in addresses if a.address),
        username="root" if password else "",
        password=password,
        extra={"srv_id": server.srv_id},
        message="The operating system install failed." if state is BuildState.FAILED else "",
    )


def _assigned(server: ScpServer | None) -> ScpServer | None:
    """The server if it is assigned (has an access), else None."""
    return server if server is not None and server.access_id is not None else None


class SynergyCPModule:
    """Dedicated servers on one SynergyCP installation."""

    name: ClassVar[str] = "synergycp"
    label: ClassVar[str] = "SynergyCP (dedicated servers)"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.CHANGE_PACKAGE, Capability.SSO, Capability.POWER, Capability.USAGE, Capability.REINSTALL}
    )
    power_actions: ClassVar[tuple[PowerAction, ...]] = tuple(POWER)

    def __init__(self, config: PanelConfig) -> None:
        """A module for one configured panel."""
        self.config = config

    @contextmanager
    def _client(self) -> Iterator[SynergyCPClient]:
        key = self.config.credentials.get("api_key", "")
        if not key:
            raise PanelRejected(f"No {PRODUCT} API key is configured for this panel.")
        with SynergyCPClient(
            base_url=self.config.base_url,
            api_key=key,
            **client_options(self.config, PRODUCT),
        ) as client:
            yield client

    def _read(self, client: SynergyCPClient, server: ScpServer, *, password: str = "") -> ServiceDetails:
        """What the panel says of the server: its installs and addresses, read at once."""
        installs, addresses = together(
            lambda: client.installs(server.id), lambda: client.addresses(server.id)
        )
        return _details(server, _state(server, installs), addresses, password=password)

    def _server(self, client: SynergyCPClient, service: ServiceRef) -> ScpServer:
        """Our service's server; GoneFromPanel once it was wiped (billing id cleared)."""
        billing_id = str(service.service_id)
        if service.external_id and service.external_id.isdigit():
            server = client.server(int(service.external_id))
            if server.billing_id == billing_id and server.access_id is not None:
                return server
            raise GoneFromPanel(f"The server is no longer assigned on {PRODUCT}.")
        found = client.server_by_billing_id(billing_id)
        if found is None or found.access_id is None:
            raise GoneFromPanel(f"The server is no longer assigned on {PRODUCT}.")
        return found

    def test_connection(self) -> str:
        """List one server (any cheap authenticated GET)."""
        with self._client() as client:
            _, total = client.available_servers({}, per_page=1)
        return f"{PRODUCT} answered: {total} server(s) in stock."

    def check_capacity(self, plan: PlanMapping) -> Stock:
        """Free inventory matching the plan's parts exactly, capped by free IP blocks."""
        filters = _filters(plan)
        ips_billing = _required(plan, "ips_billing")
        with self._client() as client:
            (_, servers), ips = together(
                lambda: client.available_servers(filters),
                lambda: client.free_ips(ips_billing=ips_billing, locations=_locations(plan)),
            )
        return Stock(available=min(servers, ips), detail=f"{servers} server(s), {ips} free IP block(s)")

    def find(self, customer: Customer, service: ServiceRef) -> ServiceDetails | None:
        """The server whose billing id is our service id, or None."""
        with self._client() as client:
            server = client.server_by_billing_id(str(service.service_id))
            return self._read(client, server) if server and server.access_id is not None else None

    def _customer(self, client: SynergyCPClient, customer: Customer) -> int:
        """Find-or-create the client by billing id; link an existing e-mail (both looked up at once)."""
        billing_id = str(customer.id)
        found, by_email = together(
            lambda: client.find_client(billing_id=billing_id),
            lambda: client.find_client(email=customer.email),
        )
        if found is not None:
            return found.id
        if by_email is not None:
            if by_email.billing_id not in ("", billing_id):
                raise PanelRejected(
                    f"{PRODUCT} already has {customer.email} linked to another billing account."
                )
            return client.link_client(by_email.id, billing_id=billing_id).id
        first, _, last = customer.name.strip().partition(" ")
        try:
            return client.create_once(
                lambda: client.create_client(
                    email=customer.email, first=first or "Customer", last=last, billing_id=billing_id
                ),
                lambda: client.find_client(billing_id=billing_id),
            ).id
        except (PanelUnavailable, PanelRefused):
            found = client.find_client(billing_id=billing_id)  # made after all, or by a twin
            if found is None:
                raise
            return found.id

    def create(
        self, customer: Customer, service: ServiceRef, plan: PlanMapping, *, hostname: str
    ) -> ServiceDetails:
        """Adopt the server billed to our service id, else provision a free matching one."""
        filters, billing_id = _filters(plan), str(service.service_id)
        body: dict[str, Any] = dict(
            ips_billing=_required(plan, "ips_billing"),
            pxe_profile_billing=_required(plan, "pxe_profile_billing"),
            nickname=hostname,
            billing={"id": service.service_id, "max_bandwidth": str(plan.options.get("max_bandwidth") or "")},
            access={"pxe": True, "ipmi": True, "switch": True},
        )
        for key in ("port_speed_billing", "ip_group_billing"):
            if plan.options.get(key):
                body[key] = str(plan.options[key])
        with self._client() as client:
            # A first attempt has nothing to adopt; a retry adopts what an earlier one assigned.
            existing = None if service.fresh else client.server_by_billing_id(billing_id)
            if existing is not None and existing.access_id is not None:
                return self._read(client, existing)
            body["client_id"], free_ips, (candidates, _) = together(
                lambda: self._customer(client, customer),
                lambda: client.free_ips(ips_billing=body["ips_billing"], locations=_locations(plan)),
                # One of the first few free servers, not always the first: orders delivered at
                # once would otherwise all race for the same one.
                lambda: client.available_servers(filters, per_page=PICK_SPREAD),
            )
            if free_ips == 0:
                raise OutOfStock(f"{PRODUCT} has no free IP block for this plan.")
            password = secrets.token_urlsafe(15)
            body["password"] = password
            for attempt in range(PICK_ATTEMPTS):
                if attempt:
                    candidates, _ = client.available_servers(filters, per_page=PICK_SPREAD)
                if not candidates:
                    break
                pick = secrets.choice(candidates)
                try:
                    server = client.create_once(
                        partial(client.provision, body | {"server_id": pick}),
                        lambda: _assigned(client.server_by_billing_id(billing_id)),
                    )
                except (PanelUnavailable, PanelRefused):
                    adopted = client.server_by_billing_id(billing_id)
                    if adopted is not None and adopted.access_id is not None:
                        return self._read(client, adopted, password=password)
                    if pick in client.available_servers(filters, per_page=50)[0]:
                        raise  # the server is still free: a real refusal, not a race
                    continue  # someone took that server between our look and our provision
                # Just provisioned with an OS install queued: building (its addresses are read
                # when a poll finds it ready).
                return _details(server, BuildState.BUILDING, [], password=password)
            else:  # every pick lost its race while stock was left: try again later, not a refund
                raise PanelUnavailable(f"{PRODUCT}: the free servers picked were taken by other orders.")
        raise OutOfStock(f"No {PRODUCT} server matching this plan is free right now.")

    def status(self, service: ServiceRef) -> ServiceDetails:
        """Assigned and the last OS install done → ready; access off → suspended."""
        with self._client() as client:
            if not (service.external_id and service.external_id.isdigit()):
                return self._read(client, self._server(client, service))
            server_id = int(service.external_id)
            server, installs, addresses = together(
                lambda: self._server(client, service),
                lambda: client.installs(server_id),
                lambda: client.addresses(server_id),
            )
            return _details(server, _state(server, installs), addresses)

    def suspend(self, service: ServiceRef, *, reason: str) -> None:
        """Access off (switch port and controls off); VIP clients → NeedsStaff."""
        with self._client() as client:
            server = self._server(client, service)
            body = {"is_active": False, "suspension_reason": reason or "Suspended by billing", "auto": True}
            client.set_access(server.id, server.access_id or 0, body)

    def unsuspend(self, service: ServiceRef) -> None:
        """Access back on."""
        with self._client() as client:
            server = self._server(client, service)
            client.set_access(server.id, server.access_id or 0, {"is_active": True, "auto": True})

    def terminate(self, service: ServiceRef) -> None:
        """Wipe (irreversible); GoneFromPanel when already wiped, NeedsStaff for VIP clients."""
        with self._client() as client:
            client.wipe(self._server(client, service).id)

    def change_package(self, service: ServiceRef, plan: PlanMapping) -> None:
        """Move the bandwidth cap; when the server lacks the new plan's parts, staff must move
        the customer to other hardware (NeedsStaff)."""
        filters = _filters(plan)
        with self._client() as client:
            server = self._server(client, service)
            if plan.options.get("max_bandwidth"):
                client.set_bandwidth(server.id, str(plan.options["max_bandwidth"]))
            same_hardware = client.has_parts(str(service.service_id), filters)
        if not same_hardware:
            raise NeedsStaff(f"Moving a dedicated server to other hardware is done by staff on {PRODUCT}.")

    def sso_url(self, customer: Customer, service: ServiceRef) -> str:
        """A new client key, then the client panel's `auth/sso` at this server."""
        with self._client() as client:
            server = self._server(client, service)
            if server.client_id is None:
                raise GoneFromPanel(f"The server has no client on {PRODUCT}.")
            key = client.client_key(server.client_id)
        base = str(self.config.options.get("panel_url") or self.config.base_url).rstrip("/")
        return f"{base}/auth/sso?{urlencode({'key': key, 'view_type': 'server', 'view_id': server.id})}"

    def power(self, service: ServiceRef, action: PowerAction) -> None:
        """IPMI power on / reset / soft shutdown / off."""
        command = POWER.get(action)
        if command is None:
            raise PanelRejected(f"{PRODUCT} dedicated servers have no '{action}' action.")
        with self._client() as client:
            client.power(self._server(client, service).id, command)

    def usage(self, service: ServiceRef) -> tuple[UsageMetric, ...]:
        """This billing cycle's bandwidth (the panel counts bits; shown in bytes)."""
        with self._client() as client:
            server = self._server(client, service)
        return (UsageMetric("Bandwidth", server.usage_used // 8, server.usage_max // 8, "bytes"),)

    def os_choices(self, service: ServiceRef) -> tuple[OsChoice, ...]:
        """The OS profiles configured on the panel config (`os_profiles`)."""
        raw = str(self.config.options.get("os_profiles") or "")
        pairs = (item.partition("=") for item in raw.split(";") if item.strip())
        return tuple(OsChoice(key.strip(), (name or key).strip()) for key, _, name in pairs)

    def reinstall(self, service: ServiceRef, os_id: str) -> ServiceDetails:
        """Queue an OS reload with a new root password; building until the install finishes."""
        if os_id not in {c.id for c in self.os_choices(service)}:
            raise PanelRejected(f"{os_id!r} is not an operating system offered for this server.")
        password = secrets.token_urlsafe(15)
        with self._client() as client:
            server = self._server(client, service)
            client.install(server.id, profile_billing=os_id, password=password)
            return self._read(client, server, password=password)
