"""VirtFusion (VPS) module: the contract over `VirtFusionClient`.

Panel credentials: `token`. Options (panel or plan mapping, the plan's win): `group` (hypervisor
group id, default 1), `ipv4` (addresses per server, always sent: default 1), `os` (operating
system template id for the first build, default 1), `buffer_percent` (capacity kept free).
The plan mapping's `package` is the VirtFusion package id.

Idempotency: the panel user is keyed by our customer id (`extRelationId`). Servers have no
external key on VirtFusion, so the build names the server `ezscale-<service id>`, and a server the
panel made for a create whose reply we lost (created, not yet built, not named by us) is adopted
by the next attempt. Two orders of one customer timing out at once could adopt each other's
server; both are still delivered, one each. A first attempt (`ServiceRef.fresh`) skips the look-up.
"""

from collections.abc import Mapping
from typing import Any, ClassVar

from ezscale.services.provisioning.module import (
    BuildState,
    Capability,
    Customer,
    GoneFromPanel,
    NeedsStaff,
    OsChoice,
    PanelConfig,
    PanelRejected,
    PlanMapping,
    PowerAction,
    ProvisioningError,
    ServiceDetails,
    ServiceRef,
    Stock,
    UsageMetric,
)
from ezscale.services.provisioning.panel_http import together
from ezscale.services.provisioning.virtfusion_client import VirtFusionClient

_POWER = {
    PowerAction.BOOT: "boot",
    PowerAction.REBOOT: "restart",
    PowerAction.SHUTDOWN: "shutdown",
    PowerAction.POWER_OFF: "poweroff",
}
GB = 1_000_000_000


def _int(value: Any, default: int = 0) -> int:  # noqa: ANN401 (JSON)
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def server_name(service_id: int) -> str:
    """The name our build gives a service's server (how it is found again)."""
    return f"ezscale-{service_id}"


def _fits(resource: Mapping[str, Any], need: int, buffer_percent: int) -> int | None:
    """How many of `need` fit in a resource row; None when unlimited (`max` 0)."""
    cap = _int(resource.get("max"))
    if cap <= 0:
        return None
    free = _int(resource.get("free")) - cap * buffer_percent // 100
    return max(free, 0) // need if need > 0 else None


def _named(server: dict[str, Any], name: str) -> dict[str, Any] | None:
    """The server if our build already named it (the build went through), else None."""
    return server if server.get("name") == name else None


