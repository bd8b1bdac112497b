"""What the provisioning pages show, as typed display rows (no Reflex here): the client dashboard,
the customer's service page (the admin's capacity rows are `stock.capacity_view`)."""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlmodel import Session, col, select

from ezscale import clock, routes
from ezscale.errors import DomainError, NotFound
from ezscale.models.kasm import KasmWorkspace, WorkspaceStatus
from ezscale.models.provisioning import JobAction, JobStatus, ProvisioningJob
from ezscale.models.tenant import (
    BillingInterval,
    Invoice,
    InvoiceItem,
    InvoiceStatus,
    Plan,
    Service,
    ServiceStatus,
    Subscription,
    SubscriptionStatus,
)
from ezscale.models.types import existing, row_id
from ezscale.money import Money
from ezscale.services.billing import credits, invoices, timeline
from ezscale.services.billing.views import InvoiceRow, invoice_row
from ezscale.services.catalogue.storefront import kind_label, price_label
from ezscale.services.provisioning.handles import context_for, handle_of
from ezscale.services.provisioning.jobs import provision_key
from ezscale.services.provisioning.module import ProvisioningModule, UsageMetric
from ezscale.services.tenancy.tenants import TenantInfo


@dataclass(frozen=True)
class ServiceSummaryRow:
    """One service on the client dashboard: what it is, what it costs and when it is next due."""

    id: int
    label: str
    plan: str
    kind: str
    status: str
    price: str
    next_due: str
    href: str


@dataclass(frozen=True)
class WorkspaceSummaryRow:
    """One workspace on the client dashboard."""

    id: int
    title: str
    status: str


@dataclass(frozen=True)
class ActivityRow:
    """One recent step of the customer's billing and service timeline."""

    when: str
    message: str


@dataclass(frozen=True)
class ClientDashboard:
    """Everything the client dashboard shows."""

    services: list[ServiceSummaryRow]
    workspaces: list[WorkspaceSummaryRow]
    open_invoices: list[InvoiceRow]
    balance: str
    activity: list[ActivityRow]


def _next_due(sub: Subscription | None) -> str:
    """When the service is next invoiced, or when it ends (cancelling), or "—"."""
    if sub is None or sub.status is SubscriptionStatus.CANCELLED:
        return "—"
    if sub.cancel_at_period_end:
        return f"Ends {sub.current_period_end:%Y-%m-%d}"
    if sub.trial_ends_at is not None and clock.now() < sub.trial_ends_at:
        return f"Free trial to {sub.trial_ends_at:%Y-%m-%d}, then billed"
    due = sub.invoiced_through or sub.current_period_end
    return f"{due:%Y-%m-%d}"


def _subscription_of(session: Session, service_id: int) -> Subscription | None:
    return session.exec(
        select(Subscription)
        .where(Subscription.service_id == service_id)
        .order_by(col(Subscription.id).desc())
    ).first()


def service_rows(session: Session, *, user_id: int) -> list[ServiceSummaryRow]:
    """The customer's recurring services (servers, hosting), newest first, with price and due date."""
    rows = session.exec(
        select(Service, Plan, Subscription)
        .join(Plan, col(Plan.id) == Service.plan_id)
        .join(Subscription, col(Subscription.service_id) == Service.id, isouter=True)
        .where(Service.user_id == user_id, Plan.billing_interval != BillingInterval.HOURLY)
        .order_by(col(Service.created_at).desc(), col(Service.id).desc())
    )
    return [
        ServiceSummaryRow(
            id=row_id(service),
            label=service.label,
            plan=plan.name,
            kind=kind_label(plan),
            status=service.status.value,
            price=price_label(plan),
            next_due=_next_due(sub),
            href=routes.service_path(row_id(service)),
        )
        for service, plan, sub in rows
    ]


