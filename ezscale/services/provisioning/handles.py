"""A service's handles on its panel: reading them as the contract's values, saving what the panel
returned (the moment it returns it), and building the module that serves the service.

The panels are shared by every tenant (a reseller's plans are delivered on the house's panels),
while customer and service ids are each tenant's own: a panel knows them by `panel_key`, unique
across tenants, or a reseller's customer #5 would sign in to the house's customer #5's panel user
and its service #12 adopt the house's server #12.
"""

import json
from dataclasses import dataclass

from sqlmodel import Session, select

from ezscale import clock
from ezscale.db import central_session
from ezscale.errors import NotFound
from ezscale.models.provisioning import ProvisioningPanel, ServiceHandle
from ezscale.models.tenant import Service, User
from ezscale.models.types import row_id
from ezscale.services.provisioning.module import (
    Customer,
    ProvisioningError,
    ProvisioningModule,
    ServiceDetails,
    ServiceRef,
)
from ezscale.services.provisioning.registry import build_module, loads
from ezscale.services.tenancy.tenants import TenantInfo


def handle_of(db: Session, service_id: int) -> ServiceHandle | None:
    """The service's handle row, if it was ever sent to a panel."""
    return db.exec(select(ServiceHandle).where(ServiceHandle.service_id == service_id)).first()


def held_handle(db: Session, service_id: int) -> ServiceHandle:
    """The handle of a service that is on a panel (NotFound when it never was)."""
    handle = handle_of(db, service_id)
    if handle is None:
        raise NotFound("This service is not on a panel.")
    return handle


# Panel keys are numbers (VirtFusion's extRelationId, SynergyCP's billing ids) below 2^31 (a
# panel may keep them in a 32-bit column). The house keeps its own ids (below KEY_SPAN: what it
# delivered before is keyed by them); tenant t's id n is t × KEY_SPAN + n.
KEY_SPAN = 1_000_000
KEY_LIMIT = 2**31 - 1


def _key_base(db: Session) -> int:
    """Where the keys of the tenant whose database `db` is on start (0 for the house)."""
    tenant = db.info.get("tenant")
    if not isinstance(tenant, TenantInfo):
        raise ProvisioningError("This session is on no tenant's database: nothing is sent to a panel.")
    return 0 if tenant.is_house else tenant.id * KEY_SPAN


def panel_key(db: Session, local_id: int) -> int:
    """The number the panels know this tenant's customer or service `local_id` by."""
    key = _key_base(db) + local_id
    if local_id >= KEY_SPAN or key > KEY_LIMIT:
        raise ProvisioningError(f"Record #{local_id} has no panel key (ids run out): staff must act.")
    return key


def service_ref(db: Session, service_id: int, handle: ServiceHandle | None) -> ServiceRef:
    """The contract's reference to a service (with whatever handles are stored)."""
    key = panel_key(db, service_id)
    if handle is None:
        return ServiceRef(key)
    return ServiceRef(key, handle.external_id, handle.customer_external_id, loads(handle.extra))


def customer_of(db: Session, user_id: int) -> Customer:
    """Our customer as the panel user is keyed."""
    user = db.get(User, user_id)
    if user is None:
        raise NotFound("No such customer.")
    return Customer(id=panel_key(db, row_id(user)), email=user.email, name=user.name or user.email)


def save_details(db: Session, handle: ServiceHandle, details: ServiceDetails) -> None:
    """Store what the panel said (not committed); a password only when the panel gave one."""
    handle.external_id = details.external_id or handle.external_id
    handle.customer_external_id = details.customer_external_id or handle.customer_external_id
    handle.hostname = details.hostname or handle.hostname
    handle.ips = ",".join(details.ips) or handle.ips
    handle.ports = ",".join(details.ports) or handle.ports
    handle.username = details.username or handle.username
    if details.password:
        handle.password = details.password
    if details.extra:
        handle.extra = json.dumps({**loads(handle.extra), **dict(details.extra)})
    handle.updated_at = clock.now()
    db.add(handle)


@dataclass(frozen=True, slots=True)
class ServiceContext:
    """Everything a panel call on one delivered service needs."""

    module: ProvisioningModule
    customer: Customer
    ref: ServiceRef
    panel_label: str


def context_for(db: Session, *, service_id: int, user_id: int | None = None) -> ServiceContext:
    """The module, customer and reference of a service on its panel. With `user_id`, the service
    must be that customer's (NotFound otherwise, as for a service with no panel)."""
    service = db.get(Service, service_id)
    if service is None or (user_id is not None and service.user_id != user_id):
        raise NotFound("No such service.")
    handle = handle_of(db, service_id)
    if handle is None:
        raise NotFound("This service is not on a panel.")
    with central_session() as central:
        panel = central.get(ProvisioningPanel, handle.panel_id)
        if panel is None:
            raise NotFound("This service's panel is no longer configured.")
        module, label = build_module(panel), panel.label
    return ServiceContext(
        module, customer_of(db, service.user_id), service_ref(db, service_id, handle), label
    )