class VirtFusionModule:
    """A VirtFusion panel."""

    name: ClassVar[str] = "virtfusion"
    label: ClassVar[str] = "VirtFusion (VPS)"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.CHANGE_PACKAGE, Capability.SSO, Capability.POWER, Capability.USAGE, Capability.REINSTALL}
    )
    power_actions: ClassVar[tuple[PowerAction, ...]] = tuple(_POWER)

    def __init__(self, config: PanelConfig) -> None:
        """Keep the panel's configuration; a client is opened per call."""
        self.config = config
        if not config.credentials.get("token"):
            raise PanelRejected("The VirtFusion panel has no API token configured.")

    def _client(self) -> VirtFusionClient:
        return VirtFusionClient(
            self.config.base_url,
            self.config.credentials["token"],
            timeout=min(self.config.timeout_seconds, 30.0),
            create_timeout=self.config.timeout_seconds * 2,  # creates and builds: long (peers broke at 5 s)
        )

    def _option(self, plan: PlanMapping | None, key: str, default: int) -> int:
        if plan is not None and key in plan.options:
            return _int(plan.options[key], default)
        return _int(self.config.options.get(key), default)

    # --- lifecycle ------------------------------------------------------------------------

    def test_connection(self) -> str:
        """GET /connect, then the hypervisor groups (proves the token's scope)."""
        with self._client() as client:
            client.connect()
            groups = client.hypervisor_groups()
        return f"Connected to VirtFusion: {len(groups)} hypervisor group(s)."

    def check_capacity(self, plan: PlanMapping) -> Stock:
        """How many more of the package fit in the group (EZSCALE StockControl formula)."""
        group = self._option(plan, "group", 1)
        ipv4 = self._option(plan, "ipv4", 1)
        buffer_percent = self._option(plan, "buffer_percent", 0)
        with self._client() as client:

            def package_or_none() -> dict[str, Any] | None:
                try:
                    return client.package(_int(plan.package))
                except GoneFromPanel:
                    return None

            package, rows = together(package_or_none, lambda: client.group_resources(group))
        if package is None:
            return Stock(0, "The package no longer exists on the panel.")
        if not package.get("enabled", True):
            return Stock(0, "The package is disabled on the panel.")
        total, unlimited, free_ipv4 = 0, False, None
        for row in rows:
            hv, res = row.get("hypervisor") or {}, row.get("resources") or {}
            if not (hv.get("enabled") and hv.get("commissioned") and not hv.get("prohibit")):
                continue
            profile = package.get("primaryStorageProfile")
            storage = res.get("localStorage") or {}
            if profile:
                storage = next(
                    (s for s in res.get("otherStorage") or [] if str(s.get("storageType")) == str(profile)),
                    {},
                )
            counts = [
                _fits(res.get("memory") or {}, _int(package.get("memory")), buffer_percent),
                _fits(res.get("cpuCores") or {}, _int(package.get("cpuCores")), buffer_percent),
                _fits(storage, _int(package.get("primaryStorage")), buffer_percent) if storage else 0,
            ]
            limited = [c for c in counts if c is not None]
            if not limited:
                unlimited = True
            else:
                total += min(limited)
            ips = (((res.get("network") or {}).get("total") or {}).get("ipv4") or {}).get("free")
            if ips is not None:
                free_ipv4 = max(free_ipv4 or 0, _int(ips))  # the group's shared pool: max, not sum
        if ipv4 > 0 and free_ipv4 is not None:
            by_ip = free_ipv4 // ipv4
            total = by_ip if unlimited else min(total, by_ip)
        elif unlimited:
            return Stock(None, "Unlimited on the panel.")
        return Stock(total, f"{total} more fit in hypervisor group {group}.")

    def _details(self, server: Mapping[str, Any], ext: str) -> ServiceDetails:
        ips = tuple(
            str(ip.get("address"))
            for iface in ((server.get("network") or {}).get("interfaces") or [])
            for ip in (iface.get("ipv4") or [])
            if isinstance(ip, dict) and ip.get("address")
        )
        if server.get("buildFailed"):
            state, message = BuildState.FAILED, "The panel could not build the server."
        elif server.get("suspended"):
            state, message = BuildState.SUSPENDED, ""
        elif server.get("built") and not (server.get("tasks") or {}).get("active"):
            state, message = BuildState.READY, ""
        else:
            state, message = BuildState.BUILDING, ""
        owner = server.get("owner") or {}
        return ServiceDetails(
            external_id=str(server.get("id")),
            customer_external_id=str(owner.get("extRelationId") or ext),
            state=state,
            hostname=str(server.get("hostname") or ""),
            ips=ips,
            username="root",
            extra={"uuid": str(server.get("uuid") or ""), "name": str(server.get("name") or "")},
            message=message,
        )

    def _user(self, client: VirtFusionClient, customer: Customer) -> dict[str, Any]:
        if not customer.fresh:
            user = client.user_by_ext(customer.id)
            if user is not None:
                return user
        try:
            return client.create_once(
                lambda: client.create_user(
                    ext_id=customer.id, name=customer.name or customer.email, email=customer.email
                ),
                lambda: client.user_by_ext(customer.id),
            )
        except PanelRejected as error:
            if "taken" in str(error).lower():
                if customer.fresh and (user := client.user_by_ext(customer.id)) is not None:
                    return user  # made by staff, or by a delivery of another order at once
                raise NeedsStaff(
                    "A VirtFusion user with this e-mail exists but is not linked to the customer: "
                    "staff must link it (set its external relation id)."
                ) from error
            raise

    def _adoptable(self, client: VirtFusionClient, user_id: int, service_id: int) -> dict[str, Any] | None:
        """Our server for this service, or one the panel made for a create whose reply was lost."""
        servers = client.user_servers(user_id)
        ours = [s for s in servers if s.get("name") == server_name(service_id)]
        if ours:
            return ours[0]
        unbuilt = [
            s
            for s in servers
            if not s.get("built")
            and not s.get("buildFailed")
            and not str(s.get("name") or "").startswith("ezscale-")
            and not (s.get("tasks") or {}).get("active")
        ]
        return min(unbuilt, key=lambda s: _int(s.get("id"))) if unbuilt else None

    def find(self, customer: Customer, service: ServiceRef) -> ServiceDetails | None:
        """The server an earlier create left on the panel for this service, or None."""
        with self._client() as client:
            user = client.user_by_ext(customer.id)
            if user is None:
                return None
            if service.external_id:
                try:
                    return self._details(client.server(_int(service.external_id)), str(customer.id))
                except GoneFromPanel:
                    return None
            server = self._adoptable(client, _int(user.get("id")), service.service_id)
        return None if server is None else self._details(server, str(customer.id))

    def create(
        self, customer: Customer, service: ServiceRef, plan: PlanMapping, *, hostname: str
    ) -> ServiceDetails:
        """Find-or-create the user, find-or-create the server, then build it (once)."""
        with self._client() as client:
            user = self._user(client, customer)
            user_id = _int(user.get("id"))
            server = None
            if service.external_id:
                try:
                    server = client.server(_int(service.external_id))
                except GoneFromPanel:
                    server = None
            if server is None and not service.fresh:  # a first attempt has nothing to adopt
                server = self._adoptable(client, user_id, service.service_id)
            if server is None:
                # Not keyed by our id: never looked up while it may be in flight (only after a 500).
                server = client.create_once(
                    lambda: client.create_server(
                        package_id=_int(plan.package),
                        user_id=user_id,
                        group_id=self._option(plan, "group", 1),
                        ipv4=self._option(plan, "ipv4", 1),
                    ),
                    lambda: self._adoptable(client, user_id, service.service_id),
                    hedge=False,
                )
            made = self._details(server, str(customer.id))
            server_id, name = _int(server.get("id")), server_name(service.service_id)
            if server.get("name") != name and not server.get("built"):
                try:
                    server = client.create_once(
                        lambda: client.build_server(
                            server_id, os_id=self._option(plan, "os", 1), name=name, hostname=hostname
                        ),
                        lambda: _named(client.server(server_id), name),
                    )
                except ProvisioningError as error:
                    error.partial = made
                    raise
        return self._details(server, str(customer.id))

    def _server_id(self, service: ServiceRef) -> int:
        if not service.external_id:
            raise GoneFromPanel("This service has no server on the panel.")
        return _int(service.external_id)

    def status(self, service: ServiceRef) -> ServiceDetails:
        """The server's state now."""
        with self._client() as client:
            return self._details(client.server(self._server_id(service)), service.customer_external_id or "")

    def suspend(self, service: ServiceRef, *, reason: str) -> None:
        """Suspend the server."""
        with self._client() as client:
            client.suspend(self._server_id(service))

    def unsuspend(self, service: ServiceRef) -> None:
        """Lift the suspension."""
        with self._client() as client:
            client.unsuspend(self._server_id(service))

    def terminate(self, service: ServiceRef) -> None:
        """Delete the server now (no grace period: billing already decided)."""
        with self._client() as client:
            client.delete(self._server_id(service), delay_minutes=0)

    def change_package(self, service: ServiceRef, plan: PlanMapping) -> None:
        """Move the server to the plan's package."""
        with self._client() as client:
            client.change_package(self._server_id(service), _int(plan.package))

    def sso_url(self, customer: Customer, service: ServiceRef) -> str:
        """A single-use login URL on the panel, landing on the server."""
        with self._client() as client:
            path = client.server_login_tokens(customer.id, self._server_id(service))
        base = self.config.base_url.rstrip("/").removesuffix("/api/v1")
        return f"{base}{path}"

    def power(self, service: ServiceRef, action: PowerAction) -> None:
        """boot, reboot (restart), shutdown (guest) or power off (forced)."""
        if action not in _POWER:
            raise PanelRejected("This power action is not available for a VPS.")
        with self._client() as client:
            client.power(self._server_id(service), _POWER[action])

    def usage(self, service: ServiceRef) -> tuple[UsageMetric, ...]:
        """This month's traffic (bytes) against the package's allowance (0 = unmetered)."""
        with self._client() as client:
            months = client.traffic(self._server_id(service))
        if not months:
            return ()
        current = months[-1]
        return (
            UsageMetric(
                "Traffic this month", _int(current.get("total")), _int(current.get("limit")) * GB, "bytes"
            ),
        )

    def os_choices(self, service: ServiceRef) -> tuple[OsChoice, ...]:
        """The OS templates the server can be reinstalled with."""
        with self._client() as client:
            templates = client.server_templates(self._server_id(service))
        return tuple(
            OsChoice(str(t.get("id")), f"{t.get('name', '')} {t.get('version', '')}".strip())
            for t in templates
        )

    def reinstall(self, service: ServiceRef, os_id: str) -> ServiceDetails:
        """Rebuild the server with `os_id` (wipes it)."""
        with self._client() as client:
            sid = self._server_id(service)
            current = client.server(sid)
            server = client.build_server(
                sid,
                os_id=_int(os_id),
                name=str(current.get("name") or ""),
                hostname=str(current.get("hostname") or ""),
            )
        return self._details(server, service.customer_external_id or "")


MODULE = VirtFusionModule
