"""Finding a customer's service and what reaches it on its panel: the handle stored by
provisioning, the contract's `ServiceRef`, and the panel's module."""

from sqlmodel import Session, select

from ezscale.db import central_session
from ezscale.errors import DomainError, NotFound
from ezscale.models.provisioning import ServiceHandle
from ezscale.models.tenant import Service
from ezscale.services.provisioning import registry
from ezscale.services.provisioning.module import ProvisioningModule, ServiceRef


def owned_service(session: Session, *, user_id: int, service_id: int) -> Service:
    """One of the customer's services; another customer's (or no) service is NotFound."""
    service = session.get(Service, service_id)
    if service is None or service.user_id != user_id:
        raise NotFound("No such service.")
    return service


def handle_of(session: Session, *, service_id: int) -> ServiceHandle | None:
    """Where the service lives on its panel (None until provisioning created it)."""
    return session.exec(select(ServiceHandle).where(ServiceHandle.service_id == service_id)).first()


def service_ref(handle: ServiceHandle) -> ServiceRef:
    """The module contract's handle of a service."""
    return ServiceRef(
        service_id=handle.service_id,
        external_id=handle.external_id,
        customer_external_id=handle.customer_external_id,
        extra=registry.loads(handle.extra),
    )


def module_of(handle: ServiceHandle | None) -> ProvisioningModule | None:
    """The module of the panel the service lives on (None without a handle or when the panel is
    gone or its module is not installed)."""
    if handle is None:
        return None
    with central_session() as central:
        try:
            return registry.panel_module(central, handle.panel_id)
        except DomainError:
            return None