def client_dashboard(session: Session, *, tenant: TenantInfo, user_id: int) -> ClientDashboard:
    """The client dashboard: services, workspaces, open invoices, credit and recent activity."""
    workspaces = session.exec(
        select(KasmWorkspace, Service.label)
        .join(Service, col(Service.id) == KasmWorkspace.service_id)
        .where(KasmWorkspace.user_id == user_id, KasmWorkspace.status != WorkspaceStatus.TERMINATED)
        .order_by(col(KasmWorkspace.id).desc())
    )
    open_invoices = [
        invoice_row(i)
        for i in invoices.list_invoices(session, user_id=user_id)
        if i.status is InvoiceStatus.OPEN and invoices.amount_due(i) > 0
    ]
    balance = credits.balance_minor(session, user_id=user_id, currency=tenant.currency)
    return ClientDashboard(
        services=service_rows(session, user_id=user_id),
        workspaces=[WorkspaceSummaryRow(row_id(ws), label, ws.status.value) for ws, label in workspaces],
        open_invoices=open_invoices,
        balance=Money(balance, tenant.currency).format(),
        activity=[
            ActivityRow(f"{e.created_at:%Y-%m-%d %H:%M}", e.message)
            for e in timeline.list_timeline(session, user_id=user_id, limit=8)
        ],
    )


def owned_service(session: Session, *, user_id: int, service_id: int) -> Service:
    """One of the customer's services; another customer's (or no) service is NotFound."""
    service = session.get(Service, service_id)
    if service is None or service.user_id != user_id:
        raise NotFound("No such service.")
    return service


def _module(session: Session, service: Service) -> ProvisioningModule | None:
    """The module of an active service's panel (None when it is not on a configured panel)."""
    if service.status is not ServiceStatus.ACTIVE:
        return None
    try:
        return context_for(session, service_id=row_id(service)).module
    except DomainError:
        return None


def service_invoices(session: Session, *, service: Service) -> list[InvoiceRow]:
    """The issued invoices with a line for this service, newest first."""
    found = session.exec(
        select(Invoice)
        .where(
            Invoice.user_id == service.user_id,
            Invoice.status != InvoiceStatus.DRAFT,
            col(Invoice.id).in_(select(InvoiceItem.invoice_id).where(InvoiceItem.service_id == service.id)),
        )
        .order_by(col(Invoice.issued_at).desc(), col(Invoice.id).desc())
    )
    return [invoice_row(i) for i in found]


def when(moment: datetime | None) -> str:
    """A timestamp as the pages show it ("" for none)."""
    return f"{moment:%Y-%m-%d %H:%M}" if moment else ""


@dataclass(frozen=True)
class PowerButton:
    """One power action the service's module offers."""

    action: str
    label: str
    warning: str


@dataclass(frozen=True)
class ServicePage:
    """The customer's page of one service: what it is, how to reach it, what can be done."""

    id: int
    label: str
    plan: str
    kind: str
    status: str
    status_reason: str
    price: str
    next_due: str
    hostname: str
    ips: str
    ports: str
    has_login: bool
    panel: str
    capabilities: list[str]
    power: list[PowerButton]
    cancellable: bool
    cancels_at: str
    period_end: str
    queued: bool
    removal: str  # a `Removal`: how far removing a terminated service from its panel got


class Removal(StrEnum):
    """How far a terminated service's removal from its panel got, from its last termination job
    (NONE: nothing to remove, it never reached a panel)."""

    NONE = ""
    REMOVING = "removing"  # queued, running or waiting to retry after the panel did not answer
    REMOVED = "removed"
    FAILED = "failed"  # given up: the admins were alerted, staff retry it


def removal(session: Session, service: Service) -> Removal:
    """How far the removal of the service from its panel got (NONE unless it is terminated)."""
    if service.status is not ServiceStatus.TERMINATED:
        return Removal.NONE
    job = session.exec(
        select(ProvisioningJob)
        .where(ProvisioningJob.service_id == service.id, ProvisioningJob.action == JobAction.TERMINATE)
        .order_by(col(ProvisioningJob.id).desc())
    ).first()
    if job is None:
        return Removal.NONE
    done = {JobStatus.DONE: Removal.REMOVED, JobStatus.FAILED: Removal.FAILED}
    return done.get(job.status, Removal.REMOVING)


