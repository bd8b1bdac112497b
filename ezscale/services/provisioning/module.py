"""The contract every provisioning module meets, and the typed values that cross it.

A module speaks to one panel through its client and knows nothing of our database: it takes
plain values (`Customer`, `PlanMapping`, `ServiceRef`) and returns plain values. The job that
drives it (state machine, logs, retries, refunds) lives beside it and is product-blind.

Idempotency is part of the contract: `create` must be safe to call again for the same service
(find-or-create of the panel user by our customer id; the server found by our service id where
the panel keeps one, else by the id the caller persisted from an earlier attempt), and `find`
returns what an earlier, possibly timed-out, `create` left on the panel so it can be adopted.

Errors are the classes below, never a raw httpx or JSON error: the job retries `PanelUnavailable`
and `PanelBusy`, stops on `PanelRejected`, treats `GoneFromPanel` as done for suspend/terminate,
and shows `NeedsStaff` to staff. Their messages are safe to show a customer.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import ClassVar, Protocol

from ezscale.errors import DomainError


class Capability(StrEnum):
    """What a module supports beyond create/suspend/unsuspend/terminate (which all must)."""

    CHANGE_PACKAGE = "change_package"
    SSO = "sso"
    POWER = "power"
    USAGE = "usage"
    REINSTALL = "reinstall"


class PowerAction(StrEnum):
    """Power actions as the customer sees them; a module lists the ones its product has."""

    BOOT = "boot"
    REBOOT = "reboot"
    SHUTDOWN = "shutdown"
    POWER_OFF = "power_off"
    START = "start"
    STOP = "stop"
    RESTART = "restart"
    KILL = "kill"


class ProvisioningError(DomainError):
    """A panel call that did not do what was asked; the message is safe to show.

    `partial` is what a multi-step `create` had already made on the panel when a later step
    failed (e.g. the VirtFusion server exists but its build call timed out): the job persists
    its handles at once, so the retry resumes instead of making a second one."""

    partial: "ServiceDetails | None" = None


class PanelUnavailable(ProvisioningError):
    """Timeout, connection failure, 5xx, 429 or a malformed reply: retry later (the call may
    have been carried out — look it up before repeating a create)."""


class PanelBusy(ProvisioningError):
    """The panel is busy with the resource (VirtFusion 423, Pterodactyl 409): retry later."""


class PanelRejected(ProvisioningError):
    """The panel refused the request (4xx validation, bad credentials): retrying will not help."""


class OutOfStock(ProvisioningError):
    """No capacity left for the plan (no node, hypervisor, allocation, IP or inventory)."""


class GoneFromPanel(ProvisioningError):
    """The service (or user) is not on the panel: done, for suspend and terminate."""


class NeedsStaff(ProvisioningError):
    """The panel skipped the action by its own policy (SynergyCP VIP clients): staff must act."""


@dataclass(frozen=True, slots=True)
class PanelConfig:
    """One configured panel: its base URL, decrypted credentials and module options."""

    module: str
    base_url: str
    credentials: Mapping[str, str]
    options: Mapping[str, str] = field(default_factory=dict)
    timeout_seconds: float = 60.0


@dataclass(frozen=True, slots=True)
class PlanMapping:
    """What a plan is on the panel: the package / egg / plan / inventory filter and options
    (location, node group, OS template, docker image, limits)."""

    package: str
    options: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Customer:
    """Our customer as the panel user is keyed: `id` is the customer's panel key (its external
    id there: `handles.panel_key`, unique across tenants)."""

    id: int
    email: str
    name: str
    # Set by the job when no service of this customer was ever sent to this panel: `create` may
    # make the panel user without looking for it first (the panel refuses a duplicate, which is
    # then looked up: one call less for a new customer).
    fresh: bool = False


@dataclass(frozen=True, slots=True)
class ServiceRef:
    """Our service and the handles an earlier call stored for it on the panel; `service_id` is
    the service's panel key (`handles.panel_key`, unique across tenants).

    `fresh` is set by the job on a create's first attempt, when no earlier call can have left
    anything on the panel for this service: `create` may skip looking for it (one panel call
    less per delivery). A retry, or a step re-run after a worker died, is never fresh."""

    service_id: int
    external_id: str | None = None
    customer_external_id: str | None = None
    extra: Mapping[str, str] = field(default_factory=dict)
    fresh: bool = False


@dataclass(frozen=True, slots=True)
class Stock:
    """How many more of a plan the panel can take now; `None` means the panel has no capacity
    API and is not limited by us (Enhance)."""

    available: int | None
    detail: str = ""

    @property
    def in_stock(self) -> bool:
        """Whether one more can be sold."""
        return self.available is None or self.available > 0


class BuildState(StrEnum):
    """Where a service stands on the panel."""

    BUILDING = "building"
    READY = "ready"
    FAILED = "failed"
    SUSPENDED = "suspended"


@dataclass(frozen=True, slots=True)
class ServiceDetails:
    """What the panel says of a service: its handles, build state and how to reach it.

    `password` is only set when the panel returns one (on create or reinstall); the job stores it
    encrypted and never asks again."""

    external_id: str
    customer_external_id: str
    state: BuildState
    hostname: str = ""
    ips: tuple[str, ...] = ()
    ports: tuple[str, ...] = ()
    username: str = ""
    password: str = ""
    extra: Mapping[str, str] = field(default_factory=dict)
    message: str = ""


@dataclass(frozen=True, slots=True)
class UsageMetric:
    """One usage figure: used of limit (limit 0 means unlimited), in `unit`."""

    label: str
    used: int
    limit: int
    unit: str


@dataclass(frozen=True, slots=True)
class OsChoice:
    """An operating system (or egg variant) a service can be reinstalled with."""

    id: str
    name: str


class ProvisioningModule(Protocol):
    """One product's panel. Every module implements the lifecycle; the optional actions are
    those named in `capabilities` (the UI shows only those, so they are never errors)."""

    name: ClassVar[str]
    label: ClassVar[str]
    capabilities: ClassVar[frozenset[Capability]]
    power_actions: ClassVar[tuple[PowerAction, ...]]

    def __init__(self, config: PanelConfig) -> None:
        """A module is built from its panel's plain configuration."""

    def test_connection(self) -> str:
        """A cheap authenticated call; returns a short description of what answered."""
        ...

    def check_capacity(self, plan: PlanMapping) -> Stock:
        """How many more of `plan` fit now (run before taking money and again at create)."""
        ...

    def find(self, customer: Customer, service: ServiceRef) -> ServiceDetails | None:
        """What an earlier create left on the panel for this service, or None."""
        ...

    def create(
        self, customer: Customer, service: ServiceRef, plan: PlanMapping, *, hostname: str
    ) -> ServiceDetails:
        """Create (or adopt) the panel user and the service; returns at once with the handles
        (state BUILDING until the panel finishes). Safe to call again for the same service."""
        ...

    def status(self, service: ServiceRef) -> ServiceDetails:
        """The service's current state on the panel (polled until READY or FAILED)."""
        ...

    def suspend(self, service: ServiceRef, *, reason: str) -> None:
        """Suspend; `GoneFromPanel` if it is not there."""
        ...

    def unsuspend(self, service: ServiceRef) -> None:
        """Lift a suspension."""
        ...

    def terminate(self, service: ServiceRef) -> None:
        """Remove the service from the panel for good; `GoneFromPanel` if already gone."""
        ...

    def change_package(self, service: ServiceRef, plan: PlanMapping) -> None:
        """Move the service to another package (Capability.CHANGE_PACKAGE)."""
        ...

    def sso_url(self, customer: Customer, service: ServiceRef) -> str:
        """A single-use URL that signs the customer into the panel at this service (Capability.SSO)."""
        ...

    def power(self, service: ServiceRef, action: PowerAction) -> None:
        """Send a power action from `power_actions` (Capability.POWER)."""
        ...

    def usage(self, service: ServiceRef) -> tuple[UsageMetric, ...]:
        """Traffic and resource usage (Capability.USAGE); empty when the panel says unavailable."""
        ...

    def os_choices(self, service: ServiceRef) -> tuple[OsChoice, ...]:
        """What the service can be reinstalled with (Capability.REINSTALL)."""
        ...

    def reinstall(self, service: ServiceRef, os_id: str) -> ServiceDetails:
        """Reinstall with `os_id` (Capability.REINSTALL); state BUILDING until done."""
        ...
