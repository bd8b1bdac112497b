"""What a customer does to their own provisioned service, through its module's contract: power,
one-click sign-in to the panel (SSO), credentials revealed on demand, OS reinstall and usage.

Only the actions the module lists in `capabilities` (and, for power, `power_actions`) are
allowed; anything else is refused as if it did not exist. Every call checks the service is the
customer's own (another customer's id is NotFound), is audited, and the changes that matter to
the customer (power, reinstall, credentials revealed) go on their timeline. Plan changes and
cancellation are in `plan_changes.py`.
"""

from dataclasses import dataclass

from sqlmodel import Session

from ezscale.errors import DomainError, NotFound
from ezscale.models.provisioning import ServiceHandle
from ezscale.models.tenant import Service, ServiceStatus
from ezscale.services.accounts.sessions import AuthUser
from ezscale.services.billing import timeline
from ezscale.services.core.audit import record_audit
from ezscale.services.provisioning.handles import context_for, handle_of, save_details
from ezscale.services.provisioning.module import (
    Capability,
    Customer,
    OsChoice,
    PowerAction,
    ProvisioningModule,
    ServiceRef,
    UsageMetric,
)
from ezscale.services.provisioning.registry import loads
from ezscale.services.provisioning.view import owned_service, power_label


@dataclass(frozen=True, slots=True)
class Connected:
    """A customer's live service with the module that reaches it on its panel."""

    service: Service
    handle: ServiceHandle
    module: ProvisioningModule
    ref: ServiceRef
    customer: Customer

    def require(self, capability: Capability) -> None:
        """Refuse an action the module does not offer (the page never shows it)."""
        if capability not in self.module.capabilities:
            raise NotFound("This service does not offer that action.")


def connect(session: Session, *, user_id: int, service_id: int) -> Connected:
    """The customer's service and its module, ready for an action on the panel.

    NotFound for another customer's service; DomainError while it is not active (being built,
    suspended, terminated) or not on a panel."""
    service = owned_service(session, user_id=user_id, service_id=service_id)
    if service.status is not ServiceStatus.ACTIVE:
        raise DomainError(f"This service is {service.status.value}: actions are available once it is active.")
    context = context_for(session, service_id=service_id, user_id=user_id)
    handle = handle_of(session, service_id)
    if handle is None or not handle.external_id:
        raise DomainError("This service is not on its panel yet.")
    return Connected(service, handle, context.module, context.ref, context.customer)


def _note(session: Session, actor: AuthUser, service: Service, kind: str, message: str, ip: str) -> None:
    """Put the step on the customer's timeline, commit, then audit it (a tenant change)."""
    timeline.record(session, user_id=service.user_id, kind=kind, message=f"{service.label}: {message}")
    session.commit()
    record_audit(
        actor=actor, action=f"service.{kind}", target=f"service:{service.id}", after={"what": message}, ip=ip
    )


def power(session: Session, *, actor: AuthUser, service_id: int, action: str, ip: str = "") -> str:
    """Send a power action the module offers; returns what was done, for the page."""
    live = connect(session, user_id=actor.id, service_id=service_id)
    live.require(Capability.POWER)
    try:
        chosen = PowerAction(action)
    except ValueError:
        raise NotFound("This service does not offer that action.") from None
    if chosen not in live.module.power_actions:
        raise NotFound("This service does not offer that action.")
    live.module.power(live.ref, chosen)
    done = f"{power_label(chosen.value)} sent"
    _note(session, actor, live.service, "power", done, ip)
    return done


def sso_url(session: Session, *, actor: AuthUser, service_id: int, ip: str = "") -> str:
    """A single-use URL that signs the customer into the panel at this service (audited)."""
    live = connect(session, user_id=actor.id, service_id=service_id)
    live.require(Capability.SSO)
    url = live.module.sso_url(live.customer, live.ref)
    record_audit(actor=actor, action="service.sso", target=f"service:{service_id}", ip=ip)
    return url


@dataclass(frozen=True, slots=True)
class Credentials:
    """The service's login, decrypted for the customer who asked for it."""

    username: str
    password: str
    sftp_address: str = ""  # game servers: where files are uploaded (sftp://host:port)
    sftp_user: str = ""


def reveal_credentials(session: Session, *, actor: AuthUser, service_id: int, ip: str = "") -> Credentials:
    """The service's login (stored encrypted), shown on demand; every reveal is audited and on
    the customer's timeline."""
    service = owned_service(session, user_id=actor.id, service_id=service_id)
    handle = handle_of(session, service_id)
    if handle is None or not (handle.username or handle.password):
        raise DomainError("This service has no login to show.")
    if service.status is ServiceStatus.TERMINATED:
        raise DomainError("This service is terminated.")
    _note(session, actor, service, "credentials_revealed", "login details shown", ip)
    extra = loads(handle.extra)
    return Credentials(
        username=handle.username,
        password=handle.password or "",
        sftp_address=str(extra.get("sftp_address") or ""),
        sftp_user=str(extra.get("sftp_user") or ""),
    )


def os_choices(session: Session, *, user_id: int, service_id: int) -> list[OsChoice]:
    """What the service can be reinstalled with."""
    live = connect(session, user_id=user_id, service_id=service_id)
    live.require(Capability.REINSTALL)
    choices = list(live.module.os_choices(live.ref))
    if not choices:  # e.g. a SynergyCP panel with no OS profiles configured
        raise DomainError(
            "No operating system is offered for reinstalling this service; please contact support."
        )
    return choices


def reinstall(session: Session, *, actor: AuthUser, service_id: int, os_id: str, ip: str = "") -> str:
    """Reinstall with one of the offered systems (everything on the disk is lost); a new password
    the panel returns replaces the stored one, encrypted."""
    live = connect(session, user_id=actor.id, service_id=service_id)
    live.require(Capability.REINSTALL)
    choices = {c.id: c.name for c in live.module.os_choices(live.ref)}
    if os_id not in choices:
        raise DomainError("Choose an operating system from the list.")
    save_details(session, live.handle, live.module.reinstall(live.ref, os_id))
    done = f"reinstall with {choices[os_id]} started"
    _note(session, actor, live.service, "reinstall", done, ip)
    return done


def usage(session: Session, *, user_id: int, service_id: int) -> list[UsageMetric]:
    """Traffic and resource usage from the panel (empty when the panel has none to give)."""
    live = connect(session, user_id=user_id, service_id=service_id)
    live.require(Capability.USAGE)
    return list(live.module.usage(live.ref))