_POWER = {
    "boot": ("Boot", "The server starts."),
    "reboot": ("Reboot", "The server restarts: connections drop for a minute."),
    "shutdown": ("Shut down", "The operating system is asked to shut down cleanly."),
    "power_off": ("Power off", "Power is cut at once, like pulling the plug: unsaved data is lost."),
    "start": ("Start", "The server starts."),
    "stop": ("Stop", "The server stops: players are disconnected."),
    "restart": ("Restart", "The server restarts: players are disconnected."),
    "kill": ("Kill", "The server process is killed at once: unsaved progress is lost."),
}


def power_label(action: str) -> str:
    """A power action as its button reads."""
    return _POWER[action][0]


def service_page(session: Session, *, user_id: int, service_id: int) -> ServicePage:
    """One of the customer's services (NotFound for another customer's)."""
    service = owned_service(session, user_id=user_id, service_id=service_id)
    plan = existing(session, Plan, service.plan_id)
    sub = _subscription_of(session, service_id)
    handle = handle_of(session, service_id)
    module = _module(session, service)
    capabilities = sorted(c.value for c in module.capabilities) if module else []
    actions = [a.value for a in module.power_actions] if module and "power" in capabilities else []
    running = sub is not None and sub.status is not SubscriptionStatus.CANCELLED
    return ServicePage(
        id=service_id,
        label=service.label,
        plan=plan.name,
        kind=kind_label(plan),
        status=service.status.value,
        status_reason=service.status_reason,
        price=price_label(plan),
        next_due=_next_due(sub),
        hostname=handle.hostname if handle else "",
        ips=", ".join(i for i in (handle.ips if handle else "").split(",") if i),
        ports=", ".join(p for p in (handle.ports if handle else "").split(",") if p),
        has_login=bool(handle and (handle.username or handle.password))
        and service.status is not ServiceStatus.TERMINATED,
        panel=module.label if module else "",
        capabilities=capabilities,
        power=[PowerButton(a, *_POWER[a]) for a in actions if a in _POWER],
        cancellable=sub is not None and running and not sub.cancel_at_period_end,
        cancels_at=f"{sub.current_period_end:%Y-%m-%d}"
        if sub and running and sub.cancel_at_period_end
        else "",
        period_end=f"{sub.current_period_end:%Y-%m-%d}" if sub else "",
        queued=service.status is ServiceStatus.PENDING
        and session.exec(
            select(ProvisioningJob.id).where(ProvisioningJob.key == provision_key(service_id))
        ).first()
        is not None,
        removal=removal(session, service).value,
    )


def service_status(session: Session, *, user_id: int, service_id: int) -> tuple[str, str, str]:
    """(status, reason, removal) of one of the customer's services: the cheap read the live page
    polls."""
    service = owned_service(session, user_id=user_id, service_id=service_id)
    return service.status.value, service.status_reason, removal(session, service).value


@dataclass(frozen=True)
class UsageRow:
    """One usage figure as the service page shows it."""

    label: str
    text: str
    percent: int


def _amount(value: int, unit: str) -> str:
    """A usage figure in its unit; bytes in GB with two places."""
    return f"{value / 1_000_000_000:.2f} GB" if unit == "bytes" else f"{value} {unit}"


def _used_of(m: UsageMetric) -> str:
    """A used-of-limit figure: 12.00 GB of 1000.00 GB, 1 of 5 websites (a count names its unit once)."""
    if m.unit == "bytes":
        return f"{_amount(m.used, m.unit)} of {_amount(m.limit, m.unit)}"
    return f"{m.used} of {_amount(m.limit, m.unit)}"


def usage_rows(metrics: list[UsageMetric]) -> list[UsageRow]:
    """Usage figures formatted: "12.00 GB of 1000.00 GB", "1 of 5 websites" (or "… (unlimited)")
    and a percentage."""
    return [
        UsageRow(
            m.label,
            _used_of(m) if m.limit else f"{_amount(m.used, m.unit)} (unlimited)",
            min(100, m.used * 100 // m.limit) if m.limit else 0,
        )
        for m in metrics
    ]
